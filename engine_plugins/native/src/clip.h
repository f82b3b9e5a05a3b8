// One clip (eb_clip_*): a whole clip baked, and baked again at every emotion change, on its own thread.
// Each change becomes an emotion key at the clip time it names, so it lands exactly where it is heard.
// One bake is in flight at a time; changes made meanwhile are all taken by the next one. Callers read the
// newest finished bake; a failed bake leaves it in place, and one that found no sidecar is retried with backoff.
// Every public method is thread-safe; results are eb_result codes (details via eb::fail).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bake.h"
#include "emobridge.h"

namespace eb {

class Clip {
 public:
  // `samples` holds `frames` interleaved sample frames as bytes (`f32`: float, else int16); `settings`
  // carries the clip's emotion and any keys every bake starts from.
  Clip(std::shared_ptr<grpc::Channel> channel, BakeSettings settings, std::vector<char> samples, size_t frames,
       bool f32);
  ~Clip();
  Clip(const Clip&) = delete;
  Clip& operator=(const Clip&) = delete;

  void start();  // starts the thread and the first bake
  int32_t add_change(EmotionKey change);
  int32_t sample(double time_seconds, eb_frame* out);
  int32_t frames(eb_frame* out, size_t capacity, size_t* count, uint64_t* version);
  int32_t wait(uint32_t changes, std::chrono::milliseconds timeout);
  int32_t status(eb_clip_status* out);
  int32_t error(std::string* out);
  // Cancels the bake in flight and joins the thread; idempotent.
  void close();

 private:
  // A finished bake.
  struct Baked {
    std::vector<eb_frame> frames;
    eb_bake_info info{};
    uint32_t changes = 0;  // the first this many changes are in it
  };

  void run();
  int32_t readable_locked() const;

  const std::shared_ptr<grpc::Channel> channel_;
  const BakeSettings settings_;
  const std::vector<char> samples_;
  const size_t frame_count_;
  const bool f32_;
  std::thread worker_;

  mutable std::mutex mu_;             // guards everything below
  std::condition_variable changed_;   // a change, a bake back, or close
  bool closed_ = false;
  bool wanted_ = false;               // a bake is due (the first one, or changes since the last start)
  bool baking_ = false;
  grpc::ClientContext* call_context_ = nullptr;  // the bake in flight, so close() can cancel it
  std::vector<EmotionKey> changes_;
  std::shared_ptr<const Baked> latest_;  // the newest good bake; shared so readers copy outside the lock
  uint64_t version_ = 0;
  uint32_t bakes_started_ = 0;
  int32_t last_result_ = EB_OK;
  std::string error_;
};

}  // namespace eb
