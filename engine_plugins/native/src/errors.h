// Errors across the C ABI: every eb_* call clears this thread's message, a failing one sets it.
#pragma once

#include <cstdint>
#include <string>

#include "emobridge.h"

namespace eb {

inline std::string& thread_error() {
  thread_local std::string message;
  return message;
}

// Records why a call failed (read back with eb_last_error) and returns its code.
inline int32_t fail(int32_t code, std::string message) {
  thread_error() = std::move(message);
  return code;
}

}  // namespace eb
