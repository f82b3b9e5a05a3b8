// EmoBridgeNative: the emobridge native client core (engine_plugins/native) as an Unreal "External"
// module. Nothing is compiled here: it only tells UnrealBuildTool where emobridge.h and the prebuilt
// library are, and which files to stage next to the game binaries.
//
// Expected layout (tools/stage_native.sh fills it on Linux; see ../../../README.md for Win64/Mac):
//   include/emobridge.h                       (copy of engine_plugins/native/include/emobridge.h)
//   lib/Win64/emobridge.dll, emobridge.lib    (import library for the DLL)
//   lib/Linux/libemobridge.so.0               (the SONAME the linker records) + libemobridge.so,
//                                             and the libraries it loads (lib*-<version>.so)
//   lib/Mac/libemobridge.dylib
// When include/ is missing (building straight from the repository checkout), the header is taken
// from engine_plugins/native/include.
using System.IO;
using UnrealBuildTool;

public class EmoBridgeNative : ModuleRules
{
	public EmoBridgeNative(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;

		string IncludeDir = Path.Combine(ModuleDirectory, "include");
		if (!File.Exists(Path.Combine(IncludeDir, "emobridge.h")))
		{
			IncludeDir = Path.GetFullPath(Path.Combine(ModuleDirectory, "..", "..", "..", "..", "..", "native", "include"));
		}
		PublicIncludePaths.Add(IncludeDir);

		string LibDir = Path.Combine(ModuleDirectory, "lib", Target.Platform.ToString());
		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			PublicAdditionalLibraries.Add(Path.Combine(LibDir, "emobridge.lib"));
			// Delay-loaded so the module can load it from the plugin's folder (FEmoBridgeModule::StartupModule).
			PublicDelayLoadDLLs.Add("emobridge.dll");
			RuntimeDependencies.Add("$(BinaryOutputDir)/emobridge.dll", Path.Combine(LibDir, "emobridge.dll"));
			PublicDefinitions.Add("EMOBRIDGE_NATIVE_DLL=\"emobridge.dll\"");
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux)
		{
			PublicAdditionalLibraries.Add(Path.Combine(LibDir, "libemobridge.so"));
			RuntimeDependencies.Add("$(BinaryOutputDir)/libemobridge.so.0", Path.Combine(LibDir, "libemobridge.so.0"));
			// The libraries tools/stage_native.sh bundles with it (gRPC, protobuf, OpenSSL...): it finds them
			// beside itself ($ORIGIN), so they go to the same folder.
			string[] Bundled = Directory.Exists(LibDir) ? Directory.GetFiles(LibDir, "*.so") : new string[0];
			foreach (string Dependency in Bundled)
			{
				string Name = Path.GetFileName(Dependency);
				if (Name != "libemobridge.so")
				{
					RuntimeDependencies.Add("$(BinaryOutputDir)/" + Name, Dependency);
				}
			}
			PublicDefinitions.Add("EMOBRIDGE_NATIVE_DLL=\"libemobridge.so.0\"");
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			PublicDelayLoadDLLs.Add(Path.Combine(LibDir, "libemobridge.dylib"));
			RuntimeDependencies.Add("$(BinaryOutputDir)/libemobridge.dylib", Path.Combine(LibDir, "libemobridge.dylib"));
			PublicDefinitions.Add("EMOBRIDGE_NATIVE_DLL=\"libemobridge.dylib\"");
		}
	}
}
