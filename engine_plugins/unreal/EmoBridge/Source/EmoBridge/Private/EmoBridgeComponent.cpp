// EmoBridgeComponent.cpp - glue between Unreal and the C ABI (emobridge.h). See the header.
#include "EmoBridgeComponent.h"

#include "AudioCaptureCore.h"
#include "Components/AudioComponent.h"
#include "EmoBridgeEmotionArrays.h"
#include "EmoBridgeGlue.h"
#include "EmoBridgeLiveLinkSource.h"
#include "EmoBridgeModule.h"
#include "Kismet/GameplayStatics.h"
#include "Sound/SoundWave.h"

#include "emobridge.h"

// Native handles and the engine-free helpers, kept out of the header so it needs no emobridge.h.
struct FEmoBridgeRuntime
{
	eb_client* Client = nullptr;
	eb_stream* Stream = nullptr;       // the clip or voice stream in use (one at a time)
	emobridge_ue::ClipPlayer Baked;    // or, with bBakeWholeClip, the Speak() clip baked whole
	bool bClip = false;                // Stream or Baked plays a Speak() clip (else Stream is the microphone)
	bool bEnded = false;               // eb_stream_end_audio was called for the clip
	uint32 SampleRate = 16000;
	double ClipStart = 0.0;            // FPlatformTime::Seconds() when the clip started
	emobridge_ue::AudioFeeder Feeder;
	emobridge_ue::FrameTimeline Timeline;
	TUniquePtr<Audio::FAudioCapture> Mic;
	TArray<eb_frame> Scratch;

	void CloseStream()
	{
		if (Mic)
		{
			Mic->CloseStream();  // stops the callback before the stream it pushes into goes away
			Mic.Reset();
		}
		if (Stream)
		{
			eb_stream_close(Stream);
			Stream = nullptr;
		}
		Baked.Close();
		Timeline.Clear();
	}
	bool Speaking() const { return bClip && (Stream || Baked.IsOpen()); }
	~FEmoBridgeRuntime()
	{
		CloseStream();
		if (Client)
		{
			eb_client_close(Client);
		}
	}
};

namespace
{
// The fields a stream's and a bake's config share (eb_stream_config, eb_bake_config), from the component's properties.
template <class TConfig>
void FillSharedConfig(TConfig& Config, uint32 SampleRate, uint32 NumChannels, float Fps, int64 Seed, float MouthPreservation,
	const FEmoBridgeEmotionArrays& Initial)
{
	Config.sample_rate = SampleRate;
	Config.channels = NumChannels;
	Config.fps = Fps;
	Config.seed = uint64(Seed);
	Config.mouth_preservation = MouthPreservation;
	Config.emotion_names = Initial.Names.GetData();
	Config.emotion_values = Initial.Values.GetData();
	Config.emotion_count = Initial.Num();
}
}  // namespace

UEmoBridgeComponent::UEmoBridgeComponent()
{
	PrimaryComponentTick.bCanEverTick = true;
	PrimaryComponentTick.TickGroup = TG_PrePhysics;  // frames reach Live Link before animation evaluates
	Curves.Init(0.f, emobridge_ue::kLiveLinkCurveCount);
}

bool UEmoBridgeComponent::Check(int32 Result, const TCHAR* What)
{
	if (Result >= 0)
	{
		return true;
	}
	LastError = FString::Printf(TEXT("%s: %s (%s)"), What, UTF8_TO_TCHAR(eb_result_name(Result)), UTF8_TO_TCHAR(eb_last_error()));
	UE_LOG(LogEmoBridge, Warning, TEXT("EmoBridge [%s]: %s"), *SubjectName.ToString(), *LastError);
	return false;
}

bool UEmoBridgeComponent::Connect(float TimeoutSeconds)
{
	if (!FEmoBridgeModule::IsNativeReady())
	{
		LastError = TEXT("the native core is not loaded (see the log)");
		return false;
	}
	if (!Runtime)
	{
		Runtime = MakeShared<FEmoBridgeRuntime>();
	}
	if (Runtime->Client)
	{
		return true;
	}
	return Check(eb_client_connect(TCHAR_TO_UTF8(*ServerAddress), uint32(FMath::Max(0.f, TimeoutSeconds) * 1000.f), &Runtime->Client),
		TEXT("connect"));
}

void UEmoBridgeComponent::Disconnect()
{
	StopSpeaking();
	Runtime.Reset();  // closes streams and the client
	if (TSharedPtr<FEmoBridgeLiveLinkSource> Source = FEmoBridgeLiveLinkSource::Find())
	{
		Source->RemoveSubject(SubjectName);
	}
}

bool UEmoBridgeComponent::OpenStream(uint32 SampleRate, uint32 NumChannels, bool bClip)
{
	if (!Connect())
	{
		return false;
	}
	Runtime->CloseStream();
	eb_stream_config Config;
	eb_stream_config_init(&Config);
	// The initial emotion is copied by eb_stream_open, so the temporaries below may go afterwards.
	const FEmoBridgeEmotionArrays Initial(Emotion);
	FillSharedConfig(Config, SampleRate, NumChannels, Fps, Seed, MouthPreservation, Initial);
	Config.frame_queue_capacity = 1024;
	if (!Check(eb_stream_open(Runtime->Client, &Config, &Runtime->Stream), TEXT("open stream")))
	{
		return false;
	}
	// A valence/arousal emotion goes to the sidecar as the point (it does the mapping), as a cut before any
	// audio: the same as starting from it.
	if (bEmotionIsValenceArousal
		&& !Check(eb_stream_set_valence_arousal(Runtime->Stream, EmotionValence, EmotionArousal, 0.f, -1.0), TEXT("set valence/arousal")))
	{
		return false;
	}
	Runtime->bClip = bClip;
	Runtime->bEnded = false;
	Runtime->SampleRate = SampleRate;
	Runtime->ClipStart = FPlatformTime::Seconds();
	return true;
}

bool UEmoBridgeComponent::Speak(USoundWave* Sound)
{
	if (!Sound)
	{
		return false;
	}
#if WITH_EDITORONLY_DATA
	// The imported WAV's PCM (16-bit interleaved). Editor builds only: cooked games keep just the
	// compressed audio, so a packaged game decodes its own PCM and calls SpeakPCM16.
	TArray<uint8> Pcm;
	uint32 SampleRate = 0;
	uint16 NumChannels = 0;
	if (!Sound->GetImportedSoundWaveData(Pcm, SampleRate, NumChannels) || Pcm.Num() == 0)
	{
		LastError = FString::Printf(TEXT("%s has no imported PCM"), *Sound->GetName());
		return false;
	}
	if (!SpeakPCM16(Pcm, int32(SampleRate), int32(NumChannels)))
	{
		return false;
	}
	if (bPlaySound && GetOwner())
	{
		PlayingSound = UGameplayStatics::SpawnSoundAttached(Sound, GetOwner()->GetRootComponent());
	}
	return true;
#else
	LastError = TEXT("Speak(SoundWave) needs editor data; in a packaged game use SpeakPCM16");
	return false;
#endif
}

bool UEmoBridgeComponent::SpeakPCM16(const TArray<uint8>& Pcm16, int32 SampleRate, int32 NumChannels)
{
	if (SampleRate <= 0 || NumChannels <= 0 || Pcm16.Num() < 2 * NumChannels)
	{
		LastError = TEXT("SpeakPCM16: empty audio or bad sample rate / channel count");
		return false;
	}
	StopSpeaking();
	StopVoiceCapture();
	if (bBakeWholeClip)
	{
		return OpenClip(Pcm16, uint32(SampleRate), uint32(NumChannels));
	}
	if (!OpenStream(uint32(SampleRate), uint32(NumChannels), true))
	{
		return false;
	}
	const size_t Frames = size_t(Pcm16.Num()) / (2 * size_t(NumChannels));
	Runtime->Feeder = emobridge_ue::AudioFeeder(reinterpret_cast<const int16_t*>(Pcm16.GetData()), Frames, uint32(NumChannels));
	return true;
}

bool UEmoBridgeComponent::OpenClip(const TArray<uint8>& Pcm16, uint32 SampleRate, uint32 NumChannels)
{
	if (!Connect())
	{
		return false;
	}
	Runtime->CloseStream();
	eb_bake_config Config;
	eb_bake_config_init(&Config);
	const FEmoBridgeEmotionArrays Initial(Emotion);  // copied by the open
	FillSharedConfig(Config, SampleRate, NumChannels, Fps, Seed, MouthPreservation, Initial);
	const size_t Frames = size_t(Pcm16.Num()) / (2 * size_t(NumChannels));
	if (!Check(Runtime->Baked.Open(Runtime->Client, Config, reinterpret_cast<const int16_t*>(Pcm16.GetData()), Frames),
			TEXT("open clip")))
	{
		return false;
	}
	// A valence/arousal emotion goes to the sidecar as the point, as a cut at 0 s: the same as starting from it.
	if (bEmotionIsValenceArousal
		&& !Check(Runtime->Baked.SetValenceArousal(EmotionValence, EmotionArousal, 0.f, 0.0), TEXT("set valence/arousal")))
	{
		return false;
	}
	Runtime->bClip = true;
	Runtime->ClipStart = FPlatformTime::Seconds();
	return true;
}

void UEmoBridgeComponent::StopSpeaking()
{
	if (Runtime && Runtime->Speaking())
	{
		FinishClip(false);
	}
}

void UEmoBridgeComponent::FinishClip(bool bCompleted)
{
	Runtime->CloseStream();
	Runtime->Feeder = emobridge_ue::AudioFeeder();
	if (PlayingSound)
	{
		if (!bCompleted)
		{
			PlayingSound->Stop();
		}
		PlayingSound = nullptr;
	}
	OnSpeechFinished.Broadcast(bCompleted);
}

bool UEmoBridgeComponent::StartVoiceCapture()
{
	StopSpeaking();
	if (!Connect())
	{
		return false;
	}
	TUniquePtr<Audio::FAudioCapture> Mic = MakeUnique<Audio::FAudioCapture>();
	Audio::FCaptureDeviceInfo Info;
	if (!Mic->GetCaptureDeviceInfo(Info))  // the default input device
	{
		LastError = TEXT("no audio capture device");
		return false;
	}
	if (!OpenStream(uint32(Info.PreferredSampleRate), uint32(Info.InputChannels), false))
	{
		return false;
	}
	// The callback runs on the audio capture thread; eb_stream_push_f32 is thread-safe and copies, and
	// the stream handle stays valid until CloseStream (which closes the microphone first).
	eb_stream* Stream = Runtime->Stream;
	Audio::FOnAudioCaptureFunction OnCapture = [Stream](const void* Audio, int32 NumFrames, int32, int32, double, bool)
	{
		eb_stream_push_f32(Stream, static_cast<const float*>(Audio), size_t(NumFrames));  // QUEUE_FULL: dropped, live audio
	};
	Audio::FAudioCaptureDeviceParams Params;  // default device
	if (!Mic->OpenAudioCaptureStream(Params, MoveTemp(OnCapture), 480) || !Mic->StartStream())
	{
		LastError = TEXT("cannot open the microphone");
		Runtime->CloseStream();
		return false;
	}
	Runtime->Mic = MoveTemp(Mic);
	return true;
}

void UEmoBridgeComponent::StopVoiceCapture()
{
	if (Runtime && Runtime->Stream && !Runtime->bClip)
	{
		Runtime->CloseStream();
	}
}

bool UEmoBridgeComponent::SendEmotion(float TransitionSeconds)
{
	bEmotionIsValenceArousal = false;  // Emotion is the whole target again
	const FEmoBridgeEmotionArrays Target(Emotion);
	if (Runtime && Runtime->Baked.IsOpen())  // a key where the clip is now heard, and a new bake
	{
		const double Elapsed = FPlatformTime::Seconds() - Runtime->ClipStart;
		return Check(Runtime->Baked.SetEmotion(Target.Names.GetData(), Target.Values.GetData(), Target.Num(), TransitionSeconds, Elapsed),
			TEXT("set emotion"));
	}
	if (!Runtime || !Runtime->Stream)
	{
		return true;  // no stream yet: the next one starts with Emotion as its initial emotion
	}
	return Check(eb_stream_set_emotion(Runtime->Stream, Target.Names.GetData(), Target.Values.GetData(), Target.Num(), TransitionSeconds),
		TEXT("set emotion"));
}

bool UEmoBridgeComponent::SetEmotion(FName Name, float Value, float TransitionSeconds)
{
	if (Value <= 0.f)
	{
		Emotion.Remove(Name);
	}
	else
	{
		Emotion.Add(Name, FMath::Min(Value, 1.f));
	}
	return SendEmotion(TransitionSeconds);
}

bool UEmoBridgeComponent::SetEmotionVector(const TMap<FName, float>& NewEmotion, float TransitionSeconds)
{
	Emotion = NewEmotion;
	return SendEmotion(TransitionSeconds);
}

bool UEmoBridgeComponent::SetValenceArousal(float Valence, float Arousal, float TransitionSeconds)
{
	// Checked here as well as in the native core, so a bad point changes nothing even without a stream.
	if (!(Valence >= -1.f && Valence <= 1.f && Arousal >= -1.f && Arousal <= 1.f))
	{
		LastError = TEXT("valence and arousal must be in -1..1");
		return false;
	}
	// The sidecar maps the point (the one implementation of the mapping); Emotion no longer describes the
	// target, so it is emptied, and new streams send the point again (OpenStream).
	Emotion.Reset();
	bEmotionIsValenceArousal = true;
	EmotionValence = Valence;
	EmotionArousal = Arousal;
	if (Runtime && Runtime->Baked.IsOpen())  // a key where the clip is now heard, and a new bake
	{
		const double Elapsed = FPlatformTime::Seconds() - Runtime->ClipStart;
		return Check(Runtime->Baked.SetValenceArousal(Valence, Arousal, TransitionSeconds, Elapsed), TEXT("set valence/arousal"));
	}
	if (!Runtime || !Runtime->Stream)
	{
		return true;
	}
	return Check(eb_stream_set_valence_arousal(Runtime->Stream, Valence, Arousal, TransitionSeconds, -1.0),
		TEXT("set valence/arousal"));
}

float UEmoBridgeComponent::GetCurveValue(FName CurveName) const
{
	for (int32 i = 0; i < emobridge_ue::kLiveLinkCurveCount; ++i)
	{
		if (CurveName == FName(emobridge_ue::kLiveLinkCurveNames[i]))
		{
			return Curves[i];
		}
	}
	return 0.f;
}

void UEmoBridgeComponent::Show(const eb_frame& Frame)
{
	if (!emobridge_ue::LiveLinkValuesFromFrame(Frame, Curves.GetData()))
	{
		return;  // not ARKit-52; streams opened here never set a rig profile
	}
	if (bPublishToLiveLink)
	{
		if (TSharedPtr<FEmoBridgeLiveLinkSource> Source = FEmoBridgeLiveLinkSource::GetOrCreate())
		{
			const FFrameRate Rate(FMath::RoundToInt(Fps), 1);
			Source->PublishFrame(SubjectName, Curves.GetData(), FQualifiedFrameTime(FFrameTime(FFrameNumber(int32(Frame.index))), Rate));
		}
	}
}

void UEmoBridgeComponent::TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction)
{
	Super::TickComponent(DeltaTime, TickType, ThisTickFunction);
	if (Runtime && Runtime->Baked.IsOpen())
	{
		TickClip();
		return;
	}
	if (!Runtime || !Runtime->Stream)
	{
		return;
	}
	FEmoBridgeRuntime& R = *Runtime;
	int32 State = EB_STATE_CONNECTING;
	eb_stream_get_state(R.Stream, &State);
	if (State == EB_STATE_FAILED)
	{
		char Error[512] = "";
		eb_stream_get_error(R.Stream, Error, sizeof(Error), nullptr);
		LastError = UTF8_TO_TCHAR(Error);
		UE_LOG(LogEmoBridge, Warning, TEXT("EmoBridge [%s]: stream failed: %s"), *SubjectName.ToString(), *LastError);
		if (R.bClip)
		{
			FinishClip(false);
		}
		else
		{
			R.CloseStream();
		}
		return;
	}
	if (!R.bClip)
	{
		eb_frame Frame;
		if (eb_stream_poll_latest(R.Stream, &Frame) == EB_OK)  // live voice: always the newest frame
		{
			Show(Frame);
		}
		return;
	}
	// A clip: push its audio at real time plus a lead, collect frames, show the one due now.
	const double Elapsed = FPlatformTime::Seconds() - R.ClipStart;
	const size_t Due = emobridge_ue::FramesDue(Elapsed, AudioLeadSeconds, R.SampleRate, R.Feeder.FramesPushed());
	const int32 Pushed = R.Feeder.Feed(R.Stream, Due);
	if (Pushed != EB_ERR_QUEUE_FULL && !Check(Pushed, TEXT("push audio")))
	{
		FinishClip(false);
		return;
	}
	if (R.Feeder.Done() && !R.bEnded)
	{
		R.bEnded = Check(eb_stream_end_audio(R.Stream), TEXT("end audio"));
	}
	R.Scratch.SetNumUninitialized(256);
	size_t Count = 0;
	if (eb_stream_drain(R.Stream, R.Scratch.GetData(), size_t(R.Scratch.Num()), &Count) == EB_OK && Count > 0)
	{
		R.Timeline.Add(R.Scratch.GetData(), Count);
	}
	eb_frame Frame;
	if (R.Timeline.Sample(Elapsed, &Frame))
	{
		Show(Frame);
	}
	if (State == EB_STATE_ENDED && R.Timeline.Pending() == 0)
	{
		eb_stream_stats Stats;
		Stats.struct_size = sizeof(Stats);
		if (eb_stream_get_stats(R.Stream, &Stats) == EB_OK && Stats.frames_queued == 0)
		{
			FinishClip(true);
		}
	}
}

void UEmoBridgeComponent::TickClip()
{
	eb_frame Frame;
	switch (Runtime->Baked.Advance(FPlatformTime::Seconds() - Runtime->ClipStart, &Frame))
	{
	case emobridge_ue::ClipPlayer::kFrame:
		Show(Frame);
		break;
	case emobridge_ue::ClipPlayer::kFinished:
		FinishClip(true);
		break;
	case emobridge_ue::ClipPlayer::kFailed:
		LastError = UTF8_TO_TCHAR(Runtime->Baked.Error().c_str());
		UE_LOG(LogEmoBridge, Warning, TEXT("EmoBridge [%s]: bake failed: %s"), *SubjectName.ToString(), *LastError);
		FinishClip(false);
		break;
	case emobridge_ue::ClipPlayer::kWaiting:
		break;  // the first bake is not back yet
	}
}

void UEmoBridgeComponent::EndPlay(const EEndPlayReason::Type Reason)
{
	Disconnect();
	Super::EndPlay(Reason);
}
