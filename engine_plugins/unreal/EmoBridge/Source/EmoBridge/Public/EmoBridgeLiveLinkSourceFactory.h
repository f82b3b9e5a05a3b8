// EmoBridgeLiveLinkSourceFactory.h - lets the Live Link window add the EmoBridge source by hand
// ("+ Source" -> "EmoBridge"). Components create it themselves too, so this is a convenience.
// Uses the post-4.23 factory API (GetMenuType + CreateSource); CreateSourceCreationPanel is deprecated.
#pragma once

#include "CoreMinimal.h"
#include "LiveLinkSourceFactory.h"
#include "EmoBridgeLiveLinkSourceFactory.generated.h"

UCLASS()
class EMOBRIDGE_API UEmoBridgeLiveLinkSourceFactory : public ULiveLinkSourceFactory
{
	GENERATED_BODY()

public:
	virtual FText GetSourceDisplayName() const override;
	virtual FText GetSourceTooltip() const override;
	virtual EMenuType GetMenuType() const override { return EMenuType::MenuEntry; }
	virtual TSharedPtr<ILiveLinkSource> CreateSource(const FString& ConnectionString) const override;
};
