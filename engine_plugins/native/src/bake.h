// One Bake call: a whole clip to the sidecar in one request, every frame back in one reply.
// Unlike a stream it needs no thread or queue of its own, and it may carry a transcript or ask for
// recognised words, which only whole-clip animation can use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "emobridge.h"
#include "wire.h"

namespace eb {

// An eb_emotion_key, copied (or a change of a clip).
struct EmotionKey {
  double time_seconds = 0.0;
  float transition_seconds = 0.0f;  // negative = the sidecar's default
  pb::Emotion emotion;              // intensities by name, or a valence/arousal point the sidecar maps
};

// eb_bake_config, validated and copied into owned values.
struct BakeSettings {
  uint32_t sample_rate = 16000, channels = 1, timeout_ms = 600000;
  double fps = 60.0;
  uint64_t seed = 0;
  float mouth_preservation = -1.0f, style_energy = 0.0f, style_smoothness = 0.0f;
  std::string rig_profile, transcript;
  bool recognize_words = false;
  Emotion emotion;
  std::vector<EmotionKey> emotion_keys;
};

// Upper bound of the frames a bake of `frames` sample frames returns (eb_bake_max_frames).
size_t max_bake_frames(size_t frames, uint32_t sample_rate, double fps);

// Bytes of `frames` interleaved sample frames, or an error (EB_ERR_INVALID_ARGUMENT, reason set) when one Bake
// request cannot carry them. Returns an eb_result; *bytes is set on EB_OK.
int32_t sample_bytes(size_t frames, uint32_t channels, bool f32, size_t* bytes);

// Bakes interleaved samples (`f32`: float in -1..1, else int16) into out[0..*count). Returns an eb_result.
// `context` (optional) is the call's, so another thread can cancel it.
int32_t bake(const std::shared_ptr<grpc::Channel>& channel, const BakeSettings& settings, const void* samples,
             size_t frames, bool f32, eb_frame* out, size_t capacity, size_t* count, eb_bake_info* info,
             grpc::ClientContext* context = nullptr);

}  // namespace eb
