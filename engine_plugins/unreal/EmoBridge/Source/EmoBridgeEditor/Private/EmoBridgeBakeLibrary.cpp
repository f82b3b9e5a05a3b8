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
// Bakes the whole clip in one call to the sidecar and returns every frame (empty on failure).
TArray<eb_frame> BakeClip(const TArray<uint8>& Pcm, uint32 SampleRate, uint16 NumChannels, const FString& Address,
	const TMap<FName, float>& Emotion, const TArray<FEmoBridgeEmotionKey>& EmotionKeys, float Fps, int64 Seed,
	const FString& Transcript, bool bRecognizeWords)
{
	TArray<eb_frame> Frames;
	eb_client* Client = nullptr;
	if (eb_client_connect(TCHAR_TO_UTF8(*Address), 5000, &Client) != EB_OK)
	{
		UE_LOG(LogEmoBridge, Error, TEXT("Bake: cannot reach %s: %s"), *Address, UTF8_TO_TCHAR(eb_last_error()));
		return Frames;
	}
	const FEmoBridgeEmotionArrays Initial(Emotion);
	const FTCHARToUTF8 Text(*Transcript);
	eb_bake_config Config;
	eb_bake_config_init(&Config);
	Config.sample_rate = SampleRate;
	Config.channels = NumChannels;
	Config.fps = Fps;
	Config.seed = uint64(Seed);
	Config.transcript = Text.Get();
	Config.recognize_words = bRecognizeWords ? 1 : 0;
	Config.emotion_names = Initial.Names.GetData();
	Config.emotion_values = Initial.Values.GetData();
	Config.emotion_count = Initial.Num();
	// Each key's name arrays must stay put while the keys point at them: reserved, never reallocated.
	TArray<FEmoBridgeEmotionArrays> KeyArrays;
	KeyArrays.Reserve(EmotionKeys.Num());
	TArray<eb_emotion_key> Keys;
	for (const FEmoBridgeEmotionKey& Key : EmotionKeys)
	{
		const FEmoBridgeEmotionArrays& Arrays = KeyArrays.Emplace_GetRef(Key.Emotion);
		Keys.Add({double(Key.TimeSeconds), Key.TransitionSeconds, Arrays.Names.GetData(), Arrays.Values.GetData(), Arrays.Num()});
	}
	Config.emotion_keys = Keys.GetData();
	Config.emotion_key_count = uint32(Keys.Num());
	const size_t SampleFrames = size_t(Pcm.Num()) / (2 * NumChannels);
	Frames.SetNumZeroed(int32(eb_bake_max_frames(SampleFrames, SampleRate, Fps)));
	TArray<char> Meta;
	Meta.SetNumZeroed(65536);
	eb_bake_info Info = {};  // zeroed: fields this code does not set must not point anywhere
	Info.struct_size = sizeof(Info);
	Info.meta_json = Meta.GetData();  // ABI 5: e.g. the recognised words, a transcript's unknown words
	Info.meta_json_capacity = size_t(Meta.Num());
	size_t Count = 0;
	if (eb_bake_s16(Client, &Config, reinterpret_cast<const int16_t*>(Pcm.GetData()), SampleFrames, Frames.GetData(),
			size_t(Frames.Num()), &Count, &Info) == EB_OK)
	{
		Frames.SetNum(int32(Count));
		UE_LOG(LogEmoBridge, Log, TEXT("Bake: %d frames by the %s route; %s"), Frames.Num(), UTF8_TO_TCHAR(Info.route),
			UTF8_TO_TCHAR(Meta.GetData()));
	}
	else
	{
		UE_LOG(LogEmoBridge, Error, TEXT("Bake: %s"), UTF8_TO_TCHAR(eb_last_error()));
		Frames.Reset();
	}
	eb_client_close(Client);
	return Frames;
}
}  // namespace

UAnimSequence* UEmoBridgeBakeLibrary::BakeSoundWaveToAnimSequence(USoundWave* Sound, USkeleton* Skeleton, const FString& PackagePath,
	const FString& ServerAddress, const TMap<FName, float>& Emotion, float Fps, int64 Seed, const FString& Transcript,
	bool bRecognizeWords)
{
	return BakeSoundWaveWithEmotionKeys(Sound, Skeleton, PackagePath, ServerAddress, Emotion, {}, Fps, Seed, Transcript,
		bRecognizeWords);
}

UAnimSequence* UEmoBridgeBakeLibrary::BakeSoundWaveWithEmotionKeys(USoundWave* Sound, USkeleton* Skeleton,
	const FString& PackagePath, const FString& ServerAddress, const TMap<FName, float>& Emotion,
	const TArray<FEmoBridgeEmotionKey>& EmotionKeys, float Fps, int64 Seed, const FString& Transcript, bool bRecognizeWords)
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
	const TArray<eb_frame> Frames = BakeClip(Pcm, SampleRate, NumChannels, ServerAddress, Emotion, EmotionKeys, Fps, Seed, Transcript,
		bRecognizeWords);
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
