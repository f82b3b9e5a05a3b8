// Editor module: bake SoundWaves to AnimSequences with ARKit float curves through the sidecar.
using UnrealBuildTool;

public class EmoBridgeEditor : ModuleRules
{
	public EmoBridgeEditor(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
		CppStandard = CppStandardVersion.Cpp17;

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine" });
		PrivateDependencyModuleNames.AddRange(new string[]
		{
			"UnrealEd", "AssetRegistry", "AssetTools",
			"EmoBridge",           // EmoBridgeGlue.h (curve names), FEmoBridgeModule
			"EmoBridgeNative",
		});
		// EmoBridgeGlue.h lives in the runtime module's Private folder on purpose (it is not UE API);
		// the editor module reuses it.
		PrivateIncludePaths.Add(System.IO.Path.Combine(ModuleDirectory, "..", "EmoBridge", "Private"));
	}
}
