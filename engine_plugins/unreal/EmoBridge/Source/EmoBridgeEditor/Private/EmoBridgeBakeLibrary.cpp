// EmoBridgeBakeLibrary.cpp - see the header. Glue: sidecar frames in, AnimSequence curves out.
#include "EmoBridgeBakeLibrary.h"

#include "Animation/AnimData/IAnimationDataController.h"
#include "Animation/AnimSequence.h"
#include "AssetRegistry/AssetRegistryModule.h"
#include "EmoBridgeEmotionArrays.h"
#include "EmoBridgeGlue.h"
#include "EmoBridgeModule.h"
#include "Misc/Paths.h"
#include "Modules/ModuleManager.h"
#include "Sound/SoundWave.h"
#include "UObject/Package.h"

#include "emobridge.h"

IMPLEMENT_MODULE(FDefaultModuleImpl, EmoBridgeEditor)

namespace
{
// Streams the whole clip through the sidecar and returns every frame (empty on failure).
TArray<eb_frame> StreamClip(const TArray<uint8>& Pcm, uint32 SampleRate, uint16 NumChannels, const FString& Address,
	const TMap<FName, float>& Emotion, float Fps, int64 Seed)
{
	TArray<eb_frame> Frames;
	eb_client* Client = nullptr;
	if (eb_client_connect(TCHAR_TO_UTF8(*Address), 5000, &Client) != EB_OK)
	{
		UE_LOG(LogEmoBridge, Error, TEXT("Bake: cannot reach %s: %s"), *Address, UTF8_TO_TCHAR(eb_last_error()));
		return Frames;
	}
	const FEmoBridgeEmotionArrays Initial(Emotion);
	eb_stream_config Config;
	eb_stream_config_init(&Config);
	Config.sample_rate = SampleRate;
	Config.channels = NumChannels;
	Config.fps = Fps;
	Config.seed = uint64(Seed);
	Config.reconnect = 0;                 // a bake should fail loudly, not resume half-way
	Config.frame_queue_capacity = 65536;  // keep every frame
	Config.emotion_names = Initial.Names.GetData();
	Config.emotion_values = Initial.Values.GetData();
	Config.emotion_count = Initial.Num();
	eb_stream* Stream = nullptr;
	if (eb_stream_open(Client, &Config, &Stream) == EB_OK)
	{
		// Push everything, retrying while the outbound queue is full (the sidecar runs at model speed).
		emobridge_ue::AudioFeeder Feeder(reinterpret_cast<const int16_t*>(Pcm.GetData()), size_t(Pcm.Num()) / (2 * NumChannels), NumChannels);
		TArray<eb_frame> Scratch;
		Scratch.SetNumUninitialized(1024);
		int32 State = EB_STATE_CONNECTING;
		bool bEnded = false;
		while (true)
		{
			const int32 Rc = Feeder.Feed(Stream, SampleRate);  // one second per call
			if (Rc != EB_OK && Rc != EB_ERR_QUEUE_FULL)
			{
				break;
			}
			if (Feeder.Done() && !bEnded)
			{
				bEnded = eb_stream_end_audio(Stream) == EB_OK;
			}
			eb_stream_wait(Stream, Rc == EB_ERR_QUEUE_FULL ? 50 : 0);
			size_t Count = 0;
			eb_stream_drain(Stream, Scratch.GetData(), size_t(Scratch.Num()), &Count);
			Frames.Append(Scratch.GetData(), int32(Count));
			eb_stream_get_state(Stream, &State);
			if (Count == 0 && (State == EB_STATE_ENDED || State == EB_STATE_FAILED))
			{
				break;
			}
		}
		if (State != EB_STATE_ENDED)
		{
			char Error[512] = "";
			eb_stream_get_error(Stream, Error, sizeof(Error), nullptr);
			UE_LOG(LogEmoBridge, Error, TEXT("Bake: stream ended in state %s: %s"), UTF8_TO_TCHAR(eb_state_name(State)), UTF8_TO_TCHAR(Error));
			Frames.Reset();
		}
		eb_stream_close(Stream);
	}
	eb_client_close(Client);
	return Frames;
}
}  // namespace

UAnimSequence* UEmoBridgeBakeLibrary::BakeSoundWaveToAnimSequence(USoundWave* Sound, USkeleton* Skeleton, const FString& PackagePath,
	const FString& ServerAddress, const TMap<FName, float>& Emotion, float Fps, int64 Seed)
{
	if (!Sound || !Skeleton || !FEmoBridgeModule::IsNativeReady() || Fps <= 0.f)
	{
		UE_LOG(LogEmoBridge, Error, TEXT("Bake: need a SoundWave, a Skeleton, Fps > 0 and the native core loaded"));
		return nullptr;
	}
	TArray<uint8> Pcm;
	uint32 SampleRate = 0;
	uint16 NumChannels = 0;
	if (!Sound->GetImportedSoundWaveData(Pcm, SampleRate, NumChannels) || NumChannels == 0)
	{
		UE_LOG(LogEmoBridge, Error, TEXT("Bake: %s has no imported PCM data"), *Sound->GetName());
		return nullptr;
	}
	const TArray<eb_frame> Frames = StreamClip(Pcm, SampleRate, NumChannels, ServerAddress, Emotion, Fps, Seed);
	if (Frames.Num() < 2)
	{
		return nullptr;
	}

	const FString Name = Sound->GetName() + TEXT("_EmoBridge");
	UPackage* Package = CreatePackage(*FPaths::Combine(PackagePath, Name));
	UAnimSequence* Anim = NewObject<UAnimSequence>(Package, *Name, RF_Public | RF_Standalone);
	Anim->SetSkeleton(Skeleton);

	// One bracket = one undo step and one model rebuild. Frame rate and length first, then the curves.
	IAnimationDataController& Controller = Anim->GetController();
	Controller.OpenBracket(NSLOCTEXT("EmoBridge", "Bake", "EmoBridge bake"));
	Controller.InitializeModel();
	const int32 Rate = FMath::RoundToInt(Fps);
	Controller.SetFrameRate(FFrameRate(Rate, 1));
	Controller.SetNumberOfFrames(FFrameNumber(Frames.Num() - 1));
	float Values[emobridge_ue::kLiveLinkCurveCount];
	TArray<TArray<FRichCurveKey>> Keys;
	Keys.SetNum(emobridge_ue::kLiveLinkCurveCount);
	for (const eb_frame& Frame : Frames)
	{
		emobridge_ue::LiveLinkValuesFromFrame(Frame, Values);
		for (int32 c = 0; c < emobridge_ue::kLiveLinkCurveCount; ++c)
		{
			Keys[c].Emplace(float(Frame.index) / float(Rate), Values[c]);
		}
	}
	for (int32 c = 0; c < emobridge_ue::kLiveLinkCurveCount; ++c)
	{
		const FAnimationCurveIdentifier Curve(FName(emobridge_ue::kLiveLinkCurveNames[c]), ERawCurveTrackTypes::RCT_Float);
		Controller.AddCurve(Curve);
		Controller.SetCurveKeys(Curve, Keys[c]);
	}
	Controller.NotifyPopulated();
	Controller.CloseBracket();

	Anim->MarkPackageDirty();
	FAssetRegistryModule::AssetCreated(Anim);
	UE_LOG(LogEmoBridge, Log, TEXT("Bake: %s -> %s (%d frames at %d fps)"), *Sound->GetName(), *Anim->GetPathName(), Frames.Num(), Rate);
	return Anim;
}
