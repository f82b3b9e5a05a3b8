// Misuse returns errors, never crashes: NULL / closed / made-up handles, bad addresses, bad configs,
// huge buffers, calls in the wrong state, and closing a stream while other threads use it.
// Needs no sidecar (nothing listens on the addresses used).
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "testkit.h"

using namespace testkit;

// The layouts the bindings mirror (Unity's NativeMethods.cs asserts the same sizes on its side).
static_assert(sizeof(void*) != 8 || (sizeof(eb_bake_info) == 56 && sizeof(eb_clip_status) == 64),
              "eb_bake_info / eb_clip_status changed size: update the bindings");

namespace {

const char* kNowhere = "127.0.0.1:1";  // nothing listens on port 1

void every_stream_call_returns(eb_stream* s, int32_t code) {
  int16_t pcm[160] = {};
  float f32[160] = {};
  eb_frame frame;
  size_t n = 0;
  int32_t state = 0;
  eb_stream_stats stats{};
  stats.struct_size = sizeof stats;
  char text[16];
  const char* names[] = {"happy"};
  const float values[] = {0.5f};
  CHECK_RC(eb_stream_push_s16(s, pcm, 160), code);
  CHECK_RC(eb_stream_push_f32(s, f32, 160), code);
  CHECK_RC(eb_stream_set_emotion(s, names, values, 1, 0.3f), code);
  CHECK_RC(eb_stream_end_audio(s), code);
  CHECK_RC(eb_stream_poll_latest(s, &frame), code);
  CHECK_RC(eb_stream_drain(s, &frame, 1, &n), code);
  CHECK(n == 0);
  CHECK_RC(eb_stream_wait(s, 1), code);
  CHECK_RC(eb_stream_get_state(s, &state), code);
  CHECK_RC(eb_stream_get_stats(s, &stats), code);
  CHECK_RC(eb_stream_get_error(s, text, sizeof text, nullptr), code);
  CHECK_RC(eb_stream_close(s), code);
  CHECK(std::strlen(eb_last_error()) > 0);
}

eb_stream_config base_config() {
  eb_stream_config c;
  eb_stream_config_init(&c);
  return c;
}

void open_fails(eb_client* client, eb_stream_config config, const char* what) {
  eb_stream* stream = reinterpret_cast<eb_stream*>(1);
  int32_t rc = eb_stream_open(client, &config, &stream);
  if (rc != EB_ERR_INVALID_ARGUMENT || stream != nullptr) {
    std::fprintf(stderr, "config with %s: %s\n", what, eb_result_name(rc));
    std::exit(1);
  }
}

void every_clip_call_returns(eb_clip* c, int32_t code) {
  const char* names[] = {"happy"};
  const float values[] = {0.5f};
  eb_frame frame;
  size_t n = 0;
  eb_clip_status status{};
  status.struct_size = sizeof status;
  char text[16];
  CHECK_RC(eb_clip_set_emotion_at(c, names, values, 1, 0.3f, 1.0), code);
  CHECK_RC(eb_clip_sample(c, 1.0, &frame), code);
  CHECK_RC(eb_clip_frames(c, &frame, 1, &n, nullptr), code);
  CHECK(n == 0);
  CHECK_RC(eb_clip_wait(c, 0, 1), code);
  CHECK_RC(eb_clip_get_status(c, &status), code);
  CHECK_RC(eb_clip_get_error(c, text, sizeof text, nullptr), code);
  CHECK_RC(eb_clip_close(c), code);
}

eb_bake_config base_bake_config() {
  eb_bake_config c;
  eb_bake_config_init(&c);
  return c;
}

void bake_fails(eb_client* client, eb_bake_config config, const char* what) {
  static int16_t clip[1600];
  static eb_frame frames[16];
  size_t count = 99;
  int32_t rc = eb_bake_s16(client, &config, clip, 1600, frames, 16, &count, nullptr);
  if (rc != EB_ERR_INVALID_ARGUMENT || count != 0) {
    std::fprintf(stderr, "bake config with %s: %s\n", what, eb_result_name(rc));
    std::exit(1);
  }
}

}  // namespace

int main() {
  CHECK(eb_abi_version() == EB_ABI_VERSION && std::strlen(eb_version()) > 0);
  CHECK(std::string(eb_result_name(EB_ERR_CLOSED)) == "EB_ERR_CLOSED");
  CHECK(std::string(eb_state_name(EB_STATE_RECONNECTING)) == "reconnecting");
  CHECK(std::string(eb_state_name(99)) == "unknown state");

  // --- bad addresses
  eb_client* client = reinterpret_cast<eb_client*>(1);
  CHECK_RC(eb_client_connect(nullptr, 0, &client), EB_ERR_INVALID_ARGUMENT);
  CHECK(client == nullptr);
  CHECK_RC(eb_client_connect("", 0, &client), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_client_connect(std::string(100000, 'a').c_str(), 0, &client), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_client_connect(kNowhere, 0, nullptr), EB_ERR_INVALID_ARGUMENT);
  double t0 = now();
  CHECK_RC(eb_client_connect(kNowhere, 300, &client), EB_ERR_UNAVAILABLE);
  CHECK(client == nullptr && now() - t0 < 5.0);
  CHECK_RC(eb_client_connect("this is :: not [an address", 300, &client), EB_ERR_UNAVAILABLE);
  CHECK_RC(eb_client_connect("unix:/nonexistent/socket", 300, &client), EB_ERR_UNAVAILABLE);
  CHECK(std::strstr(eb_last_error(), "unix:/nonexistent/socket") != nullptr);

  // --- NULL and made-up handles
  every_stream_call_returns(nullptr, EB_ERR_INVALID_HANDLE);
  every_stream_call_returns(reinterpret_cast<eb_stream*>(uintptr_t(0xdeadbeef0)), EB_ERR_INVALID_HANDLE);
  int local = 0;
  every_stream_call_returns(reinterpret_cast<eb_stream*>(&local), EB_ERR_INVALID_HANDLE);
  every_clip_call_returns(nullptr, EB_ERR_INVALID_HANDLE);
  every_clip_call_returns(reinterpret_cast<eb_clip*>(&local), EB_ERR_INVALID_HANDLE);
  CHECK_RC(eb_client_close(nullptr), EB_ERR_INVALID_HANDLE);
  size_t json_length = 99;
  char json[64];
  CHECK_RC(eb_client_get_info(nullptr, 1000, json, sizeof json, &json_length), EB_ERR_INVALID_HANDLE);
  CHECK(json_length == 0);
  eb_stream* stream = nullptr;
  eb_stream_config config = base_config();
  CHECK_RC(eb_stream_open(nullptr, &config, &stream), EB_ERR_INVALID_HANDLE);

  // --- a client whose sidecar is not there (lazy connect) and bad configs
  CHECK_RC(eb_client_connect(kNowhere, 0, &client), EB_OK);
  CHECK_RC(eb_stream_open(client, nullptr, &stream), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_open(client, &config, nullptr), EB_ERR_INVALID_ARGUMENT);
  config.struct_size = 8;
  open_fails(client, config, "a short struct_size");
  config = base_config(); config.sample_rate = 0; open_fails(client, config, "sample_rate 0");
  config = base_config(); config.channels = 9; open_fails(client, config, "9 channels");
  config = base_config(); config.fps = std::nan(""); open_fails(client, config, "fps NaN");
  config = base_config(); config.fps = 1000; open_fails(client, config, "fps 1000");
  config = base_config(); config.frame_queue_capacity = 1u << 30; open_fails(client, config, "a huge frame queue");
  config = base_config(); config.audio_queue_ms = 0xffffffffu; open_fails(client, config, "a huge audio queue");
  config = base_config(); config.mouth_preservation = 2; open_fails(client, config, "mouth_preservation 2");
  config = base_config(); config.style_energy = INFINITY; open_fails(client, config, "style inf");
  config = base_config(); config.reconnect_initial_ms = 0; open_fails(client, config, "reconnect delay 0");
  config = base_config(); config.emotion_count = 1; open_fails(client, config, "NULL emotion arrays");
  const char* names[] = {"happy", nullptr};
  const float values[] = {0.5f, NAN};
  config = base_config(); config.emotion_names = names; config.emotion_values = values; config.emotion_count = 2;
  open_fails(client, config, "a NULL emotion name");
  config.emotion_count = 100000; open_fails(client, config, "100000 emotion names");
  const std::string long_name(5000, 'x');
  config = base_config(); config.rig_profile = long_name.c_str(); open_fails(client, config, "a 5000-byte rig profile");

  // --- bakes: bad arguments are refused before anything is sent, a missing sidecar is UNAVAILABLE
  CHECK(eb_bake_max_frames(16000, 16000, 60.0) == 62 && eb_bake_max_frames(16000, 0, 60.0) == 0 &&
        eb_bake_max_frames(16000, 16000, NAN) == 0);
  eb_bake_config bake = base_bake_config();
  static int16_t clip[1600];
  static eb_frame baked[16];
  size_t count = 99;
  CHECK_RC(eb_bake_s16(nullptr, &bake, clip, 1600, baked, 16, &count, nullptr), EB_ERR_INVALID_HANDLE);
  CHECK(count == 0);
  CHECK_RC(eb_bake_s16(reinterpret_cast<eb_client*>(&local), &bake, clip, 1600, baked, 16, &count, nullptr),
           EB_ERR_INVALID_HANDLE);
  CHECK_RC(eb_bake_s16(client, nullptr, clip, 1600, baked, 16, &count, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_bake_s16(client, &bake, clip, 1600, baked, 16, nullptr, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_bake_s16(client, &bake, nullptr, 1600, baked, 16, &count, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_bake_s16(client, &bake, clip, 0, baked, 16, &count, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(eb_last_error(), "no samples") != nullptr);
  CHECK_RC(eb_bake_s16(client, &bake, clip, 1600, nullptr, 16, &count, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_bake_f32(client, &bake, reinterpret_cast<const float*>(clip), size_t(1) << 62, baked, 16, &count, nullptr),
           EB_ERR_INVALID_ARGUMENT);  // refused by size before anything is read
  CHECK(std::strstr(eb_last_error(), "64 MB") != nullptr);
  eb_bake_info info{};
  CHECK_RC(eb_bake_s16(client, &bake, clip, 1600, baked, 16, &count, &info), EB_ERR_INVALID_ARGUMENT);
  info.struct_size = sizeof info;  // ABI 5: a capacity without a buffer
  info.meta_json_capacity = 64;
  CHECK_RC(eb_bake_s16(client, &bake, clip, 1600, baked, 16, &count, &info), EB_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(eb_last_error(), "meta_json") != nullptr);
  bake.struct_size = 8; bake_fails(client, bake, "a short struct_size");
  bake = base_bake_config(); bake.sample_rate = 7999; bake_fails(client, bake, "sample_rate 7999");
  bake = base_bake_config(); bake.channels = 0; bake_fails(client, bake, "0 channels");
  bake = base_bake_config(); bake.fps = 0; bake_fails(client, bake, "fps 0");
  bake = base_bake_config(); bake.timeout_ms = 0; bake_fails(client, bake, "timeout 0");
  bake = base_bake_config(); bake.mouth_preservation = NAN; bake_fails(client, bake, "mouth_preservation NaN");
  bake = base_bake_config(); bake.emotion_count = 1; bake_fails(client, bake, "NULL emotion arrays");
  bake = base_bake_config(); bake.rig_profile = long_name.c_str(); bake_fails(client, bake, "a 5000-byte rig profile");
  const std::string long_transcript(70000, 'a');
  bake = base_bake_config(); bake.transcript = long_transcript.c_str(); bake_fails(client, bake, "a 70000-byte transcript");
  for (const char* text : {"caf\xe9", "\xff", "ok \xe2\x82", "\xc3"}) {
    bake = base_bake_config(); bake.transcript = text; bake_fails(client, bake, "a transcript that is not UTF-8");
    CHECK(std::strstr(eb_last_error(), "UTF-8") != nullptr);
  }
  // emotion keyframes (ABI 4): each field is checked, and the message names the key
  const char* happy[] = {"happy"};
  const float full[] = {1.0f}, too_much[] = {2.0f};
  eb_emotion_key keys[2] = {{0.5, 0.3f, happy, full, 1}, {1.0, 0.0f, happy, full, 1}};
  auto with_keys = [&](double time, float transition, const float* values, uint32_t count) {
    keys[1] = {time, transition, happy, values, count};
    eb_bake_config c = base_bake_config();
    c.emotion_keys = keys;
    c.emotion_key_count = 2;
    return c;
  };
  bake_fails(client, with_keys(-0.1, 0.0f, full, 1), "a key at -0.1 s");
  CHECK(std::strstr(eb_last_error(), "emotion_keys[1].time_seconds") != nullptr);
  bake_fails(client, with_keys(NAN, 0.0f, full, 1), "a key at NaN s");
  bake_fails(client, with_keys(INFINITY, 0.0f, full, 1), "a key at +inf s");
  bake_fails(client, with_keys(1.0, NAN, full, 1), "a NaN transition");
  bake_fails(client, with_keys(1.0, -1.0f, full, 1), "a negative transition");
  bake_fails(client, with_keys(1.0, 0.0f, too_much, 1), "an intensity of 2");
  CHECK(std::strstr(eb_last_error(), "emotion_keys[1]: emotion intensity of 'happy'") != nullptr);
  bake_fails(client, with_keys(1.0, 0.0f, nullptr, 1), "a key with NULL values");
  bake = base_bake_config(); bake.emotion_key_count = 1; bake_fails(client, bake, "NULL emotion_keys");
  bake = base_bake_config(); bake.emotion_keys = keys; bake.emotion_key_count = 5000;
  bake_fails(client, bake, "5000 emotion keys");
  // A config from an ABI 3 caller ends before the keys: taken (it gets as far as the missing sidecar),
  // and whatever lies past its end is not read.
  bake = with_keys(NAN, 0.0f, full, 1);
  bake.struct_size = offsetof(eb_bake_config, emotion_keys);
  bake.timeout_ms = 2000;
  CHECK_RC(eb_bake_s16(client, &bake, clip, 1600, baked, 16, &count, nullptr), EB_ERR_UNAVAILABLE);
  bake.struct_size = offsetof(eb_bake_config, emotion_keys) - 1;
  bake_fails(client, bake, "a struct_size one short of ABI 3's");

  bake = base_bake_config(); bake.transcript = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // UTF-8 passes the checks
  bake.timeout_ms = 2000;
  t0 = now();
  CHECK_RC(eb_bake_s16(client, &bake, clip, 1600, baked, 16, &count, nullptr), EB_ERR_UNAVAILABLE);
  CHECK(now() - t0 < 5.0 && std::strstr(eb_last_error(), "emobridge serve") != nullptr);
  // Clips (ABI 5): the same checks at open; with no sidecar the bake fails as UNAVAILABLE, which wait and status
  // report, and nothing is sampled
  eb_clip* clip_handle = nullptr;
  bake = base_bake_config();
  bake.timeout_ms = 2000;
  CHECK_RC(eb_clip_open_s16(client, &bake, clip, 1600, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_open_s16(client, &bake, nullptr, 1600, &clip_handle), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_open_s16(client, &bake, clip, 0, &clip_handle), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_open_f32(client, &bake, reinterpret_cast<const float*>(clip), size_t(1) << 62, &clip_handle),
           EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_open_s16(client, nullptr, clip, 1600, &clip_handle), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_open_s16(nullptr, &bake, clip, 1600, &clip_handle), EB_ERR_INVALID_HANDLE);
  CHECK(clip_handle == nullptr);
  CHECK_RC(eb_clip_open_s16(client, &bake, clip, 1600, &clip_handle), EB_OK);
  eb_frame sampled;
  CHECK_RC(eb_clip_sample(clip_handle, 0.0, &sampled), EB_NO_FRAME);
  CHECK_RC(eb_clip_wait(clip_handle, 0, 2000), EB_NO_FRAME);  // no sidecar: retried, not given up
  eb_clip_status clip_status{};
  clip_status.struct_size = sizeof clip_status;
  CHECK_RC(eb_clip_get_status(clip_handle, &clip_status), EB_OK);
  std::printf("clip without a sidecar: %u bakes in 2 s\n", clip_status.bakes_started);
  CHECK(clip_status.last_result == EB_ERR_UNAVAILABLE && clip_status.version == 0 && clip_status.baking == 1 &&
        clip_status.bakes_started >= 3);
  CHECK_RC(eb_clip_frames(clip_handle, baked, 16, &count, nullptr), EB_NO_FRAME);
  t0 = now();
  CHECK_RC(eb_clip_close(clip_handle), EB_OK);  // during a retry's pause: at once
  CHECK(now() - t0 < 0.5);
  every_clip_call_returns(clip_handle, EB_ERR_CLOSED);
  // GetInfo (ABI 4): argument checks, then UNAVAILABLE within its timeout
  CHECK_RC(eb_client_get_info(client, 0, json, sizeof json, &json_length), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_client_get_info(client, 1000, nullptr, 8, &json_length), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_client_get_info(client, 1000, json, sizeof json, nullptr), EB_ERR_INVALID_ARGUMENT);
  t0 = now();
  CHECK_RC(eb_client_get_info(client, 500, json, sizeof json, &json_length), EB_ERR_UNAVAILABLE);
  CHECK(now() - t0 < 5.0 && json_length == 0 && std::strstr(eb_last_error(), "emobridge serve") != nullptr);

  // A handle of the wrong kind.
  CHECK_RC(eb_stream_get_state(reinterpret_cast<eb_stream*>(client), nullptr), EB_ERR_INVALID_HANDLE);

  // --- a stream that cannot connect: reconnecting, with the reason readable
  config = base_config();
  config.audio_queue_ms = 1000;
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);
  CHECK(stream != nullptr);
  CHECK_RC(eb_client_close(reinterpret_cast<eb_client*>(stream)), EB_ERR_INVALID_HANDLE);
  double give_up = now() + 10;
  while (state_of(stream) != EB_STATE_RECONNECTING && now() < give_up) eb_stream_wait(stream, 50);
  CHECK(state_of(stream) == EB_STATE_RECONNECTING);
  CHECK(error_of(stream).find("UNAVAILABLE") == 0);

  // Huge buffers: refused by size before anything is read; the queue bound is visible.
  static int16_t pcm[16000];
  CHECK_RC(eb_stream_push_s16(stream, pcm, std::numeric_limits<size_t>::max()), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_push_s16(stream, pcm, size_t(1) << 62), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_push_s16(stream, nullptr, 10), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_push_s16(stream, nullptr, 0), EB_OK);
  CHECK_RC(eb_stream_push_s16(stream, pcm, 16001), EB_ERR_INVALID_ARGUMENT);  // > audio_queue_ms
  CHECK_RC(eb_stream_push_s16(stream, pcm, 9600), EB_OK);
  CHECK_RC(eb_stream_push_s16(stream, pcm, 9600), EB_ERR_QUEUE_FULL);  // nothing drains while the sidecar is away
  eb_stream_stats stats = stats_of(stream);
  CHECK(stats.audio_frames_accepted == 9600 && stats.audio_frames_rejected == 9600 && stats.state == EB_STATE_RECONNECTING);
  stats.struct_size = 4;
  CHECK_RC(eb_stream_get_stats(stream, &stats), EB_ERR_INVALID_ARGUMENT);
  static eb_frame frames[4];
  size_t n = 99;
  CHECK_RC(eb_stream_drain(stream, frames, std::numeric_limits<size_t>::max(), &n), EB_OK);  // only what exists is written
  CHECK(n == 0);
  CHECK_RC(eb_stream_drain(stream, nullptr, 4, &n), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_drain(stream, frames, 4, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_poll_latest(stream, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_poll_latest(stream, frames), EB_NO_FRAME);
  CHECK_RC(eb_stream_wait(stream, 10), EB_NO_FRAME);
  char tiny[4];
  size_t length = 0;
  CHECK_RC(eb_stream_get_error(stream, tiny, sizeof tiny, &length), EB_OK);
  CHECK(std::strlen(tiny) == 3 && length > 3);
  CHECK_RC(eb_stream_get_error(stream, nullptr, 10, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_get_error(stream, nullptr, 0, &length), EB_OK);
  const char* bad_names[] = {"happy"};
  const float bad_values[] = {NAN};
  CHECK_RC(eb_stream_set_emotion(stream, bad_names, bad_values, 1, 0.3f), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_set_emotion(stream, bad_names, values, 1, NAN), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_set_emotion(stream, nullptr, nullptr, 0, -1.0f), EB_OK);  // neutral, default transition

  // Wrong state: after the end of audio, no more audio or emotion.
  CHECK_RC(eb_stream_end_audio(stream), EB_OK);
  CHECK_RC(eb_stream_push_s16(stream, pcm, 160), EB_ERR_STATE);
  CHECK_RC(eb_stream_end_audio(stream), EB_ERR_STATE);
  CHECK_RC(eb_stream_set_emotion(stream, nullptr, nullptr, 0, 0.0f), EB_ERR_STATE);

  // Closed: every call says so, closing again too.
  CHECK_RC(eb_stream_close(stream), EB_OK);
  every_stream_call_returns(stream, EB_ERR_CLOSED);
  every_clip_call_returns(reinterpret_cast<eb_clip*>(stream), EB_ERR_INVALID_HANDLE);  // a stream is not a clip

  // --- without reconnect a lost sidecar fails the stream
  config = base_config();
  config.reconnect = 0;
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);
  give_up = now() + 10;
  while (state_of(stream) != EB_STATE_FAILED && now() < give_up) eb_stream_wait(stream, 50);
  CHECK(state_of(stream) == EB_STATE_FAILED);
  CHECK_RC(eb_stream_wait(stream, 1000), EB_OK);  // a failed stream does not block waiters
  CHECK_RC(eb_stream_push_s16(stream, pcm, 160), EB_ERR_STATE);
  CHECK(std::strstr(eb_last_error(), "failed") != nullptr);
  CHECK_RC(eb_stream_close(stream), EB_OK);

  // --- closing a stream while other threads hammer it: they see EB_ERR_CLOSED, nothing crashes
  config = base_config();
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);
  std::atomic<int> closed_seen{0};
  std::vector<std::thread> users;
  for (int t = 0; t < 4; ++t) {
    users.emplace_back([&, t] {
      eb_frame frame;
      for (;;) {
        int32_t rc = t % 2 ? eb_stream_push_s16(stream, pcm, 160) : eb_stream_poll_latest(stream, &frame);
        if (rc == EB_ERR_CLOSED) break;
        CHECK(rc == EB_OK || rc == EB_NO_FRAME || rc == EB_ERR_QUEUE_FULL);
        if (t == 3) eb_stream_wait(stream, 5);
      }
      ++closed_seen;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_RC(eb_stream_close(stream), EB_OK);
  for (auto& user : users) user.join();
  CHECK(closed_seen == 4);

  // --- closing a client closes its streams; a closed client opens nothing
  eb_stream* child = nullptr;
  CHECK_RC(eb_stream_open(client, &config, &child), EB_OK);
  CHECK_RC(eb_client_close(client), EB_OK);
  CHECK_RC(eb_stream_get_state(child, nullptr), EB_ERR_CLOSED);
  CHECK_RC(eb_client_close(client), EB_ERR_CLOSED);
  CHECK_RC(eb_stream_open(client, &config, &child), EB_ERR_CLOSED);
  bake = base_bake_config();
  CHECK_RC(eb_bake_s16(client, &bake, clip, 1600, baked, 16, &count, nullptr), EB_ERR_CLOSED);

  std::printf("misuse: every case returned its error\n");
  return 0;
}
