// An emotion change mid-stream reaches the frames: neutral before, the new emotion blended in after.
// Timed changes (eb_stream_set_emotion_at) land at their audio time however early they are sent, and a
// valence/arousal point (eb_stream_set_valence_arousal) reaches the frames as the sidecar maps it.
#include <cmath>
#include <cstdio>

#include "testkit.h"

using namespace testkit;

int main() {
  Sidecar sidecar;
  uint32_t rate = 0;
  std::vector<int16_t> audio = hello(&rate);

  eb_client* client = nullptr;
  CHECK_RC(eb_client_connect(sidecar.address().c_str(), 5000, &client), EB_OK);
  eb_stream_config config = keep_all_config(rate);
  eb_stream* stream = nullptr;
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);

  size_t half = audio.size() / 2;
  push_all(stream, audio.data(), half, rate);
  const char* names[] = {"angry", "surprise"};
  const float values[] = {0.8f, 0.3f};
  CHECK_RC(eb_stream_set_emotion(stream, names, values, 2, 0.2f), EB_OK);
  push_all(stream, audio.data() + half, audio.size() - half, rate);
  CHECK_RC(eb_stream_end_audio(stream), EB_OK);
  CHECK_RC(eb_stream_set_emotion(stream, names, values, 2, 0.2f), EB_ERR_STATE);  // after the end: refused

  int32_t state = -1;
  std::vector<eb_frame> frames = collect_until_end(stream, 60.0, &state);
  CHECK(state == EB_STATE_ENDED && frames.size() == 240);
  // Emotion order: happy, sad, angry, fear, disgust, surprise, contempt.
  const eb_frame &first = frames.front(), &last = frames.back();
  CHECK(first.emotion[2] == 0.0f && first.emotion[5] == 0.0f);
  CHECK(last.emotion[2] > 0.75f && last.emotion[2] <= 0.8f + 1e-5f);
  CHECK(last.emotion[5] > 0.25f && last.emotion[5] <= 0.3f + 1e-5f);
  // The change lands where it was sent (the server applies it from the next frame it computes), so
  // some frame after the first and before the last starts the blend.
  size_t change = 0;
  while (change < frames.size() && frames[change].emotion[2] == 0.0f) ++change;
  CHECK(change > 0 && change < frames.size() - 10);
  std::printf("emotion: angry starts at frame %zu (t=%.2f s), reaches %.3f by the last frame (t=%.2f s)\n", change,
              frames[change].time_seconds, last.emotion[2], last.time_seconds);

  CHECK_RC(eb_stream_close(stream), EB_OK);

  // Timed: 1 s of audio queued at once (as a client pushing ahead of playback does), then happy at
  // 2.0 s and the point valence -0.8, arousal 0.6 at 3.0 s (a cut, so frames show the mapped target).
  // Untimed, both would start around 1 s, where the sidecar is when they arrive. (Not more than 1 s
  // ahead: the sidecar reads no further than 1 s of audio ahead of its model, so a change sent after
  // 3 s of audio would arrive when frames up to about 2 s are computed, and could be "already past".)
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);
  size_t one = size_t(rate);
  push_all(stream, audio.data(), one, rate);
  const char* happy[] = {"happy"};
  const float full[] = {1.0f};
  CHECK_RC(eb_stream_set_emotion_at(stream, happy, full, 1, 0.2f, 2.0), EB_OK);
  CHECK_RC(eb_stream_set_valence_arousal(stream, -0.8f, 0.6f, 0.0f, 3.0), EB_OK);
  // Refused before anything is queued (the sidecar would fail the whole stream for them).
  CHECK_RC(eb_stream_set_valence_arousal(stream, -1.5f, 0.0f, 0.0f, -1.0), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_set_valence_arousal(stream, NAN, 0.0f, 0.0f, -1.0), EB_ERR_INVALID_ARGUMENT);
  CHECK_RC(eb_stream_set_emotion_at(stream, happy, full, 1, 0.2f, INFINITY), EB_ERR_INVALID_ARGUMENT);
  push_all(stream, audio.data() + one, audio.size() - one, rate);
  CHECK_RC(eb_stream_end_audio(stream), EB_OK);
  CHECK_RC(eb_stream_set_valence_arousal(stream, 0.5f, 0.5f, -1.0f, NAN), EB_ERR_STATE);
  frames = collect_until_end(stream, 60.0, &state);
  CHECK(state == EB_STATE_ENDED && frames.size() == 240);
  size_t happy_at = 0;
  while (happy_at < frames.size() && frames[happy_at].emotion[0] == 0.0f) ++happy_at;
  // Frame 120 is t = 2.0 s: the blend starts there, so the first frame that shows it is 120 or 121.
  CHECK(happy_at == 120 || happy_at == 121);
  const eb_frame& before_va = frames[179];  // t = 2.983 s: 0.98 s into a 0.2 s blend
  CHECK(before_va.emotion[0] > 0.99f);
  // emobridge.emotion.space.emotion_from_valence_arousal(-0.8, 0.6) in the sidecar's basis order
  // (tests/engine_plugins/test_native_ctypes.py checks the same against the Python function itself).
  const float expected[EB_NUM_EMOTIONS] = {0.0f, 0.005079f, 0.302709f, 0.31093f, 0.278941f, 0.005161f, 0.09718f};
  double worst = 0.0;
  for (size_t i = 180; i < frames.size(); ++i)
    for (int e = 0; e < EB_NUM_EMOTIONS; ++e) worst = std::fmax(worst, std::fabs(frames[i].emotion[e] - expected[e]));
  CHECK(worst < 1e-4);
  CHECK(frames[178].emotion[2] < 0.01f);  // not angry before 3.0 s
  std::printf("emotion: timed happy@2.00 s starts at frame %zu (t=%.3f s; frame %zu t=%.3f s is %.3f), "
              "happy %.4f at t=%.3f s\n", happy_at, frames[happy_at].time_seconds, happy_at - 1,
              frames[happy_at - 1].time_seconds, frames[happy_at - 1].emotion[0], before_va.emotion[0],
              before_va.time_seconds);
  std::printf("emotion: valence -0.8 arousal 0.6 @3.00 s -> frame 180 (t=%.3f s) emotion [%.4f %.4f %.4f %.4f %.4f "
              "%.4f %.4f], max |frame - python mapping| over frames 180..239 = %.2g\n",
              frames[180].time_seconds, frames[180].emotion[0], frames[180].emotion[1], frames[180].emotion[2],
              frames[180].emotion[3], frames[180].emotion[4], frames[180].emotion[5], frames[180].emotion[6], worst);
  CHECK_RC(eb_stream_close(stream), EB_OK);

  // What the sidecar refuses fails the stream (no retries) with its reason readable.
  const char* unknown[] = {"hangry"};
  config.emotion_names = unknown;
  config.emotion_values = values;
  config.emotion_count = 1;
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);
  collect_until_end(stream, 30.0, &state);
  std::string why = error_of(stream);
  CHECK(state == EB_STATE_FAILED && why.find("INVALID_ARGUMENT") == 0 && why.find("hangry") != std::string::npos);
  CHECK_RC(eb_stream_push_s16(stream, audio.data(), 320), EB_ERR_STATE);
  std::printf("emotion: an unknown name fails the stream: %s\n", why.c_str());
  CHECK_RC(eb_stream_close(stream), EB_OK);

  CHECK_RC(eb_client_close(client), EB_OK);
  return 0;
}
