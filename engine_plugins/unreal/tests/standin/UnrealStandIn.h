// UnrealStandIn.h - a signatures-only stand-in for the few Unreal Engine types the plugin uses, so
// tests/engine_plugins/test_unreal_glue.py can type-check EmoBridgeComponent.cpp, EmoBridgeBlueprintLibrary.cpp
// and the editor's EmoBridgeBakeLibrary.cpp with g++ (-fsyntax-only) where no engine is installed.
//
// What it catches: our own code disagreeing with itself -- the component against its header, the C ABI
// (emobridge.h), the engine-free glue (EmoBridgeGlue.h) and the emotion arrays; typos; wrong argument counts.
// What it cannot catch: a wrong use of Unreal's API. Every declaration below was written from how the plugin
// calls it (as Unity's UnityEngineStandIn.cs), so it agrees with the plugin by construction; the real engine
// may differ (API drift). TCHAR is char here, so text macros are the identity.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

// --- basic types and macros ---------------------------------------------------------------------
using int32 = int32_t;
using uint32 = uint32_t;
using int64 = int64_t;
using uint64 = uint64_t;
using uint16 = uint16_t;
using uint8 = uint8_t;
using TCHAR = char;

#define TEXT(x) x
#define UTF8_TO_TCHAR(x) (x)
#define TCHAR_TO_UTF8(x) (x)
#define EMOBRIDGE_API
#define EMOBRIDGEEDITOR_API
#define IMPLEMENT_MODULE(Impl, Name)
#define NSLOCTEXT(Namespace, Key, Text) FText()
#define UCLASS(...)
#define USTRUCT(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
// GENERATED_BODY() comes from each class's .generated.h, as in the engine: the test writes one per class that
// declares its Super (see test_unreal_glue.py).
#define WITH_EDITORONLY_DATA 1
#define DECLARE_LOG_CATEGORY_EXTERN(Name, Verbosity, Compile) extern struct FLogCategory Name;
#define UE_LOG(Category, Verbosity, Format, ...) ((void)(Category), std::printf(Format, ##__VA_ARGS__))
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(Name, T1, P1) \
  struct Name {                                                   \
    void Broadcast(T1 P1) const {}                                \
  };

struct FLogCategory {};

template <class T>
class TSharedPtr : public std::shared_ptr<T> {
 public:
  using std::shared_ptr<T>::shared_ptr;
  TSharedPtr(std::shared_ptr<T> p) : std::shared_ptr<T>(std::move(p)) {}
  void Reset() { this->reset(); }
  bool IsValid() const { return bool(*this); }
};
template <class T>
class TWeakPtr : public std::weak_ptr<T> {
 public:
  using std::weak_ptr<T>::weak_ptr;
  TSharedPtr<T> Pin() const { return TSharedPtr<T>(this->lock()); }
};
template <class T>
class TUniquePtr : public std::unique_ptr<T> {
 public:
  using std::unique_ptr<T>::unique_ptr;
  TUniquePtr(std::unique_ptr<T> p) : std::unique_ptr<T>(std::move(p)) {}
  void Reset() { this->reset(); }
};
template <class T>
using TObjectPtr = T*;
template <class T>
using TAtomic = std::atomic<T>;
template <class T, class... A>
TSharedPtr<T> MakeShared(A&&... a) { return TSharedPtr<T>(std::make_shared<T>(std::forward<A>(a)...)); }
template <class T, class... A>
TUniquePtr<T> MakeUnique(A&&... a) { return TUniquePtr<T>(std::make_unique<T>(std::forward<A>(a)...)); }
template <class T>
T&& MoveTemp(T& value) { return static_cast<T&&>(value); }

template <class T>
class TArray {
 public:
  int32 Num() const { return int32(items_.size()); }
  T* GetData() { return items_.data(); }
  const T* GetData() const { return items_.data(); }
  void Add(const T& item) { items_.push_back(item); }
  template <class... A>
  T& Emplace_GetRef(A&&... a) { return items_.emplace_back(std::forward<A>(a)...); }
  template <class... A>
  void Emplace(A&&... a) { items_.emplace_back(std::forward<A>(a)...); }
  void Reserve(int32 n) { items_.reserve(size_t(n)); }
  void Reset() { items_.clear(); }
  void SetNum(int32 n) { items_.resize(size_t(n)); }
  void SetNumUninitialized(int32 n) { items_.resize(size_t(n)); }
  void SetNumZeroed(int32 n) { items_.assign(size_t(n), T()); }
  void Init(const T& value, int32 n) { items_.assign(size_t(n), value); }
  T& operator[](int32 i) { return items_[size_t(i)]; }
  const T& operator[](int32 i) const { return items_[size_t(i)]; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<T> items_;
};

template <class K, class V>
struct TPair {
  K Key;
  V Value;
};

template <class K, class V>
class TMap {
 public:
  void Add(const K& key, const V& value) { Remove(key), items_.push_back({key, value}); }
  void Remove(const K& key) {
    items_.erase(std::remove_if(items_.begin(), items_.end(), [&](const TPair<K, V>& p) { return p.Key == key; }),
                 items_.end());
  }
  void Reset() { items_.clear(); }
  int32 Num() const { return int32(items_.size()); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<TPair<K, V>> items_;
};

template <class T>
using TSet = std::set<T>;

class FString {
 public:
  FString() = default;
  FString(const TCHAR* text) : text_(text) {}
  const TCHAR* operator*() const { return text_.c_str(); }
  FString operator+(const TCHAR* more) const { return FString((text_ + more).c_str()); }
  template <class... A>
  static FString Printf(const TCHAR* format, A... args) {
    char buffer[1024];
    std::snprintf(buffer, sizeof buffer, format, args...);
    return FString(buffer);
  }

 private:
  std::string text_;
};

class FName {
 public:
  FName() = default;
  FName(const TCHAR* name) : name_(name) {}
  FString ToString() const { return FString(name_.c_str()); }
  bool operator==(const FName& other) const { return name_ == other.name_; }
  bool operator<(const FName& other) const { return name_ < other.name_; }

 private:
  std::string name_;
};

class FText {};
struct FGuid {};
class FCriticalSection {};

class FTCHARToUTF8 {
 public:
  explicit FTCHARToUTF8(const TCHAR* text) : text_(text) {}
  const char* Get() const { return text_.c_str(); }

 private:
  std::string text_;
};

struct FMath {
  template <class T>
  static T Min(T a, T b) { return std::min(a, b); }
  template <class T>
  static T Max(T a, T b) { return std::max(a, b); }
  static int32 RoundToInt(float x) { return int32(std::lround(x)); }
};

struct FPlatformTime {
  static double Seconds() { return 0.0; }
};

// --- time codes (Misc/QualifiedFrameTime.h) -----------------------------------------------------------
struct FFrameRate {
  FFrameRate(int32 numerator, int32 denominator) {}
};
struct FFrameNumber {
  explicit FFrameNumber(int32 value) {}
};
struct FFrameTime {
  explicit FFrameTime(FFrameNumber frame) {}
};
struct FQualifiedFrameTime {
  FQualifiedFrameTime(FFrameTime time, FFrameRate rate) {}
};

// --- objects, actors, components, sound ------------------------------------------------------------------
class UObject {
 public:
  FString GetName() const { return FString(); }
};
class USceneComponent : public UObject {};
class AActor : public UObject {
 public:
  USceneComponent* GetRootComponent() const { return nullptr; }
  template <class T>
  T* FindComponentByClass() const { return nullptr; }
};

enum ELevelTick { LEVELTICK_All };
enum ETickingGroup { TG_PrePhysics };
namespace EEndPlayReason {
enum Type { Destroyed };
}
struct FActorComponentTickFunction {
  bool bCanEverTick = false;
  ETickingGroup TickGroup = TG_PrePhysics;
};

class UActorComponent : public UObject {
 public:
  virtual ~UActorComponent() = default;
  virtual void TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction) {}
  virtual void EndPlay(const EEndPlayReason::Type Reason) {}
  AActor* GetOwner() const { return nullptr; }
  FActorComponentTickFunction PrimaryComponentTick;
};

class UBlueprintFunctionLibrary : public UObject {};

// --- the editor bake: packages, animation sequences, their data controller --------------------------------------
enum EObjectFlags { RF_Public = 1, RF_Standalone = 2 };
inline EObjectFlags operator|(EObjectFlags a, EObjectFlags b) { return EObjectFlags(int(a) | int(b)); }
class UPackage : public UObject {};
inline UPackage* CreatePackage(const TCHAR* PackageName) { return nullptr; }
template <class T>
T* NewObject(UObject* Outer, const TCHAR* Name, EObjectFlags Flags) { return nullptr; }
struct FPaths {
  static FString Combine(const FString& A, const FString& B) { return A; }
};
class USkeleton : public UObject {};
struct FRichCurveKey {
  FRichCurveKey(float Time, float Value) {}
};
enum class ERawCurveTrackTypes { RCT_Float };
struct FAnimationCurveIdentifier {
  FAnimationCurveIdentifier(FName Name, ERawCurveTrackTypes Type) {}
};
class IAnimationDataController {
 public:
  void OpenBracket(const FText& Description) {}
  void CloseBracket() {}
  void InitializeModel() {}
  void SetFrameRate(FFrameRate Rate) {}
  void SetNumberOfFrames(FFrameNumber Frames) {}
  bool AddCurve(const FAnimationCurveIdentifier& Curve) { return true; }
  bool SetCurveKeys(const FAnimationCurveIdentifier& Curve, const TArray<FRichCurveKey>& Keys) { return true; }
  void NotifyPopulated() {}
};
class UAnimSequence : public UObject {
 public:
  void SetSkeleton(USkeleton* Skeleton) {}
  IAnimationDataController& GetController() { return controller_; }
  void MarkPackageDirty() {}
  FString GetPathName() const { return FString(); }

 private:
  IAnimationDataController controller_;
};
struct FAssetRegistryModule {
  static void AssetCreated(UObject* Asset) {}
};
class FDefaultModuleImpl {};

class USoundBase : public UObject {};
class USoundWave : public USoundBase {
 public:
  bool GetImportedSoundWaveData(TArray<uint8>& OutRawPCMData, uint32& OutSampleRate, uint16& OutNumChannels) {
    return false;
  }
};
class UAudioComponent : public USceneComponent {
 public:
  void Stop() {}
};
struct UGameplayStatics {
  static UAudioComponent* SpawnSoundAttached(USoundBase* Sound, USceneComponent* AttachToComponent) { return nullptr; }
};

namespace Audio {
struct FCaptureDeviceInfo {
  int32 PreferredSampleRate = 48000;
  int32 InputChannels = 1;
};
struct FAudioCaptureDeviceParams {};
using FOnAudioCaptureFunction = std::function<void(const void*, int32, int32, int32, double, bool)>;
class FAudioCapture {
 public:
  bool GetCaptureDeviceInfo(FCaptureDeviceInfo& OutInfo) { return false; }
  bool OpenAudioCaptureStream(const FAudioCaptureDeviceParams& Params, FOnAudioCaptureFunction OnCapture,
                              uint32 NumFramesDesired) { return false; }
  bool StartStream() { return false; }
  bool CloseStream() { return true; }
};
}  // namespace Audio

// --- modules and Live Link (only what the plugin's headers name) ---------------------------------------------
class IModuleInterface {
 public:
  virtual ~IModuleInterface() = default;
  virtual void StartupModule() {}
  virtual void ShutdownModule() {}
};

class ILiveLinkClient;
class ILiveLinkSource {
 public:
  virtual ~ILiveLinkSource() = default;
  virtual void ReceiveClient(ILiveLinkClient* InClient, FGuid InSourceGuid) = 0;
  virtual bool IsSourceStillValid() const = 0;
  virtual bool RequestSourceShutdown() = 0;
  virtual FText GetSourceType() const = 0;
  virtual FText GetSourceMachineName() const = 0;
  virtual FText GetSourceStatus() const = 0;
};
