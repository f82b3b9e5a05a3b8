// Frames out: a fixed-capacity ring of eb_frame that drops its oldest frame when full, so a caller
// that stops draining never makes the stream grow. Not thread-safe: the owning Stream locks it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "emobridge.h"

namespace eb {

class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity) : ring_(capacity) {}

  // Returns false when the oldest frame had to be dropped to make room.
  bool push(const eb_frame& frame) {
    bool dropped = size_ == ring_.size();
    if (dropped) pop_front();
    ring_[(head_ + size_) % ring_.size()] = frame;
    ++size_;
    return !dropped;
  }

  size_t pop(eb_frame* out, size_t max) {
    size_t n = 0;
    for (; n < max && size_; ++n) {
      out[n] = ring_[head_];
      pop_front();
    }
    return n;
  }

  // The newest frame; only when size() > 0.
  const eb_frame& back() const { return ring_[(head_ + size_ - 1) % ring_.size()]; }
  void clear() { head_ = size_ = 0; }
  size_t size() const { return size_; }

 private:
  void pop_front() {
    head_ = (head_ + 1) % ring_.size();
    --size_;
  }

  std::vector<eb_frame> ring_;
  size_t head_ = 0, size_ = 0;
};

}  // namespace eb
