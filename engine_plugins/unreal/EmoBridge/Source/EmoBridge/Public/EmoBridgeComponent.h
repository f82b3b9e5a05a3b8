// EmoBridgeComponent.h - one per character: its sidecar connection, its stream, its audio, its face.
//
// Glue only: the component turns Unreal things (USoundWave, the microphone, Blueprint calls, the tick)
// into calls of the C ABI in emobridge.h and turns frames back into Live Link curves. Connection
// handling, reconnection, resampling, queues and the emotion protocol live in the native core.
#pragma once

#include "Components/ActorComponent.h"
#include "CoreMinimal.h"
#include "EmoBridgeComponent.generated.h"

class USoundWave;
class UAudioComponent;
struct FEmoBridgeRuntime;

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FEmoBridgeSpeechFinished, bool, bCompleted);

UCLASS(ClassGroup = (Animation), meta = (BlueprintSpawnableComponent), DisplayName = "EmoBridge Face")
class EMOBRIDGE_API UEmoBridgeComponent : public UActorComponent
{
	GENERATED_BODY()

public:
	UEmoBridgeComponent();

	/** Sidecar address, host:port (`emobridge serve --port 50051`). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	FString ServerAddress = TEXT("127.0.0.1:50051");

	/** Live Link subject this character's face is published as; set the same name as the MetaHuman
	 *  Blueprint's "LLink Face Subj" (or the Live Link Pose node's subject in your face AnimBP). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	FName SubjectName = TEXT("NPC1");

	/** Publish frames to Live Link (the EmoBridge source). Off: read GetCurves() / GetCurveValue() yourself. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	bool bPublishToLiveLink = true;

	/** Frames per second requested from the sidecar. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge", meta = (ClampMin = "1", ClampMax = "240"))
	float Fps = 60.f;

	/** Seed of blinks, gaze and head motion (same seed + same audio = same animation). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	int64 Seed = 0;

	/** 0..1: how much strong emotion may change the lips (negative = the sidecar's default). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	float MouthPreservation = -1.f;

	/** Emotion the character starts with (basis names happy, sad, angry, fear, disgust, surprise,
	 *  contempt, or aliases). SetEmotion* change it; new streams start from the current value. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	TMap<FName, float> Emotion;

	/** Speak(): also play the SoundWave on the owner (attached), so sound and face start together. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	bool bPlaySound = true;

	/** Speak(): bake the whole clip instead of streaming it, and bake it again at each SetEmotion*, so an emotion
	 *  change lands where it is heard (streamed, it lands up to AudioLeadSeconds later). The face starts once the
	 *  first bake is back (a few ms per second of audio). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	bool bBakeWholeClip = false;

	/** Seconds of audio sent ahead of playback, covering the model's lookahead and the network. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge", meta = (ClampMin = "0", ClampMax = "2"))
	float AudioLeadSeconds = 0.25f;

	/** Fired when a Speak() clip's last frame was shown (true) or the stream failed / was stopped (false). */
	UPROPERTY(BlueprintAssignable, Category = "EmoBridge")
	FEmoBridgeSpeechFinished OnSpeechFinished;

	/** Connects to ServerAddress (waits up to TimeoutSeconds). Speak/StartVoiceCapture connect on demand. */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	bool Connect(float TimeoutSeconds = 2.f);

	/** Stops everything and closes the connection. */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	void Disconnect();

	/** Animates the face for a SoundWave (and plays it when bPlaySound). Uses the imported PCM, which
	 *  only exists in editor builds (USoundWave::GetImportedSoundWaveData); in a packaged game use
	 *  SpeakPCM16 with audio you decoded. Returns false when no PCM is available or the sidecar is down. */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	bool Speak(USoundWave* Sound);

	/** Animates the face for interleaved little-endian PCM16 at SampleRate (any rate; the native core
	 *  resamples) with NumChannels channels. */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	bool SpeakPCM16(const TArray<uint8>& Pcm16, int32 SampleRate, int32 NumChannels);

	/** Stops the current clip (OnSpeechFinished(false)). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	void StopSpeaking();

	/** Animates the face live from the default microphone (AudioCapture) until StopVoiceCapture. */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	bool StartVoiceCapture();

	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	void StopVoiceCapture();

	/** Sets one emotion's intensity (0..1), keeping the others, blended over TransitionSeconds
	 *  (negative = the sidecar's default 0.3 s, 0 = a cut). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	bool SetEmotion(FName Name, float Value, float TransitionSeconds = -1.f);

	/** Replaces the whole emotion (empty = neutral). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	bool SetEmotionVector(const TMap<FName, float>& NewEmotion, float TransitionSeconds = -1.f);

	/** Emotion from a valence/arousal point, both in -1..1 (negative = unpleasant / calm). The point is sent
	 *  as such and the sidecar maps it onto the basis; Emotion is emptied (the mapped intensities show in
	 *  the frames), so a later SetEmotion starts from neutral plus that one emotion. */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge")
	bool SetValenceArousal(float Valence, float Arousal, float TransitionSeconds = -1.f);

	/** The 61 Live Link curve values of the latest frame shown (52 ARKit weights, then head and eye
	 *  yaw/pitch/roll as radians/pi), in EARFaceBlendShape order. */
	UFUNCTION(BlueprintPure, Category = "EmoBridge")
	TArray<float> GetCurves() const { return Curves; }

	/** One curve of the latest frame by its Live Link name (e.g. JawOpen); 0 if unknown. */
	UFUNCTION(BlueprintPure, Category = "EmoBridge")
	float GetCurveValue(FName CurveName) const;

	/** Latest native error (connection, stream) for UI/debugging. */
	UFUNCTION(BlueprintPure, Category = "EmoBridge")
	FString GetLastError() const { return LastError; }

	virtual void TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction) override;
	virtual void EndPlay(const EEndPlayReason::Type Reason) override;

private:
	bool OpenStream(uint32 SampleRate, uint32 NumChannels, bool bClip);
	bool OpenClip(const TArray<uint8>& Pcm16, uint32 SampleRate, uint32 NumChannels);
	void TickClip();
	void Show(const struct eb_frame& Frame);
	void FinishClip(bool bCompleted);
	bool SendEmotion(float TransitionSeconds);
	bool Check(int32 Result, const TCHAR* What);

	TSharedPtr<FEmoBridgeRuntime> Runtime;  // native handles and plain-C++ state (see the .cpp)
	UPROPERTY(Transient)
	TObjectPtr<UAudioComponent> PlayingSound;
	TArray<float> Curves;
	FString LastError;
	// Set by SetValenceArousal (cleared by SetEmotion*): the target is this point, not Emotion.
	bool bEmotionIsValenceArousal = false;
	float EmotionValence = 0.f;
	float EmotionArousal = 0.f;
};
