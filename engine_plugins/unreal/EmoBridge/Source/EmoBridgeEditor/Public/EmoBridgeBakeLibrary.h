// EmoBridgeBakeLibrary.h - editor utility: bake SoundWaves into AnimSequences with ARKit float curves.
//
// Callable from an Editor Utility Widget/Blueprint or from Python (unreal.EmoBridgeBakeLibrary). The
// whole clip goes to the running sidecar in one Bake call (the native core's eb_bake_s16), so a
// transcript or recognised words can shape the lips; the curves are written with
// IAnimationDataController (UE 5.3+ curve identifiers).
#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintFunctionLibrary.h"
#include "EmoBridgeBakeLibrary.generated.h"

class UAnimSequence;
class USkeleton;
class USoundWave;

/** An emotion change during a baked line: from TimeSeconds on the clip the face blends to Emotion over
 *  TransitionSeconds (0 = at once). An empty Emotion is neutral. */
USTRUCT(BlueprintType)
struct EMOBRIDGEEDITOR_API FEmoBridgeEmotionKey
{
	GENERATED_BODY()

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge", meta = (ClampMin = "0"))
	float TimeSeconds = 0.f;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge", meta = (ClampMin = "0", ClampMax = "3600"))
	float TransitionSeconds = 0.3f;

	/** Basis emotion -> intensity 0..1 (happy, sad, angry, fear, disgust, surprise, contempt, or an alias). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "EmoBridge")
	TMap<FName, float> Emotion;
};

UCLASS()
class EMOBRIDGEEDITOR_API UEmoBridgeBakeLibrary : public UBlueprintFunctionLibrary
{
	GENERATED_BODY()

public:
	/** Bakes Sound into a new AnimSequence /PackagePath/<Sound name>_EmoBridge on Skeleton (for a MetaHuman:
	 *  the face skeleton, Face_Archetype_Skeleton). Curves: the 61 Live Link names (52 ARKit + head/eye
	 *  yaw/pitch/roll as radians/pi), one key per frame at Fps. Transcript (what is said; empty = none) makes the
	 *  lips follow the words force-aligned to the audio, the most exact lip sync; without one, bRecognizeWords
	 *  recognises the words first so the lips seal on their p/b/m (slower, better on real voices than the model
	 *  alone). Returns null on failure (see the log). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge|Bake")
	static UAnimSequence* BakeSoundWaveToAnimSequence(USoundWave* Sound, USkeleton* Skeleton, const FString& PackagePath,
		const FString& ServerAddress, const TMap<FName, float>& Emotion, float Fps = 60.f, int64 Seed = 0,
		const FString& Transcript = TEXT(""), bool bRecognizeWords = false);

	/** As BakeSoundWaveToAnimSequence, with the emotion changing during the line: Emotion holds from the start
	 *  until the first of EmotionKeys (any order), e.g. a cutscene line that turns angry halfway. */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge|Bake")
	static UAnimSequence* BakeSoundWaveWithEmotionKeys(USoundWave* Sound, USkeleton* Skeleton, const FString& PackagePath,
		const FString& ServerAddress, const TMap<FName, float>& Emotion, const TArray<FEmoBridgeEmotionKey>& EmotionKeys,
		float Fps = 60.f, int64 Seed = 0, const FString& Transcript = TEXT(""), bool bRecognizeWords = false);
};
