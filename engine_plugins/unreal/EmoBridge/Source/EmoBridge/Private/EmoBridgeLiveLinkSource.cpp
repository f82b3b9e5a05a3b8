// EmoBridgeLiveLinkSource.cpp - see the header for why this source exists and what it promises.
#include "EmoBridgeLiveLinkSource.h"

#include "EmoBridgeGlue.h"
#include "EmoBridgeLiveLinkSourceFactory.h"
#include "Features/IModularFeatures.h"
#include "HAL/PlatformProcess.h"
#include "ILiveLinkClient.h"
#include "LiveLinkSourceSettings.h"
#include "Roles/LiveLinkBasicRole.h"
#include "Roles/LiveLinkBasicTypes.h"

#define LOCTEXT_NAMESPACE "EmoBridgeLiveLink"

TWeakPtr<FEmoBridgeLiveLinkSource> FEmoBridgeLiveLinkSource::Instance;

TSharedPtr<FEmoBridgeLiveLinkSource> FEmoBridgeLiveLinkSource::GetOrCreate()
{
	check(IsInGameThread());
	if (TSharedPtr<FEmoBridgeLiveLinkSource> Existing = Instance.Pin())
	{
		if (Existing->IsSourceStillValid())
		{
			return Existing;
		}
	}
	IModularFeatures& Features = IModularFeatures::Get();
	if (!Features.IsModularFeatureAvailable(ILiveLinkClient::ModularFeatureName))
	{
		return nullptr;  // the Live Link plugin is disabled
	}
	ILiveLinkClient& LiveLink = Features.GetModularFeature<ILiveLinkClient>(ILiveLinkClient::ModularFeatureName);
	TSharedPtr<FEmoBridgeLiveLinkSource> Source = MakeShared<FEmoBridgeLiveLinkSource>();
	LiveLink.AddSource(Source);  // calls ReceiveClient
	Instance = Source;
	return Source;
}

void FEmoBridgeLiveLinkSource::ReceiveClient(ILiveLinkClient* InClient, FGuid InSourceGuid)
{
	FScopeLock Guard(&Lock);
	Client = InClient;
	SourceGuid = InSourceGuid;
	KnownSubjects.Reset();
}

void FEmoBridgeLiveLinkSource::PublishFrame(FName Subject, const float* Values61, const FQualifiedFrameTime& SceneTime)
{
	FScopeLock Guard(&Lock);
	if (!Client)
	{
		return;
	}
	const FLiveLinkSubjectKey Key(SourceGuid, Subject);
	if (!KnownSubjects.Contains(Subject))
	{
		// Static data: the property names, once per subject (pushing it again would clear buffered frames).
		FLiveLinkStaticDataStruct StaticData(FLiveLinkBaseStaticData::StaticStruct());
		FLiveLinkBaseStaticData* Names = StaticData.Cast<FLiveLinkBaseStaticData>();
		Names->PropertyNames.Reserve(emobridge_ue::kLiveLinkCurveCount);
		for (const char* Name : emobridge_ue::kLiveLinkCurveNames)
		{
			Names->PropertyNames.Add(FName(Name));
		}
		Client->PushSubjectStaticData_AnyThread(Key, ULiveLinkBasicRole::StaticClass(), MoveTemp(StaticData));
		KnownSubjects.Add(Subject);
	}
	FLiveLinkFrameDataStruct FrameData(FLiveLinkBaseFrameData::StaticStruct());
	FLiveLinkBaseFrameData* Frame = FrameData.Cast<FLiveLinkBaseFrameData>();
	Frame->WorldTime = FPlatformTime::Seconds();
	Frame->MetaData.SceneTime = SceneTime;
	Frame->PropertyValues.Append(Values61, emobridge_ue::kLiveLinkCurveCount);
	Client->PushSubjectFrameData_AnyThread(Key, MoveTemp(FrameData));
	++FramesPublished;
}

void FEmoBridgeLiveLinkSource::RemoveSubject(FName Subject)
{
	FScopeLock Guard(&Lock);
	if (Client && KnownSubjects.Remove(Subject) > 0)
	{
		Client->RemoveSubject_AnyThread(FLiveLinkSubjectKey(SourceGuid, Subject));
	}
}

bool FEmoBridgeLiveLinkSource::IsSourceStillValid() const
{
	return Client != nullptr;
}

bool FEmoBridgeLiveLinkSource::RequestSourceShutdown()
{
	// Pushes happen under Lock on the caller's thread; once Client is null no push starts, so the
	// source can be destroyed at once.
	FScopeLock Guard(&Lock);
	Client = nullptr;
	KnownSubjects.Reset();
	return true;
}

FText FEmoBridgeLiveLinkSource::GetSourceType() const
{
	return LOCTEXT("SourceType", "EmoBridge");
}

FText FEmoBridgeLiveLinkSource::GetSourceMachineName() const
{
	return FText::FromString(FPlatformProcess::ComputerName());
}

FText FEmoBridgeLiveLinkSource::GetSourceStatus() const
{
	return FText::Format(LOCTEXT("SourceStatus", "Active ({0} frames)"), FText::AsNumber(FramesPublished.Load()));
}

FText UEmoBridgeLiveLinkSourceFactory::GetSourceDisplayName() const
{
	return LOCTEXT("FactoryName", "EmoBridge");
}

FText UEmoBridgeLiveLinkSourceFactory::GetSourceTooltip() const
{
	return LOCTEXT("FactoryTooltip", "Face animation from emobridge components (one subject per character).");
}

TSharedPtr<ILiveLinkSource> UEmoBridgeLiveLinkSourceFactory::CreateSource(const FString& ConnectionString) const
{
	// The Live Link client adds what we return; remember it so components publish into the same source.
	TSharedPtr<FEmoBridgeLiveLinkSource> Source = MakeShared<FEmoBridgeLiveLinkSource>();
	FEmoBridgeLiveLinkSource::Instance = Source;
	return Source;
}

#undef LOCTEXT_NAMESPACE
