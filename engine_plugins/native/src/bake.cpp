#include "bake.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "errors.h"

namespace eb {

namespace {

// Samples per request: the channel's send limit and the sidecar's default receive limit (64 MB), less room
// for the other fields (a transcript is at most 64 KiB).
constexpr size_t kMaxSampleBytes = 64 * 1024 * 1024 - 256 * 1024;

pb::BakeRequest request_of(const BakeSettings& s, const void* samples, size_t bytes, bool f32) {
  pb::BakeRequest request;
  auto* pcm = request.mutable_pcm();
  // The samples go as they are: the sidecar mixes and resamples exactly as for a file.
  pcm->set_data(samples, bytes);
  pcm->set_encoding(f32 ? pb::AUDIO_ENCODING_PCM_F32LE : pb::AUDIO_ENCODING_PCM_S16LE);
  pcm->set_sample_rate(s.sample_rate);
  pcm->set_channels(s.channels);
  request.set_transcript(s.transcript);
  request.set_recognize_words(s.recognize_words);
  request.set_fps(s.fps);
  request.set_seed(s.seed);
  if (s.mouth_preservation >= 0.0f) request.set_mouth_preservation(s.mouth_preservation);
  request.mutable_style()->set_energy(s.style_energy);
  request.mutable_style()->set_smoothness(s.style_smoothness);
  request.set_rig_profile(s.rig_profile);
  auto add_key = [&request](const EmotionKey& k) {
    auto* key = request.add_emotion_keyframes();
    *key->mutable_emotion() = k.emotion;
    key->set_time_seconds(k.time_seconds);
    if (k.transition_seconds >= 0.0f) key->set_transition_seconds(k.transition_seconds);  // unset = the default
  };
  // The clip's emotion: one keyframe at 0 without a ramp, so it holds from the first frame; then the changes.
  // Neutral needs it too when changes follow: the sidecar holds its first keyframe from the start.
  if (!s.emotion.empty() || !s.emotion_keys.empty()) add_key({0.0, 0.0f, emotion_to_proto(s.emotion)});
  for (const EmotionKey& k : s.emotion_keys) add_key(k);
  return request;
}

}  // namespace

size_t max_bake_frames(size_t frames, uint32_t sample_rate, double fps) {
  if (!sample_rate || !(fps > 0.0)) return 0;
  // The sidecar makes max(1, round(seconds * fps)) frames of the audio resampled to 16 kHz, whose length
  // may round up by a sample: +2 covers both roundings.
  return size_t(std::floor(double(frames) / sample_rate * fps)) + 2;
}

int32_t sample_bytes(size_t frames, uint32_t channels, bool f32, size_t* bytes) {
  size_t bytes_per_frame = channels * (f32 ? sizeof(float) : sizeof(int16_t));
  if (frames > kMaxSampleBytes / bytes_per_frame)  // checked before multiplying, so a huge count cannot overflow
    return fail(EB_ERR_INVALID_ARGUMENT, std::to_string(frames) + " sample frames are more than one Bake request " +
                                             "carries (64 MB); send 16 kHz mono int16 or split the clip");
  *bytes = frames * bytes_per_frame;
  return EB_OK;
}

int32_t bake(const std::shared_ptr<grpc::Channel>& channel, const BakeSettings& settings, const void* samples,
             size_t frames, bool f32, eb_frame* out, size_t capacity, size_t* count, eb_bake_info* info,
             grpc::ClientContext* context) {
  size_t bytes = 0;
  if (int32_t r = sample_bytes(frames, settings.channels, f32, &bytes)) return r;
  pb::BakeRequest request = request_of(settings, samples, bytes, f32);
  pb::BakeResponse reply;
  grpc::ClientContext own_context;
  if (!context) context = &own_context;
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(settings.timeout_ms));
  grpc::Status status = pb::EmoBridge::NewStub(channel)->Bake(context, request, &reply);
  if (!status.ok()) return fail_call(status, "the bake", settings.timeout_ms);

  const auto& baked = reply.animation().frames();
  *count = size_t(baked.size());
  if (*count > capacity)
    return fail(EB_ERR_INVALID_ARGUMENT, "the bake has " + std::to_string(*count) + " frames, out_frames holds " +
                                             std::to_string(capacity) + "; size it with eb_bake_max_frames");
  for (int i = 0; i < baked.size(); ++i) {
    out[i] = frame_from_proto(baked[i]);
    out[i].index = baked[i].index();
    out[i].time_seconds = baked[i].time_seconds();
  }
  if (info) {
    info->duration_seconds = reply.meta().duration_seconds();
    std::memset(info->route, 0, sizeof info->route);
    const std::string& route = reply.meta().route();
    std::memcpy(info->route, route.data(), std::min(route.size(), sizeof info->route - 1));
    if (info->struct_size >= sizeof *info) {  // ABI 5's fields
      const std::string& meta = reply.meta().meta_json();
      info->meta_json_length = meta.size();
      if (info->meta_json && info->meta_json_capacity) {
        bool fits = meta.size() < info->meta_json_capacity;
        if (fits) std::memcpy(info->meta_json, meta.data(), meta.size());
        info->meta_json[fits ? meta.size() : 0] = '\0';
      }
    }
  }
  return EB_OK;
}

}  // namespace eb
