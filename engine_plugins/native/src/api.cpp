// The C ABI (include/emobridge.h): argument checks, handle lookup, and nothing C++ crossing the line.
// Each entry point clears this thread's error, catches every exception, and forwards to Client/Stream/Clip.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "bake.h"
#include "client.h"
#include "clip.h"
#include "emobridge.h"
#include "errors.h"
#include "handles.h"
#include "stream.h"

using eb::fail;
using eb::Kind;

namespace {

constexpr size_t kMaxName = 256;  // longest address, emotion name or rig profile taken
constexpr uint32_t kMaxEmotionNames = 64;
constexpr size_t kMaxTranscript = 65536;  // bytes; a line of dialogue is far shorter
constexpr uint32_t kMaxEmotionKeys = 4096;

template <class F>
int32_t guarded(F&& body) noexcept {
  eb::thread_error().clear();
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(EB_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(EB_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(EB_ERR_INTERNAL, "internal error");
  }
}

// A C string of at most kMaxName bytes, or false with the reason set.
bool read_string(const char* text, const char* what, std::string* out) {
  if (!text) return fail(EB_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL"), false;
  size_t n = strnlen(text, kMaxName + 1);
  if (n > kMaxName) return fail(EB_ERR_INVALID_ARGUMENT, std::string(what) + " is longer than 256 bytes"), false;
  out->assign(text, n);
  return true;
}

bool read_emotion(const char* const* names, const float* values, uint32_t count, eb::Emotion* out) {
  if (count > kMaxEmotionNames)
    return fail(EB_ERR_INVALID_ARGUMENT, "more than 64 emotion names"), false;
  if (count && (!names || !values))
    return fail(EB_ERR_INVALID_ARGUMENT, "emotion names or values are NULL with a count > 0"), false;
  out->clear();
  for (uint32_t i = 0; i < count; ++i) {
    std::string name;
    if (!read_string(names[i], "an emotion name", &name)) return false;
    if (!std::isfinite(values[i]) || values[i] < 0.0f || values[i] > 1.0f)
      return fail(EB_ERR_INVALID_ARGUMENT, "emotion intensity of '" + name + "' must be in 0..1"), false;
    out->emplace_back(std::move(name), values[i]);
  }
  return true;
}

bool in_range(double value, double lo, double hi) { return std::isfinite(value) && value >= lo && value <= hi; }

// transition_seconds and time_seconds of the emotion calls; their "negative = default / at once" is
// handled by Stream::set_emotion.
bool read_timing(float transition_seconds, double time_seconds) {
  if (std::isnan(transition_seconds) || transition_seconds > 3600.0f)
    return fail(EB_ERR_INVALID_ARGUMENT, "transition_seconds must be <= 3600 (negative = the default)"), false;
  if (std::isinf(time_seconds) && time_seconds > 0)
    return fail(EB_ERR_INVALID_ARGUMENT, "time_seconds must be finite (negative or NaN = at once)"), false;
  return true;
}

// NaN means "at once" for callers that have no time; the stream takes any negative as that.
double at_once_if_nan(double time_seconds) { return std::isnan(time_seconds) ? -1.0 : time_seconds; }

bool bad_argument(const std::string& why) { return fail(EB_ERR_INVALID_ARGUMENT, why), false; }

// The fields streams and bakes share, checked and copied the same way for both. `oldest` is the size of the
// config in the first ABI that had it: fields appended since are read only when struct_size covers them.
template <class Config, class Settings>
bool read_shared_fields(const Config* c, const char* init, size_t oldest, Settings* s) {
  if (!c) return bad_argument("config is NULL");
  if (c->struct_size < oldest)
    return bad_argument("config.struct_size is " + std::to_string(c->struct_size) + ", expected at least " +
                        std::to_string(oldest) + "; fill the config with " + init);
  if (c->sample_rate < 8000 || c->sample_rate > 192000) return bad_argument("sample_rate must be 8000..192000 Hz");
  if (c->channels < 1 || c->channels > 8) return bad_argument("channels must be 1..8");
  if (!(c->fps > 0.0 && c->fps <= 240.0)) return bad_argument("fps must be in (0, 240]");
  if (std::isnan(c->mouth_preservation) || c->mouth_preservation > 1.0f)
    return bad_argument("mouth_preservation must be in 0..1 (negative = the server default)");
  if (!in_range(c->style_energy, -1, 1) || !in_range(c->style_smoothness, -1, 1))
    return bad_argument("style_energy and style_smoothness must be in -1..1");
  s->sample_rate = c->sample_rate;
  s->channels = c->channels;
  s->fps = c->fps;
  s->seed = c->seed;
  s->mouth_preservation = c->mouth_preservation;
  s->style_energy = c->style_energy;
  s->style_smoothness = c->style_smoothness;
  if (c->rig_profile && !read_string(c->rig_profile, "rig_profile", &s->rig_profile)) return false;
  return read_emotion(c->emotion_names, c->emotion_values, c->emotion_count, &s->emotion);
}

// eb_stream_config -> StreamSettings, checking every field.
bool read_config(const eb_stream_config* c, eb::StreamSettings* s) {
  if (!read_shared_fields(c, "eb_stream_config_init", sizeof *c, s)) return false;
  if (c->frame_queue_capacity < 1 || c->frame_queue_capacity > 65536)
    return bad_argument("frame_queue_capacity must be 1..65536");
  if (c->audio_queue_ms < 100 || c->audio_queue_ms > 600000) return bad_argument("audio_queue_ms must be 100..600000");
  if (c->reconnect_initial_ms < 1 || c->reconnect_max_ms < c->reconnect_initial_ms || c->reconnect_max_ms > 600000)
    return bad_argument("reconnect delays must satisfy 1 <= reconnect_initial_ms <= reconnect_max_ms <= 600000");
  s->frame_queue_capacity = c->frame_queue_capacity;
  s->audio_queue_ms = c->audio_queue_ms;
  s->reconnect = c->reconnect != 0;
  s->backoff_initial = std::chrono::milliseconds(c->reconnect_initial_ms);
  s->backoff_max = std::chrono::milliseconds(c->reconnect_max_ms);
  return true;
}

// Whether `text` is well-formed UTF-8 (protobuf strings must be; the sidecar would refuse the request).
bool is_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    unsigned char lead = text[i];
    size_t extra = lead < 0x80 ? 0 : (lead & 0xE0) == 0xC0 ? 1 : (lead & 0xF0) == 0xE0 ? 2 : (lead & 0xF8) == 0xF0 ? 3 : 4;
    if (extra > 3 || i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

// eb_emotion_key[count] -> EmotionKeys, checking every field.
bool read_emotion_keys(const eb_emotion_key* keys, uint32_t count, std::vector<eb::EmotionKey>* out) {
  if (count > kMaxEmotionKeys) return bad_argument("more than 4096 emotion_keys");
  if (count && !keys) return bad_argument("emotion_keys is NULL with emotion_key_count > 0");
  out->assign(count, {});
  for (uint32_t i = 0; i < count; ++i) {
    const std::string which = "emotion_keys[" + std::to_string(i) + "]";
    if (!in_range(keys[i].time_seconds, 0.0, 1e7)) return bad_argument(which + ".time_seconds must be finite and >= 0");
    if (!in_range(keys[i].transition_seconds, 0.0, 3600.0))
      return bad_argument(which + ".transition_seconds must be in 0..3600");
    (*out)[i].time_seconds = keys[i].time_seconds;
    (*out)[i].transition_seconds = keys[i].transition_seconds;
    eb::Emotion emotion;
    if (!read_emotion(keys[i].names, keys[i].values, keys[i].count, &emotion))
      return bad_argument(which + ": " + eb::thread_error());
    (*out)[i].emotion = eb::emotion_to_proto(emotion);
  }
  return true;
}

// eb_bake_config -> BakeSettings, checking every field.
bool read_bake_config(const eb_bake_config* c, eb::BakeSettings* s) {
  if (!read_shared_fields(c, "eb_bake_config_init", offsetof(eb_bake_config, emotion_keys), s)) return false;
  if (c->timeout_ms < 1 || c->timeout_ms > 3600000) return bad_argument("timeout_ms must be 1..3600000");
  if (c->transcript) {
    size_t n = strnlen(c->transcript, kMaxTranscript + 1);
    if (n > kMaxTranscript) return bad_argument("transcript is longer than 65536 bytes; split the clip");
    s->transcript.assign(c->transcript, n);
    if (!is_utf8(s->transcript)) return bad_argument("transcript is not valid UTF-8");
  }
  s->recognize_words = c->recognize_words != 0;
  s->timeout_ms = c->timeout_ms;
  if (c->struct_size >= sizeof *c && !read_emotion_keys(c->emotion_keys, c->emotion_key_count, &s->emotion_keys))
    return false;
  return true;
}

std::shared_ptr<eb::Stream> find_stream(eb_stream* handle, int32_t* code) {
  return eb::Handles::instance().find<eb::Stream>(handle, Kind::kStream, code);
}

template <class Sample>
int32_t push(eb_stream* handle, const Sample* samples, size_t frames) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    if (!samples && frames) return fail(EB_ERR_INVALID_ARGUMENT, "samples is NULL");
    return frames ? stream->push(samples, frames) : EB_OK;
  });
}

// What a bake and a clip check alike: the audio, the client and the config. Returns an eb_result.
int32_t read_bake(eb_client* client_handle, const eb_bake_config* config, const void* samples, size_t frames,
                  std::shared_ptr<eb::Client>* client, eb::BakeSettings* settings) {
  if (!samples && frames) return fail(EB_ERR_INVALID_ARGUMENT, "samples is NULL");
  if (!frames) return fail(EB_ERR_INVALID_ARGUMENT, "the audio has no samples (frame_count is 0)");
  int32_t code = EB_OK;
  *client = eb::Handles::instance().find<eb::Client>(client_handle, Kind::kClient, &code);
  if (!*client) return code;
  return read_bake_config(config, settings) ? EB_OK : EB_ERR_INVALID_ARGUMENT;
}

template <class Sample>
int32_t bake(eb_client* client_handle, const eb_bake_config* config, const Sample* samples, size_t frames,
             eb_frame* out_frames, size_t capacity, size_t* out_count, eb_bake_info* out_info) {
  return guarded([&]() -> int32_t {
    if (out_count) *out_count = 0;
    if (!out_count) return fail(EB_ERR_INVALID_ARGUMENT, "out_count is NULL");
    if (!out_frames && capacity) return fail(EB_ERR_INVALID_ARGUMENT, "out_frames is NULL");
    if (out_info && out_info->struct_size < offsetof(eb_bake_info, meta_json))  // ABI 3's size is still taken
      return fail(EB_ERR_INVALID_ARGUMENT, "out_info->struct_size must be sizeof(eb_bake_info)");
    if (out_info && out_info->struct_size >= sizeof(eb_bake_info) && !out_info->meta_json &&
        out_info->meta_json_capacity)
      return fail(EB_ERR_INVALID_ARGUMENT, "out_info->meta_json is NULL with a capacity > 0");
    std::shared_ptr<eb::Client> client;
    eb::BakeSettings settings;
    if (int32_t r = read_bake(client_handle, config, samples, frames, &client, &settings)) return r;
    return eb::bake(client->channel, settings, samples, frames, std::is_same_v<Sample, float>, out_frames, capacity,
                    out_count, out_info);
  });
}

template <class Sample>
int32_t open_clip(eb_client* client_handle, const eb_bake_config* config, const Sample* samples, size_t frames,
                  eb_clip** out_clip) {
  return guarded([&]() -> int32_t {
    if (!out_clip) return fail(EB_ERR_INVALID_ARGUMENT, "out_clip is NULL");
    *out_clip = nullptr;
    std::shared_ptr<eb::Client> client;
    eb::BakeSettings settings;
    if (int32_t r = read_bake(client_handle, config, samples, frames, &client, &settings)) return r;
    constexpr bool f32 = std::is_same_v<Sample, float>;
    size_t bytes = 0;
    if (int32_t r = eb::sample_bytes(frames, settings.channels, f32, &bytes)) return r;
    const char* first = reinterpret_cast<const char*>(samples);
    auto clip = std::make_shared<eb::Clip>(client->channel, std::move(settings), std::vector<char>(first, first + bytes),
                                           frames, f32);
    uintptr_t id = eb::Handles::instance().add(clip, Kind::kClip, reinterpret_cast<uintptr_t>(client_handle));
    if (!id) return fail(EB_ERR_CLOSED, "the client was closed while the clip opened");
    clip->start();
    *out_clip = reinterpret_cast<eb_clip*>(id);
    return EB_OK;
  });
}

std::shared_ptr<eb::Clip> find_clip(eb_clip* handle, int32_t* code) {
  return eb::Handles::instance().find<eb::Clip>(handle, Kind::kClip, code);
}

// An error text into the caller's buffer (eb_stream_get_error, eb_clip_get_error): NUL-terminated, truncated
// to fit; *out_length (optional) gets its full length.
int32_t copy_text(const std::string& text, char* buffer, size_t capacity, size_t* out_length) {
  if (!buffer && capacity) return fail(EB_ERR_INVALID_ARGUMENT, "buffer is NULL");
  if (out_length) *out_length = text.size();
  if (capacity) {
    size_t n = std::min(text.size(), capacity - 1);
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
  }
  return EB_OK;
}

// A clip change's timing: transition <= 3600 (negative = the sidecar's default), a finite time >= 0 on the clip.
bool read_clip_timing(float transition_seconds, double time_seconds, eb::EmotionKey* change) {
  if (std::isnan(transition_seconds) || transition_seconds > 3600.0f)
    return bad_argument("transition_seconds must be <= 3600 (negative = the default)");
  if (!in_range(time_seconds, 0.0, 1e7))
    return bad_argument("time_seconds must be finite and >= 0 (a time on the clip)");
  change->time_seconds = time_seconds;
  change->transition_seconds = transition_seconds < 0.0f ? -1.0f : transition_seconds;
  return true;
}

}  // namespace

extern "C" {

EB_API const char* eb_version(void) { return EB_VERSION_STRING; }

EB_API uint32_t eb_abi_version(void) { return EB_ABI_VERSION; }

EB_API const char* eb_last_error(void) { return eb::thread_error().c_str(); }

EB_API const char* eb_result_name(int32_t result) {
  switch (result) {
    case EB_OK: return "EB_OK";
    case EB_NO_FRAME: return "EB_NO_FRAME";
    case EB_ERR_INVALID_ARGUMENT: return "EB_ERR_INVALID_ARGUMENT";
    case EB_ERR_INVALID_HANDLE: return "EB_ERR_INVALID_HANDLE";
    case EB_ERR_CLOSED: return "EB_ERR_CLOSED";
    case EB_ERR_UNAVAILABLE: return "EB_ERR_UNAVAILABLE";
    case EB_ERR_QUEUE_FULL: return "EB_ERR_QUEUE_FULL";
    case EB_ERR_STATE: return "EB_ERR_STATE";
    case EB_ERR_INTERNAL: return "EB_ERR_INTERNAL";
    default: return "unknown result";
  }
}

EB_API const char* eb_state_name(int32_t state) {
  switch (state) {
    case EB_STATE_CONNECTING: return "connecting";
    case EB_STATE_STREAMING: return "streaming";
    case EB_STATE_RECONNECTING: return "reconnecting";
    case EB_STATE_ENDED: return "ended";
    case EB_STATE_FAILED: return "failed";
    case EB_STATE_CLOSED: return "closed";
    default: return "unknown state";
  }
}

EB_API int32_t eb_client_connect(const char* address, uint32_t connect_timeout_ms, eb_client** out_client) {
  return guarded([&]() -> int32_t {
    if (!out_client) return fail(EB_ERR_INVALID_ARGUMENT, "out_client is NULL");
    *out_client = nullptr;
    std::string target;
    if (!read_string(address, "address", &target)) return EB_ERR_INVALID_ARGUMENT;
    if (target.empty()) return fail(EB_ERR_INVALID_ARGUMENT, "address is empty; use host:port");
    std::shared_ptr<eb::Client> client;
    if (int32_t r = eb::connect_client(target, connect_timeout_ms, &client)) return r;
    *out_client = reinterpret_cast<eb_client*>(eb::Handles::instance().add(client, Kind::kClient));
    return EB_OK;
  });
}

EB_API int32_t eb_client_close(eb_client* handle) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto& handles = eb::Handles::instance();
    auto client = handles.take<eb::Client>(handle, Kind::kClient, &code);
    if (!client) return code;
    auto parent = reinterpret_cast<uintptr_t>(handle);
    for (auto& stream : handles.take_children<eb::Stream>(parent, Kind::kStream)) stream->close();
    for (auto& clip : handles.take_children<eb::Clip>(parent, Kind::kClip)) clip->close();
    return EB_OK;
  });
}

EB_API int32_t eb_client_get_info(eb_client* handle, uint32_t timeout_ms, char* buffer, size_t capacity,
                                  size_t* out_length) {
  return guarded([&]() -> int32_t {
    if (out_length) *out_length = 0;
    if (!out_length) return fail(EB_ERR_INVALID_ARGUMENT, "out_length is NULL");
    if (!buffer && capacity) return fail(EB_ERR_INVALID_ARGUMENT, "buffer is NULL");
    if (timeout_ms < 1 || timeout_ms > 600000) return fail(EB_ERR_INVALID_ARGUMENT, "timeout_ms must be 1..600000");
    int32_t code = EB_OK;
    auto client = eb::Handles::instance().find<eb::Client>(handle, Kind::kClient, &code);
    if (!client) return code;
    std::string json;
    if (int32_t r = eb::get_info_json(*client, timeout_ms, &json)) return r;
    *out_length = json.size();
    if (capacity == 0) return EB_OK;
    if (capacity <= json.size()) {
      buffer[0] = '\0';
      return fail(EB_ERR_INVALID_ARGUMENT, "the info is " + std::to_string(json.size() + 1) + " bytes with its NUL, "
                                           "buffer holds " + std::to_string(capacity) + "; out_length says how many");
    }
    std::memcpy(buffer, json.data(), json.size() + 1);
    return EB_OK;
  });
}

EB_API void eb_stream_config_init(eb_stream_config* config) {
  if (!config) return;
  std::memset(config, 0, sizeof *config);
  config->struct_size = sizeof *config;
  config->sample_rate = 16000;
  config->channels = 1;
  config->frame_queue_capacity = 256;
  config->fps = 60.0;
  config->mouth_preservation = -1.0f;
  config->audio_queue_ms = 10000;
  config->reconnect = 1;
  config->reconnect_initial_ms = 100;
  config->reconnect_max_ms = 2000;
}

EB_API int32_t eb_stream_open(eb_client* client_handle, const eb_stream_config* config, eb_stream** out_stream) {
  return guarded([&]() -> int32_t {
    if (!out_stream) return fail(EB_ERR_INVALID_ARGUMENT, "out_stream is NULL");
    *out_stream = nullptr;
    int32_t code = EB_OK;
    auto& handles = eb::Handles::instance();
    auto client = handles.find<eb::Client>(client_handle, Kind::kClient, &code);
    if (!client) return code;
    eb::StreamSettings settings;
    if (!read_config(config, &settings)) return EB_ERR_INVALID_ARGUMENT;
    auto stream = std::make_shared<eb::Stream>(client->channel, std::move(settings));
    uintptr_t id = handles.add(stream, Kind::kStream, reinterpret_cast<uintptr_t>(client_handle));
    if (!id) return fail(EB_ERR_CLOSED, "the client was closed while the stream opened");
    stream->start();
    *out_stream = reinterpret_cast<eb_stream*>(id);
    return EB_OK;
  });
}

EB_API int32_t eb_stream_push_s16(eb_stream* stream, const int16_t* samples, size_t frame_count) {
  return push(stream, samples, frame_count);
}

EB_API int32_t eb_stream_push_f32(eb_stream* stream, const float* samples, size_t frame_count) {
  return push(stream, samples, frame_count);
}

EB_API int32_t eb_stream_set_emotion(eb_stream* handle, const char* const* names, const float* values, uint32_t count,
                                     float transition_seconds) {
  return eb_stream_set_emotion_at(handle, names, values, count, transition_seconds, -1.0);
}

EB_API int32_t eb_stream_set_emotion_at(eb_stream* handle, const char* const* names, const float* values,
                                        uint32_t count, float transition_seconds, double time_seconds) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    eb::Emotion emotion;
    if (!read_emotion(names, values, count, &emotion)) return EB_ERR_INVALID_ARGUMENT;
    if (!read_timing(transition_seconds, time_seconds)) return EB_ERR_INVALID_ARGUMENT;
    return stream->set_emotion(eb::emotion_to_proto(emotion), transition_seconds, at_once_if_nan(time_seconds));
  });
}

EB_API int32_t eb_stream_set_valence_arousal(eb_stream* handle, float valence, float arousal, float transition_seconds,
                                             double time_seconds) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    // Checked here: out of range, the sidecar would fail the whole stream with INVALID_ARGUMENT.
    if (!in_range(valence, -1, 1) || !in_range(arousal, -1, 1))
      return fail(EB_ERR_INVALID_ARGUMENT, "valence and arousal must be in -1..1");
    if (!read_timing(transition_seconds, time_seconds)) return EB_ERR_INVALID_ARGUMENT;
    eb::pb::Emotion message;  // no intensities: the point alone, mapped by the sidecar
    message.set_valence(valence);
    message.set_arousal(arousal);
    return stream->set_emotion(message, transition_seconds, at_once_if_nan(time_seconds));
  });
}

EB_API int32_t eb_stream_end_audio(eb_stream* handle) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    return stream ? stream->end_audio() : code;
  });
}

EB_API int32_t eb_stream_poll_latest(eb_stream* handle, eb_frame* out_frame) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    if (!out_frame) return fail(EB_ERR_INVALID_ARGUMENT, "out_frame is NULL");
    return stream->poll_latest(out_frame);
  });
}

EB_API int32_t eb_stream_drain(eb_stream* handle, eb_frame* out_frames, size_t capacity, size_t* out_count) {
  return guarded([&]() -> int32_t {
    if (out_count) *out_count = 0;
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    if (!out_count) return fail(EB_ERR_INVALID_ARGUMENT, "out_count is NULL");
    if (!out_frames && capacity) return fail(EB_ERR_INVALID_ARGUMENT, "out_frames is NULL");
    return stream->drain(out_frames, capacity, out_count);
  });
}

EB_API int32_t eb_stream_wait(eb_stream* handle, uint32_t timeout_ms) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    return stream ? stream->wait(std::chrono::milliseconds(timeout_ms)) : code;
  });
}

EB_API int32_t eb_stream_get_state(eb_stream* handle, int32_t* out_state) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    if (!out_state) return fail(EB_ERR_INVALID_ARGUMENT, "out_state is NULL");
    return stream->state(out_state);
  });
}

EB_API int32_t eb_stream_get_stats(eb_stream* handle, eb_stream_stats* out_stats) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    if (!out_stats) return fail(EB_ERR_INVALID_ARGUMENT, "out_stats is NULL");
    if (out_stats->struct_size < sizeof(eb_stream_stats))
      return fail(EB_ERR_INVALID_ARGUMENT, "out_stats->struct_size must be sizeof(eb_stream_stats)");
    return stream->stats(out_stats);
  });
}

EB_API int32_t eb_stream_get_error(eb_stream* handle, char* buffer, size_t capacity, size_t* out_length) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = find_stream(handle, &code);
    if (!stream) return code;
    std::string message;
    if (int32_t r = stream->error(&message)) return r;
    return copy_text(message, buffer, capacity, out_length);
  });
}

EB_API int32_t eb_stream_close(eb_stream* handle) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto stream = eb::Handles::instance().take<eb::Stream>(handle, Kind::kStream, &code);
    if (!stream) return code;
    stream->close();
    return EB_OK;
  });
}

EB_API void eb_bake_config_init(eb_bake_config* config) {
  if (!config) return;
  std::memset(config, 0, sizeof *config);
  config->struct_size = sizeof *config;
  config->sample_rate = 16000;
  config->channels = 1;
  config->fps = 60.0;
  config->mouth_preservation = -1.0f;
  config->timeout_ms = 600000;
}

EB_API size_t eb_bake_max_frames(size_t frame_count, uint32_t sample_rate, double fps) {
  return eb::max_bake_frames(frame_count, sample_rate, fps);
}

EB_API int32_t eb_bake_s16(eb_client* client, const eb_bake_config* config, const int16_t* samples, size_t frame_count,
                           eb_frame* out_frames, size_t capacity, size_t* out_count, eb_bake_info* out_info) {
  return bake(client, config, samples, frame_count, out_frames, capacity, out_count, out_info);
}

EB_API int32_t eb_bake_f32(eb_client* client, const eb_bake_config* config, const float* samples, size_t frame_count,
                           eb_frame* out_frames, size_t capacity, size_t* out_count, eb_bake_info* out_info) {
  return bake(client, config, samples, frame_count, out_frames, capacity, out_count, out_info);
}

EB_API int32_t eb_clip_open_s16(eb_client* client, const eb_bake_config* config, const int16_t* samples,
                                size_t frame_count, eb_clip** out_clip) {
  return open_clip(client, config, samples, frame_count, out_clip);
}

EB_API int32_t eb_clip_open_f32(eb_client* client, const eb_bake_config* config, const float* samples,
                                size_t frame_count, eb_clip** out_clip) {
  return open_clip(client, config, samples, frame_count, out_clip);
}

EB_API int32_t eb_clip_set_emotion_at(eb_clip* handle, const char* const* names, const float* values, uint32_t count,
                                      float transition_seconds, double time_seconds) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto clip = find_clip(handle, &code);
    if (!clip) return code;
    eb::Emotion emotion;
    eb::EmotionKey change;
    if (!read_emotion(names, values, count, &emotion) || !read_clip_timing(transition_seconds, time_seconds, &change))
      return EB_ERR_INVALID_ARGUMENT;
    change.emotion = eb::emotion_to_proto(emotion);
    return clip->add_change(std::move(change));
  });
}

EB_API int32_t eb_clip_set_valence_arousal(eb_clip* handle, float valence, float arousal, float transition_seconds,
                                           double time_seconds) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto clip = find_clip(handle, &code);
    if (!clip) return code;
    if (!in_range(valence, -1, 1) || !in_range(arousal, -1, 1))
      return fail(EB_ERR_INVALID_ARGUMENT, "valence and arousal must be in -1..1");
    eb::EmotionKey change;
    if (!read_clip_timing(transition_seconds, time_seconds, &change)) return EB_ERR_INVALID_ARGUMENT;
    change.emotion.set_valence(valence);  // the point alone, mapped by the sidecar
    change.emotion.set_arousal(arousal);
    return clip->add_change(std::move(change));
  });
}

EB_API int32_t eb_clip_sample(eb_clip* handle, double time_seconds, eb_frame* out_frame) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto clip = find_clip(handle, &code);
    if (!clip) return code;
    if (!out_frame) return fail(EB_ERR_INVALID_ARGUMENT, "out_frame is NULL");
    if (std::isnan(time_seconds)) return fail(EB_ERR_INVALID_ARGUMENT, "time_seconds is NaN");
    return clip->sample(time_seconds, out_frame);
  });
}

EB_API int32_t eb_clip_frames(eb_clip* handle, eb_frame* out_frames, size_t capacity, size_t* out_count,
                              uint64_t* out_version) {
  return guarded([&]() -> int32_t {
    if (out_count) *out_count = 0;
    if (out_version) *out_version = 0;
    int32_t code = EB_OK;
    auto clip = find_clip(handle, &code);
    if (!clip) return code;
    if (!out_count) return fail(EB_ERR_INVALID_ARGUMENT, "out_count is NULL");
    if (!out_frames && capacity) return fail(EB_ERR_INVALID_ARGUMENT, "out_frames is NULL");
    return clip->frames(out_frames, capacity, out_count, out_version);
  });
}

EB_API int32_t eb_clip_wait(eb_clip* handle, uint32_t changes, uint32_t timeout_ms) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto clip = find_clip(handle, &code);
    return clip ? clip->wait(changes, std::chrono::milliseconds(timeout_ms)) : code;
  });
}

EB_API int32_t eb_clip_get_status(eb_clip* handle, eb_clip_status* out_status) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto clip = find_clip(handle, &code);
    if (!clip) return code;
    if (!out_status) return fail(EB_ERR_INVALID_ARGUMENT, "out_status is NULL");
    if (out_status->struct_size < sizeof(eb_clip_status))
      return fail(EB_ERR_INVALID_ARGUMENT, "out_status->struct_size must be sizeof(eb_clip_status)");
    return clip->status(out_status);
  });
}

EB_API int32_t eb_clip_get_error(eb_clip* handle, char* buffer, size_t capacity, size_t* out_length) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto clip = find_clip(handle, &code);
    if (!clip) return code;
    std::string message;
    if (int32_t r = clip->error(&message)) return r;
    return copy_text(message, buffer, capacity, out_length);
  });
}

EB_API int32_t eb_clip_close(eb_clip* handle) {
  return guarded([&]() -> int32_t {
    int32_t code = EB_OK;
    auto clip = eb::Handles::instance().take<eb::Clip>(handle, Kind::kClip, &code);
    if (!clip) return code;
    clip->close();
    return EB_OK;
  });
}

}  // extern "C"
