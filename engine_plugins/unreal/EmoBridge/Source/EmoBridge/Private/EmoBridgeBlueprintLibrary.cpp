// EmoBridgeBlueprintLibrary.cpp - forwards to the actor's UEmoBridgeComponent.
#include "EmoBridgeBlueprintLibrary.h"

#include "EmoBridgeComponent.h"
#include "EmoBridgeModule.h"
#include "GameFramework/Actor.h"

UEmoBridgeComponent* UEmoBridgeBlueprintLibrary::GetEmoBridgeFace(AActor* Character)
{
	return Character ? Character->FindComponentByClass<UEmoBridgeComponent>() : nullptr;
}

static UEmoBridgeComponent* FaceOf(AActor* Character, const TCHAR* Function)
{
	UEmoBridgeComponent* Face = UEmoBridgeBlueprintLibrary::GetEmoBridgeFace(Character);
	if (!Face)
	{
		UE_LOG(LogEmoBridge, Warning, TEXT("%s: %s has no EmoBridge Face component"), Function,
			Character ? *Character->GetName() : TEXT("(null actor)"));
	}
	return Face;
}

bool UEmoBridgeBlueprintLibrary::SetEmotion(AActor* Character, FName Name, float Value, float TransitionSeconds)
{
	UEmoBridgeComponent* Face = FaceOf(Character, TEXT("SetEmotion"));
	return Face && Face->SetEmotion(Name, Value, TransitionSeconds);
}

bool UEmoBridgeBlueprintLibrary::SetEmotionVector(AActor* Character, const TMap<FName, float>& Emotion, float TransitionSeconds)
{
	UEmoBridgeComponent* Face = FaceOf(Character, TEXT("SetEmotionVector"));
	return Face && Face->SetEmotionVector(Emotion, TransitionSeconds);
}

bool UEmoBridgeBlueprintLibrary::SetValenceArousal(AActor* Character, float Valence, float Arousal, float TransitionSeconds)
{
	UEmoBridgeComponent* Face = FaceOf(Character, TEXT("SetValenceArousal"));
	return Face && Face->SetValenceArousal(Valence, Arousal, TransitionSeconds);
}

bool UEmoBridgeBlueprintLibrary::Speak(AActor* Character, USoundWave* Sound)
{
	UEmoBridgeComponent* Face = FaceOf(Character, TEXT("Speak"));
	return Face && Face->Speak(Sound);
}
