// One Animate stream: the caller-facing queues (audio and emotion out, frames in) and the background
// thread that owns the gRPC call, reopening it with backoff when the sidecar goes away.
// Every public method is thread-safe; results are eb_result codes (details via eb::fail).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "audio.h"
#include "emobridge.h"
#include "frame_queue.h"
#include "wire.h"

namespace eb {

// eb_stream_config, validated and copied into owned values.
struct StreamSettings {
  uint32_t sample_rate = 16000, channels = 1, frame_queue_capacity = 256, audio_queue_ms = 10000;
  double fps = 60.0;
  uint64_t seed = 0;
  float mouth_preservation = -1.0f, style_energy = 0.0f, style_smoothness = 0.0f;
  bool reconnect = true;
  std::chrono::milliseconds backoff_initial{100}, backoff_max{2000};
  std::string rig_profile;
  Emotion emotion;
};

class Stream {
 public:
  Stream(std::shared_ptr<grpc::Channel> channel, StreamSettings settings);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  void start();
  int32_t push(const int16_t* samples, size_t frames);
  int32_t push(const float* samples, size_t frames);
  // `emotion` may carry valence/arousal; time_seconds < 0 = at once, else on the caller's audio timeline.
  int32_t set_emotion(const pb::Emotion& emotion, float transition_seconds, double time_seconds);
  int32_t end_audio();
  int32_t poll_latest(eb_frame* out);
  int32_t drain(eb_frame* out, size_t capacity, size_t* count);
  int32_t wait(std::chrono::milliseconds timeout);
  int32_t state(int32_t* out);
  int32_t stats(eb_stream_stats* out);
  int32_t error(std::string* out);
  // Cancels the call and joins the thread; idempotent.
  void close();

 private:
  enum class Outcome { kEnded, kRetry, kFatal, kClosed };

  template <class Sample>
  int32_t push_any(const Sample* samples, size_t frames);
  int32_t writable_locked() const;
  void run();
  Outcome connect_once();
  void read_responses(grpc::ClientReaderWriter<pb::AnimateRequest, pb::AnimateResponse>* call);
  void on_frame(const pb::Frame& frame);
  pb::AnimateRequest config_request_locked() const;
  double audio_written_seconds_locked() const;
  void fold_due_locked(double until_seconds);
  void record_sent_emotion_locked(const pb::EmotionUpdate& update);
  void set_state_locked(int32_t state);

  const StreamSettings settings_;
  std::unique_ptr<pb::EmoBridge::Stub> stub_;
  std::thread worker_;

  mutable std::mutex mu_;                // guards everything below
  std::condition_variable changed_;      // outbound queue, frames, state or close changed
  bool closed_ = false;
  int32_t state_ = EB_STATE_CONNECTING;
  std::string error_;
  grpc::ClientContext* call_context_ = nullptr;  // the live call, so close() can cancel it

  // Outbound: requests in caller order; audio bytes counted against the queue bound.
  AudioChunker chunker_;
  std::deque<pb::AnimateRequest> outbound_;
  size_t outbound_audio_bytes_ = 0;
  const size_t max_audio_bytes_;
  bool audio_ended_ = false;             // the caller called end_audio
  // What a reconnect must restore. Emotion updates written to a sidecar die with it, so the stream
  // remembers them: base_emotion_ is the emotion in effect once every written update whose time has
  // come is applied (a new connection's initial emotion); pending_timed_ holds written updates timed
  // later than that (re-sent, re-timed, on a new connection), sorted by time, ties in send order.
  pb::Emotion base_emotion_;
  std::vector<std::pair<double, pb::EmotionUpdate>> pending_timed_;  // (caller-timeline seconds, update)
  uint64_t audio_written_bytes_ = 0;     // wire audio taken for writing (sent or lost) on all connections
  double connection_start_seconds_ = 0;  // caller-timeline time of the current connection's audio time 0

  // Inbound.
  FrameQueue frames_;
  uint64_t next_index_ = 0;              // index the next frame gets on the caller's timeline
  uint64_t segment_base_ = 0;            // offset of the current connection's frame numbers
  uint32_t connections_ = 0;             // connections that received a header
  double fps_ = 0.0;
  std::string stream_id_;
  bool reader_done_ = false;
  bool header_seen_ = false;
  int end_reason_ = 0;                   // StreamEnd.reason of the current connection (0 = none yet)

  uint64_t frames_received_ = 0, frames_dropped_ = 0, audio_accepted_ = 0, audio_rejected_ = 0;
};

}  // namespace eb
