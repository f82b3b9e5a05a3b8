// The handles the C ABI hands out: ids mapped to live objects, so NULL, closed and made-up handles
// are recognised instead of dereferenced. An id is (serial << 2 | kind); serials are never reused,
// which tells "closed" from "never was" without remembering closed ids.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "emobridge.h"
#include "errors.h"

namespace eb {

enum class Kind : uintptr_t { kClient = 1, kStream = 2, kClip = 3 };

class Handles {
 public:
  // Never destroyed: streams left open at exit must not be torn down during static destruction,
  // while gRPC itself may already be gone.
  static Handles& instance() {
    static Handles* handles = new Handles;
    return *handles;
  }

  // Registers an object; a stream or clip names its client as parent. Returns 0 if the parent is gone.
  uintptr_t add(std::shared_ptr<void> object, Kind kind, uintptr_t parent = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    if (parent && !live_.count(parent)) return 0;
    uintptr_t id = (next_serial_++ << 2) | uintptr_t(kind);
    live_.emplace(id, Entry{kind, parent, std::move(object)});
    return id;
  }

  // The live object behind a handle, or null with the reason set (eb_last_error).
  template <class T>
  std::shared_ptr<T> find(const void* handle, Kind kind, int32_t* code) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = lookup_locked(handle, kind, code);
    return it == live_.end() ? nullptr : std::static_pointer_cast<T>(it->second.object);
  }

  // Like find, and unregisters it: later lookups say EB_ERR_CLOSED.
  template <class T>
  std::shared_ptr<T> take(const void* handle, Kind kind, int32_t* code) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = lookup_locked(handle, kind, code);
    if (it == live_.end()) return nullptr;
    auto object = std::static_pointer_cast<T>(it->second.object);
    live_.erase(it);
    return object;
  }

  // Unregisters and returns every object of `kind` whose parent is `parent`.
  template <class T>
  std::vector<std::shared_ptr<T>> take_children(uintptr_t parent, Kind kind) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<T>> children;
    for (auto it = live_.begin(); it != live_.end();) {
      if (it->second.parent == parent && it->second.kind == kind) {
        children.push_back(std::static_pointer_cast<T>(it->second.object));
        it = live_.erase(it);
      } else {
        ++it;
      }
    }
    return children;
  }

 private:
  struct Entry {
    Kind kind;
    uintptr_t parent;
    std::shared_ptr<void> object;
  };
  using Map = std::unordered_map<uintptr_t, Entry>;

  Map::iterator lookup_locked(const void* handle, Kind kind, int32_t* code) {
    const char* what = kind == Kind::kClient ? "client" : kind == Kind::kStream ? "stream" : "clip";
    auto id = reinterpret_cast<uintptr_t>(handle);
    if (!id) {
      *code = fail(EB_ERR_INVALID_HANDLE, std::string(what) + " handle is NULL");
      return live_.end();
    }
    auto it = live_.find(id);
    if (it != live_.end() && it->second.kind == kind) return it;
    bool was_issued = (id & 3) == uintptr_t(kind) && (id >> 2) > 0 && (id >> 2) < next_serial_;
    *code = was_issued ? fail(EB_ERR_CLOSED, std::string(what) + " handle was closed")
                       : fail(EB_ERR_INVALID_HANDLE, std::string("not a ") + what + " handle");
    return live_.end();
  }

  std::mutex mu_;
  Map live_;
  uintptr_t next_serial_ = 1;
};

}  // namespace eb
