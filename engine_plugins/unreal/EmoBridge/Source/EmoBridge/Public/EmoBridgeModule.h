// EmoBridgeModule.h - the runtime module: loads the native core and checks its ABI version.
#pragma once

#include "Modules/ModuleManager.h"

DECLARE_LOG_CATEGORY_EXTERN(LogEmoBridge, Log, All);

class EMOBRIDGE_API FEmoBridgeModule : public IModuleInterface
{
public:
	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

	/** True when the native library is loaded and speaks at least this header's EB_ABI_VERSION. Every call into
	 *  emobridge.h is guarded by this, so a missing library disables the plugin instead of crashing. */
	static bool IsNativeReady();

private:
	void* NativeHandle = nullptr;
	static bool bNativeReady;
};
