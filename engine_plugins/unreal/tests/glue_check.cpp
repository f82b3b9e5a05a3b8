// glue_check.cpp - drives the Unreal plugin's engine-independent glue (EmoBridgeGlue.h) outside
// the engine, for tests/engine_plugins/test_unreal_glue.py.
//
//   glue_check names                       the 61 Live Link property names, one per line
//   glue_check stream ADDRESS WAV [EMOTION=VALUE | va=VALENCE,AROUSAL]
//        what UEmoBridgeComponent does per tick, with the real native core: connect, open a
//        60 fps ARKit stream (with the initial emotion; a valence/arousal point is sent right after
//        the open with eb_stream_set_valence_arousal, as UEmoBridgeComponent::OpenStream does),
//        feed a PCM16 WAV through AudioFeeder (100 ms per tick, retrying on EB_ERR_QUEUE_FULL), end
//        the audio, drain frames, and print per frame one JSON line
//        {"index":..,"time":..,"values":[61 Live Link values],"emotion":[7]} as the plugin's Live
//        Link source would push them. Needs libemobridge (links against it).
//   glue_check clip ADDRESS WAV [EMOTION=VALUE@SECONDS ...]
//        what UEmoBridgeComponent does per tick with bBakeWholeClip: open the WAV as a ClipPlayer (eb_clip),
//        tick at 60 Hz of real time from the start, make each emotion change (the sidecar's default
//        transition) at the tick where its time is reached, and print each frame shown as the same JSON line
//        plus "tick" (the elapsed time it was shown at); ends when the clip is over (exit 0) or failed (1).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "EmoBridgeGlue.h"

namespace {

#ifndef GLUE_CHECK_NO_NATIVE
// Minimal RIFF/WAVE reader: PCM16 only (what the examples and the sidecar's tests use).
bool read_wav(const char* path, std::vector<int16_t>* samples, uint32_t* rate, uint32_t* channels) {
  std::ifstream file(path, std::ios::binary);
  std::vector<unsigned char> b((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) || std::memcmp(b.data() + 8, "WAVE", 4)) return false;
  auto u16 = [&](size_t p) { return uint32_t(b[p] | b[p + 1] << 8); };
  auto u32 = [&](size_t p) { return u16(p) | u16(p + 2) << 16; };
  size_t pos = 12;
  uint32_t bits = 0;
  while (pos + 8 <= b.size()) {
    uint32_t size = u32(pos + 4);
    if (!std::memcmp(&b[pos], "fmt ", 4)) {
      *channels = u16(pos + 10);
      *rate = u32(pos + 12);
      bits = u16(pos + 22);
    } else if (!std::memcmp(&b[pos], "data", 4)) {
      if (bits != 16) return false;
      size_t n = std::min<size_t>(size, b.size() - pos - 8) / 2;
      samples->resize(n);
      std::memcpy(samples->data(), &b[pos + 8], n * 2);  // little-endian host assumed (x86/ARM)
      return true;
    }
    pos += 8 + size + (size & 1);
  }
  return false;
}

int fail(const char* what, int32_t rc) {
  std::fprintf(stderr, "glue_check: %s: %s (%s)\n", what, eb_result_name(rc), eb_last_error());
  return 1;
}

// One frame as the JSON line described at the top ("tick" only when tick >= 0); false if it is not ARKit-52.
bool print_frame(const eb_frame& frame, double tick) {
  float values[emobridge_ue::kLiveLinkCurveCount];
  if (!emobridge_ue::LiveLinkValuesFromFrame(frame, values)) return false;
  std::printf("{\"index\":%llu,\"time\":%.9f,", (unsigned long long)frame.index, frame.time_seconds);
  if (tick >= 0) std::printf("\"tick\":%.6f,", tick);
  std::printf("\"values\":[");
  for (int k = 0; k < emobridge_ue::kLiveLinkCurveCount; ++k) std::printf(k ? ",%.9g" : "%.9g", values[k]);
  std::printf("],\"emotion\":[");
  for (int k = 0; k < EB_NUM_EMOTIONS; ++k) std::printf(k ? ",%.9g" : "%.9g", frame.emotion[k]);
  std::printf("]}\n");
  return true;
}

struct Change {
  std::string name;
  float value = 1.f;
  double at = 0.0;
};

// The WAV's samples and a client of `address`, or false after saying why.
bool open_wav_and_client(const char* address, const char* wav, std::vector<int16_t>* samples, uint32_t* rate,
                         uint32_t* channels, eb_client** client) {
  if (!read_wav(wav, samples, rate, channels)) return std::fprintf(stderr, "glue_check: bad wav %s\n", wav), false;
  int32_t rc = eb_client_connect(address, 10000, client);
  return rc == EB_OK || (fail("connect", rc), false);
}

int clip(const char* address, const char* wav, const std::vector<Change>& changes) {
  std::vector<int16_t> samples;
  uint32_t rate = 0, channels = 0;
  eb_client* client = nullptr;
  if (!open_wav_and_client(address, wav, &samples, &rate, &channels, &client)) return 1;
  int32_t rc = EB_OK;
  eb_bake_config config;
  eb_bake_config_init(&config);
  config.sample_rate = rate;
  config.channels = channels;
  emobridge_ue::ClipPlayer player;
  rc = player.Open(client, config, samples.data(), samples.size() / channels);
  if (rc != EB_OK) return fail("open clip", rc);
  auto start = std::chrono::steady_clock::now();
  size_t next_change = 0, shown = 0;
  emobridge_ue::ClipPlayer::Step step = emobridge_ue::ClipPlayer::kWaiting;
  for (int tick = 0;; ++tick) {  // a 60 Hz game loop
    std::this_thread::sleep_until(start + std::chrono::microseconds(tick * 16667));
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (; next_change < changes.size() && changes[next_change].at <= elapsed; ++next_change) {
      const char* names[] = {changes[next_change].name.c_str()};
      rc = player.SetEmotion(names, &changes[next_change].value, 1, -1.f, elapsed);
      if (rc != EB_OK) return fail("set emotion", rc);
    }
    eb_frame frame;
    step = player.Advance(elapsed, &frame);
    if (step == emobridge_ue::ClipPlayer::kFrame && print_frame(frame, elapsed)) ++shown;
    if (step == emobridge_ue::ClipPlayer::kFinished || step == emobridge_ue::ClipPlayer::kFailed) break;
  }
  std::fprintf(stderr, "glue_check: %zu frames shown, %s %s\n", shown,
               step == emobridge_ue::ClipPlayer::kFinished ? "finished" : "failed", player.Error().c_str());
  player.Close();
  eb_client_close(client);
  return step == emobridge_ue::ClipPlayer::kFinished ? 0 : 1;
}

int stream(const char* address, const char* wav, const char* emotion) {
  std::vector<int16_t> samples;
  uint32_t rate = 0, channels = 0;
  eb_client* client = nullptr;
  if (!open_wav_and_client(address, wav, &samples, &rate, &channels, &client)) return 1;
  int32_t rc = EB_OK;
  eb_stream_config config;
  eb_stream_config_init(&config);
  config.sample_rate = rate;
  config.channels = channels;
  config.fps = 60.0;
  config.frame_queue_capacity = 4096;
  config.reconnect = 0;
  std::string name;
  float value = 0.f, valence = 0.f, arousal = 0.f;
  const char* names[1];
  bool point = emotion && std::strncmp(emotion, "va=", 3) == 0;
  if (point) {  // "va=-0.8,0.6": the component's SetValenceArousal before the stream opened
    char* end = nullptr;
    valence = std::strtof(emotion + 3, &end);
    arousal = std::strtof(end + 1, nullptr);
  } else if (emotion) {  // "happy=0.6": the initial emotion, as UEmoBridgeComponent passes InitialEmotion
    const char* eq = std::strchr(emotion, '=');
    name.assign(emotion, eq ? size_t(eq - emotion) : std::strlen(emotion));
    value = eq ? std::strtof(eq + 1, nullptr) : 1.f;
    names[0] = name.c_str();
    config.emotion_names = names;
    config.emotion_values = &value;
    config.emotion_count = 1;
  }
  eb_stream* s = nullptr;
  rc = eb_stream_open(client, &config, &s);
  if (rc != EB_OK) return fail("open", rc);
  if (point && (rc = eb_stream_set_valence_arousal(s, valence, arousal, 0.f, -1.0)) != EB_OK)
    return fail("set_valence_arousal", rc);
  emobridge_ue::AudioFeeder feeder(samples.data(), samples.size() / channels, channels);
  size_t refused = 0;
  while (!feeder.Done()) {  // one "tick"
    rc = feeder.Feed(s, rate / 10);
    if (rc == EB_ERR_QUEUE_FULL) ++refused;
    else if (rc != EB_OK) return fail("push", rc);
    std::this_thread::sleep_for(std::chrono::milliseconds(rc == EB_OK ? 0 : 10));
  }
  rc = eb_stream_end_audio(s);
  if (rc != EB_OK) return fail("end_audio", rc);
  std::vector<eb_frame> frames(256);
  int32_t state = EB_STATE_CONNECTING;
  size_t printed = 0;
  for (;;) {
    eb_stream_wait(s, 200);
    size_t n = 0;
    rc = eb_stream_drain(s, frames.data(), frames.size(), &n);
    if (rc != EB_OK) return fail("drain", rc);
    for (size_t i = 0; i < n; ++i) {
      if (!print_frame(frames[i], -1.0)) return fail("frame is not ARKit-52", 0);
      ++printed;
    }
    eb_stream_get_state(s, &state);
    if (n == 0 && (state == EB_STATE_ENDED || state == EB_STATE_FAILED)) break;
  }
  char error[512] = "";
  eb_stream_get_error(s, error, sizeof error, nullptr);
  std::fprintf(stderr, "glue_check: %zu frames, state %s, %zu refused pushes %s\n", printed, eb_state_name(state),
               refused, error);
  eb_stream_close(s);
  eb_client_close(client);
  return state == EB_STATE_ENDED ? 0 : 1;
}
#endif  // GLUE_CHECK_NO_NATIVE

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "names") {
    for (const char* n : emobridge_ue::kLiveLinkCurveNames) std::printf("%s\n", n);
    return 0;
  }
#ifndef GLUE_CHECK_NO_NATIVE
  if (mode == "stream" && (argc == 4 || argc == 5)) return stream(argv[2], argv[3], argc == 5 ? argv[4] : nullptr);
  if (mode == "clip" && argc >= 4) {
    std::vector<Change> changes;
    for (int i = 4; i < argc; ++i) {  // "happy=1@1.0"
      const char *eq = std::strchr(argv[i], '='), *at = std::strchr(argv[i], '@');
      if (!eq || !at || at < eq) return std::fprintf(stderr, "glue_check: a change is NAME=VALUE@SECONDS\n"), 2;
      changes.push_back({std::string(argv[i], size_t(eq - argv[i])), std::strtof(eq + 1, nullptr), std::strtod(at + 1, nullptr)});
    }
    return clip(argv[2], argv[3], changes);
  }
#endif
  std::fprintf(stderr, "usage: glue_check names | stream ADDRESS WAV [EMOTION=VALUE | va=V,A]"
                       " | clip ADDRESS WAV [EMOTION=VALUE@SECONDS ...]\n");
  return 2;
}
