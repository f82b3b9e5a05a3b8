// EmoBridgeModule.cpp - loads the native core (emobridge.h) from the plugin folder.
#include "EmoBridgeModule.h"

#include "HAL/PlatformProcess.h"
#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"

#include "emobridge.h"

DEFINE_LOG_CATEGORY(LogEmoBridge);

bool FEmoBridgeModule::bNativeReady = false;

void FEmoBridgeModule::StartupModule()
{
#if defined(EMOBRIDGE_NATIVE_DLL)
	// The library is delay-loaded on Windows/Mac: load it explicitly from the plugin's ThirdParty folder
	// (packaged builds find the staged copy next to the executable first). On Linux it is linked normally;
	// this only pre-loads it.
	const TSharedPtr<IPlugin> Plugin = IPluginManager::Get().FindPlugin(TEXT("EmoBridge"));
	const FString LibDir = Plugin.IsValid()
		? FPaths::Combine(Plugin->GetBaseDir(), TEXT("Source/ThirdParty/EmoBridgeNative/lib"), FPlatformProcess::GetBinariesSubdirectory())
		: FString();
	const FString Candidates[] = { TEXT(EMOBRIDGE_NATIVE_DLL), FPaths::Combine(LibDir, TEXT(EMOBRIDGE_NATIVE_DLL)) };
	for (const FString& Path : Candidates)
	{
		NativeHandle = FPlatformProcess::GetDllHandle(*Path);
		if (NativeHandle)
		{
			break;
		}
	}
	if (!NativeHandle)
	{
		UE_LOG(LogEmoBridge, Error, TEXT("EmoBridge: cannot load %s (looked in %s); see the plugin README to build it"),
			TEXT(EMOBRIDGE_NATIVE_DLL), *LibDir);
		return;
	}
#endif
	// The ABI only grows (structs and functions are appended, never changed), so a library at least as new
	// as the header has every function and layout this plugin uses (ABI 2: eb_stream_set_valence_arousal).
	bNativeReady = eb_abi_version() >= EB_ABI_VERSION;
	UE_LOG(LogEmoBridge, Log, TEXT("EmoBridge: native core %s, ABI %u (header %d)%s"), UTF8_TO_TCHAR(eb_version()),
		eb_abi_version(), EB_ABI_VERSION, bNativeReady ? TEXT("") : TEXT(" - MISMATCH, plugin disabled"));
}

void FEmoBridgeModule::ShutdownModule()
{
	bNativeReady = false;
	if (NativeHandle)
	{
		FPlatformProcess::FreeDllHandle(NativeHandle);
		NativeHandle = nullptr;
	}
}

bool FEmoBridgeModule::IsNativeReady()
{
	return bNativeReady;
}

IMPLEMENT_MODULE(FEmoBridgeModule, EmoBridge)
