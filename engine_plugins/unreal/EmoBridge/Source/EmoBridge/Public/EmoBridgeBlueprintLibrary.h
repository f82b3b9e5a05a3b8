// EmoBridgeBlueprintLibrary.h - the Blueprint entry points: emotion and speech for any actor that has
// an EmoBridge Face component. Thin wrappers: the component does the work (and it through the C ABI).
#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintFunctionLibrary.h"
#include "EmoBridgeBlueprintLibrary.generated.h"

class UEmoBridgeComponent;
class USoundWave;

UCLASS()
class EMOBRIDGE_API UEmoBridgeBlueprintLibrary : public UBlueprintFunctionLibrary
{
	GENERATED_BODY()

public:
	/** The actor's EmoBridge Face component, or null. */
	UFUNCTION(BlueprintPure, Category = "EmoBridge", meta = (DefaultToSelf = "Character"))
	static UEmoBridgeComponent* GetEmoBridgeFace(AActor* Character);

	/** Sets one emotion (happy, sad, angry, fear, disgust, surprise, contempt or an alias) to Value in
	 *  0..1 over TransitionSeconds (negative = the sidecar's default 0.3 s; 0 = a cut). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge", meta = (DefaultToSelf = "Character"))
	static bool SetEmotion(AActor* Character, FName Name, float Value, float TransitionSeconds = -1.f);

	/** Replaces the whole emotion vector (empty = neutral). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge", meta = (DefaultToSelf = "Character"))
	static bool SetEmotionVector(AActor* Character, const TMap<FName, float>& Emotion, float TransitionSeconds = -1.f);

	/** Emotion from valence (unpleasant -1 .. pleasant 1) and arousal (calm -1 .. excited 1). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge", meta = (DefaultToSelf = "Character"))
	static bool SetValenceArousal(AActor* Character, float Valence, float Arousal, float TransitionSeconds = -1.f);

	/** Speaks a SoundWave: plays it and animates the face (see UEmoBridgeComponent::Speak for packaged games). */
	UFUNCTION(BlueprintCallable, Category = "EmoBridge", meta = (DefaultToSelf = "Character"))
	static bool Speak(AActor* Character, USoundWave* Sound);
};
