// Runtime module: the Live Link source, the per-character component and the Blueprint library.
// Everything it knows about the sidecar goes through the C ABI in emobridge.h (EmoBridgeNative).
using UnrealBuildTool;

public class EmoBridge : ModuleRules
{
	public EmoBridge(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
		CppStandard = CppStandardVersion.Cpp17;

		PublicDependencyModuleNames.AddRange(new string[]
		{
			"Core", "CoreUObject", "Engine",
			"LiveLinkInterface",   // ILiveLinkSource, ILiveLinkClient, ULiveLinkBasicRole
		});
		PrivateDependencyModuleNames.AddRange(new string[]
		{
			"Projects",            // IPluginManager: find the native library inside the plugin
			"AudioCaptureCore",    // Audio::FAudioCapture for the voice route
			"EmoBridgeNative",     // emobridge.h + the prebuilt native core
		});
	}
}
