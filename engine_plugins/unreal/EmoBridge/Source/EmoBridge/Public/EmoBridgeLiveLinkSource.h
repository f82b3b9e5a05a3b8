// EmoBridgeLiveLinkSource.h - a Live Link source that publishes emobridge frames as ARKit face subjects.
//
// Why a custom source when the stock Apple ARKit source already reads the sidecar's UDP packets?
// The stock route needs the sidecar to know the Unreal machine's address and a UDP port per machine;
// this source receives frames in-process from UEmoBridgeComponent (through the native core's gRPC
// stream), so many characters, each its own subject, work without network set-up. The data is made
// identical to the stock source's: ULiveLinkBasicRole, the 61 EARFaceBlendShape property names in
// enum order, rotations as radians/pi - so the stock MetaHuman face AnimBP (Live Link Pose node ->
// mh_arkit_mapping_pose) needs no change. Follows the ILiveLinkSource contract in
// LiveLinkInterface/Public/ILiveLinkSource.h (UE 5.x).
#pragma once

#include "CoreMinimal.h"
#include "ILiveLinkSource.h"
#include "LiveLinkTypes.h"
#include "Misc/QualifiedFrameTime.h"

class ILiveLinkClient;

class EMOBRIDGE_API FEmoBridgeLiveLinkSource : public ILiveLinkSource
{
public:
	/** The one source components publish into; added to the Live Link client on first use (or created
	 *  from the Live Link window through UEmoBridgeLiveLinkSourceFactory). Game thread only. */
	static TSharedPtr<FEmoBridgeLiveLinkSource> GetOrCreate();

	/** The source if one exists (never creates one). */
	static TSharedPtr<FEmoBridgeLiveLinkSource> Find() { return Instance.Pin(); }

	/** Publishes one frame of 61 curve values (EmoBridgeGlue.h LiveLinkValuesFromFrame) for Subject.
	 *  Pushes the static data (property names) first when the subject is new. Any thread. */
	void PublishFrame(FName Subject, const float* Values61, const FQualifiedFrameTime& SceneTime);

	/** Removes a subject (its component was destroyed or disconnected). */
	void RemoveSubject(FName Subject);

	// ILiveLinkSource
	virtual void ReceiveClient(ILiveLinkClient* InClient, FGuid InSourceGuid) override;
	virtual bool IsSourceStillValid() const override;
	virtual bool RequestSourceShutdown() override;
	virtual FText GetSourceType() const override;
	virtual FText GetSourceMachineName() const override;
	virtual FText GetSourceStatus() const override;

private:
	FCriticalSection Lock;              // Client, SourceGuid and KnownSubjects: pushes come from any thread
	ILiveLinkClient* Client = nullptr;
	FGuid SourceGuid;
	TSet<FName> KnownSubjects;          // subjects whose static data was pushed
	TAtomic<int32> FramesPublished{0};

	static TWeakPtr<FEmoBridgeLiveLinkSource> Instance;
	friend class UEmoBridgeLiveLinkSourceFactory;
};
