// eb_clip_* against a real sidecar: the first bake equals eb_bake_s16; changes made during "playback" land at
// their clip times (a bake with the same keys gives the same frames) and frames before a change, less the
// model's lookahead, never move;
// changes made while a bake is in flight are taken together by the next one; a refused change keeps the last
// good frames and says why; closing a clip with a bake in flight, or its client, is prompt and safe.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "emobridge/v1/emobridge.grpc.pb.h"
#include "testkit.h"

namespace pb = emobridge::v1;

using namespace testkit;

namespace {

std::vector<eb_frame> bake_s16(eb_client* client, const eb_bake_config& config, const std::vector<int16_t>& audio) {
  std::vector<eb_frame> frames(eb_bake_max_frames(audio.size(), config.sample_rate, config.fps));
  size_t count = 0;
  CHECK_RC(eb_bake_s16(client, &config, audio.data(), audio.size(), frames.data(), frames.size(), &count, nullptr),
           EB_OK);
  frames.resize(count);
  return frames;
}

eb_clip_status status_of(eb_clip* clip) {
  eb_clip_status status{};
  status.struct_size = sizeof status;
  CHECK_RC(eb_clip_get_status(clip, &status), EB_OK);
  return status;
}

std::vector<eb_frame> frames_of(eb_clip* clip, uint64_t* version = nullptr) {
  std::vector<eb_frame> frames(status_of(clip).frame_count);
  size_t count = 0;
  CHECK_RC(eb_clip_frames(clip, frames.data(), frames.size(), &count, version), EB_OK);
  CHECK(count == frames.size());
  return frames;
}

std::vector<eb_frame> head(const std::vector<eb_frame>& frames, size_t n) {
  return std::vector<eb_frame>(frames.begin(), frames.begin() + n);
}

}  // namespace

int main() {
  Sidecar sidecar;
  uint32_t rate = 0;
  const std::vector<int16_t> audio = hello(&rate);
  eb_client* client = nullptr;
  CHECK_RC(eb_client_connect(sidecar.address().c_str(), 5000, &client), EB_OK);
  eb_bake_config config;
  eb_bake_config_init(&config);
  config.sample_rate = rate;
  config.seed = 7;
  const std::vector<eb_frame> plain = bake_s16(client, config, audio);

  // --- the first bake is the clip's plain bake; sampling picks the last frame at or before a time
  eb_clip* clip = nullptr;
  CHECK_RC(eb_clip_open_s16(client, &config, audio.data(), audio.size(), &clip), EB_OK);
  CHECK_RC(eb_clip_wait(clip, 0, 60000), EB_OK);
  eb_clip_status status = status_of(clip);
  CHECK(status.version == 1 && status.changes == 0 && status.bakes_started == 1 && status.last_result == EB_OK);
  CHECK(std::string(status.route) == "model" && status.frame_count == plain.size() && status.duration_seconds > 3.9);
  uint64_t version = 0;
  const std::vector<eb_frame> first = frames_of(clip, &version);
  CHECK(version == 1 && max_difference(first, plain) == 0.0);
  eb_frame frame;
  CHECK_RC(eb_clip_sample(clip, 1.0, &frame), EB_OK);
  CHECK(frame.index == 60);
  CHECK_RC(eb_clip_sample(clip, 1.0 + 0.5 / 60, &frame), EB_OK);
  CHECK(frame.index == 60);
  CHECK_RC(eb_clip_sample(clip, -3.0, &frame), EB_OK);
  CHECK(frame.index == 0);
  CHECK_RC(eb_clip_sample(clip, 1e6, &frame), EB_OK);
  CHECK(frame.index == plain.size() - 1);

  // --- gameplay changes at 1.0 s (happy over 0.3 s) and 2.5 s (sad, a cut) land there: the frames equal a
  // bake with those keys, and frames up to the model's 80 ms lookahead before 1 s equal the first bake's
  const char* happy[] = {"happy"};
  const char* sad[] = {"sad"};
  const float full[] = {1.0f};
  CHECK_RC(eb_clip_set_emotion_at(clip, happy, full, 1, 0.3f, 1.0), EB_OK);
  CHECK_RC(eb_clip_set_emotion_at(clip, sad, full, 1, 0.0f, 2.5), EB_OK);
  CHECK_RC(eb_clip_wait(clip, 2, 60000), EB_OK);
  status = status_of(clip);
  CHECK(status.changes == 2 && status.changes_baked == 2 && status.version >= 2 && status.bakes_started <= 3);
  const std::vector<eb_frame> keyed = frames_of(clip);
  const eb_emotion_key keys[] = {{1.0, 0.3f, happy, full, 1}, {2.5, 0.0f, sad, full, 1}};
  eb_bake_config with_keys = config;
  with_keys.emotion_keys = keys;
  with_keys.emotion_key_count = 2;
  CHECK(max_difference(keyed, bake_s16(client, with_keys, audio)) == 0.0);
  CHECK(max_difference(head(keyed, 55), head(first, 55)) == 0.0);
  std::printf("changes: happy at frame 60 %.2f, 61 %.2f, 120 %.2f; sad at 149 %.2f, 150 %.2f\n", keyed[60].emotion[0],
              keyed[61].emotion[0], keyed[120].emotion[0], keyed[149].emotion[1], keyed[150].emotion[1]);
  CHECK(keyed[60].emotion[0] == 0.0f && keyed[61].emotion[0] > 0.0f && keyed[120].emotion[0] > 0.99f);
  CHECK(keyed[149].emotion[1] < 0.01f && keyed[150].emotion[1] == 1.0f && keyed[150].emotion[0] == 0.0f);
  CHECK_RC(eb_clip_sample(clip, 2.6, &frame), EB_OK);
  CHECK(frame.index == 156 && frame.emotion[1] == 1.0f);

  // --- 30 changes in a row (a script blending every tick) take few bakes, and the last one is in
  const char* angry[] = {"angry"};
  uint32_t before = status_of(clip).bakes_started;
  for (int i = 1; i <= 30; ++i) {
    const float level[] = {i / 30.0f};
    CHECK_RC(eb_clip_set_emotion_at(clip, angry, level, 1, 0.0f, 3.0 + i * 0.01), EB_OK);
  }
  CHECK_RC(eb_clip_wait(clip, 32, 60000), EB_OK);
  status = status_of(clip);
  std::printf("30 changes: %u bakes\n", status.bakes_started - before);
  CHECK(status.changes_baked == 32 && status.bakes_started - before <= 3 && status.last_result == EB_OK);
  CHECK_RC(eb_clip_sample(clip, 3.5, &frame), EB_OK);
  CHECK(frame.emotion[2] == 1.0f);

  // --- a change the sidecar refuses: the clip says why and keeps its last good frames; the next change bakes
  const char* unknown[] = {"glee"};
  uint64_t good = status.version;
  CHECK_RC(eb_clip_set_emotion_at(clip, unknown, full, 1, 0.0f, 3.8), EB_OK);
  CHECK_RC(eb_clip_wait(clip, 33, 60000), EB_ERR_INVALID_ARGUMENT);
  std::printf("refused: %s\n", eb_last_error());
  CHECK(std::string(eb_last_error()).find("glee") != std::string::npos);
  char why[256];
  size_t length = 0;
  CHECK_RC(eb_clip_get_error(clip, why, sizeof why, &length), EB_OK);
  CHECK(std::string(why).find("glee") != std::string::npos && length >= std::string(why).size());
  status = status_of(clip);
  CHECK(status.last_result == EB_ERR_INVALID_ARGUMENT && status.version == good && status.changes_baked == 32);
  CHECK_RC(eb_clip_sample(clip, 3.5, &frame), EB_OK);

  // --- bad changes are refused before anything is sent
  CHECK_RC(eb_clip_set_emotion_at(clip, happy, full, 1, 0.0f, -1.0), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_set_emotion_at(clip, happy, full, 1, 0.0f, NAN), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_set_emotion_at(clip, happy, full, 1, NAN, 1.0), EB_ERR_INVALID_ARGUMENT);
  const float too_much[] = {1.5f};
  CHECK_RC(eb_clip_set_emotion_at(clip, happy, too_much, 1, 0.0f, 1.0), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_sample(clip, NAN, &frame), EB_ERR_INVALID_ARGUMENT);
  size_t count = 0;
  CHECK_RC(eb_clip_frames(clip, &frame, 1, &count, nullptr), EB_ERR_INVALID_ARGUMENT);
  CHECK(count == plain.size());
  eb_clip_status short_status{};
  short_status.struct_size = 8;
  CHECK_RC(eb_clip_get_status(clip, &short_status), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_close(clip), EB_OK);
  CHECK_RC(eb_clip_close(clip), EB_ERR_CLOSED);
  CHECK_RC(eb_clip_sample(clip, 1.0, &frame), EB_ERR_CLOSED);
  CHECK_RC(eb_clip_sample(reinterpret_cast<eb_clip*>(client), 1.0, &frame), EB_ERR_INVALID_HANDLE);

  // --- a valence/arousal change goes as the point and the sidecar maps it: the frames equal its own Bake of a
  // neutral start and that keyframe
  CHECK_RC(eb_clip_open_s16(client, &config, audio.data(), audio.size(), &clip), EB_OK);
  CHECK_RC(eb_clip_set_valence_arousal(clip, -0.8f, 0.6f, 0.0f, 2.0), EB_OK);
  CHECK_RC(eb_clip_set_valence_arousal(clip, 1.5f, 0.0f, 0.0f, 2.0), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_set_valence_arousal(clip, 0.0f, 0.0f, 0.0f, -2.0), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_clip_wait(clip, 1, 60000), EB_OK);
  pb::BakeRequest request;
  request.mutable_pcm()->set_data(audio.data(), audio.size() * sizeof(int16_t));
  request.mutable_pcm()->set_encoding(pb::AUDIO_ENCODING_PCM_S16LE);
  request.mutable_pcm()->set_sample_rate(rate);
  request.set_seed(7);
  auto* start = request.add_emotion_keyframes();
  start->mutable_emotion();  // neutral
  start->set_time_seconds(0.0);
  start->set_transition_seconds(0.0f);
  auto* point = request.add_emotion_keyframes();
  point->mutable_emotion()->set_valence(-0.8f);
  point->mutable_emotion()->set_arousal(0.6f);
  point->set_time_seconds(2.0);
  point->set_transition_seconds(0.0f);
  const std::vector<eb_frame> mapped = frames_of(clip);
  CHECK(max_difference(mapped, bake_direct(sidecar.address(), request)) == 0.0);
  std::printf("valence -0.8 arousal 0.6 at 2.0 s: frame 119 angry %.3f, frame 121 angry %.3f\n", mapped[119].emotion[2],
              mapped[121].emotion[2]);
  CHECK(mapped[119].emotion[2] == 0.0f && mapped[121].emotion[2] > 0.1f);
  CHECK_RC(eb_clip_close(clip), EB_OK);

  // --- threads changing, sampling, copying and asking at once, then the clip closed under them: every call
  // returns EB_OK, EB_NO_FRAME or EB_ERR_CLOSED (the sanitizer builds check the rest)
  CHECK_RC(eb_clip_open_s16(client, &config, audio.data(), audio.size(), &clip), EB_OK);
  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  auto expect = [&](int32_t rc) {
    if (rc != EB_OK && rc != EB_NO_FRAME && rc != EB_ERR_CLOSED) ++unexpected;
  };
  std::vector<std::thread> users;
  users.emplace_back([&] {
    for (int i = 0; !stop; ++i) {
      const float level[] = {(i % 10) / 10.0f};
      expect(eb_clip_set_emotion_at(clip, happy, level, 1, 0.1f, (i % 200) * 0.02));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  users.emplace_back([&] {
    eb_frame f;
    for (int i = 0; !stop; ++i) expect(eb_clip_sample(clip, (i % 240) / 60.0, &f));
  });
  users.emplace_back([&] {
    std::vector<eb_frame> all(plain.size());
    size_t n = 0;
    while (!stop) expect(eb_clip_frames(clip, all.data(), all.size(), &n, nullptr));
  });
  users.emplace_back([&] {
    while (!stop) {
      eb_clip_status st{};
      st.struct_size = sizeof st;
      expect(eb_clip_get_status(clip, &st));
      expect(eb_clip_wait(clip, st.changes, 5));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  status = status_of(clip);
  std::printf("threads: %u changes, %u bakes in 1.5 s\n", status.changes, status.bakes_started);
  CHECK(status.version >= 2 && status.last_result == EB_OK);
  CHECK_RC(eb_clip_close(clip), EB_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& user : users) user.join();
  CHECK(unexpected == 0);

  // --- the sidecar is killed and comes back: a change made while it is down is baked once it is up again
  CHECK_RC(eb_clip_open_s16(client, &config, audio.data(), audio.size(), &clip), EB_OK);
  CHECK_RC(eb_clip_wait(clip, 0, 60000), EB_OK);
  sidecar.kill_hard();
  CHECK_RC(eb_clip_set_emotion_at(clip, happy, full, 1, 0.0f, 1.0), EB_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  status = status_of(clip);
  CHECK(status.last_result == EB_ERR_UNAVAILABLE && status.baking == 1 && status.version == 1);
  CHECK_RC(eb_clip_sample(clip, 2.0, &frame), EB_OK);  // the last good bake stays in use
  CHECK(frame.emotion[0] == 0.0f);
  double down = now();
  sidecar.start();
  CHECK_RC(eb_clip_wait(clip, 1, 60000), EB_OK);
  status = status_of(clip);
  std::printf("sidecar restart: the change was baked %.1f s after the restart began, %u bakes\n", now() - down,
              status.bakes_started);
  CHECK(status.last_result == EB_OK && status.changes_baked == 1);
  CHECK_RC(eb_clip_sample(clip, 2.0, &frame), EB_OK);
  CHECK(frame.emotion[0] == 1.0f);
  CHECK_RC(eb_clip_close(clip), EB_OK);

  // --- closing with a bake in flight returns promptly; closing the client closes its clips
  std::vector<int16_t> long_audio;
  for (int i = 0; i < 15; ++i) long_audio.insert(long_audio.end(), audio.begin(), audio.end());  // 60 s
  double t0 = now();
  CHECK_RC(eb_clip_open_s16(client, &config, long_audio.data(), long_audio.size(), &clip), EB_OK);
  CHECK_RC(eb_clip_close(clip), EB_OK);
  double closed_in = now() - t0;
  std::printf("open and close with a bake in flight: %.1f ms\n", closed_in * 1000);
  CHECK(closed_in < 1.0);
  CHECK_RC(eb_clip_open_s16(client, &config, audio.data(), audio.size(), &clip), EB_OK);
  CHECK_RC(eb_client_close(client), EB_OK);
  CHECK_RC(eb_clip_wait(clip, 0, 10), EB_ERR_CLOSED);
  std::printf("clip: ok\n");
  return 0;
}
