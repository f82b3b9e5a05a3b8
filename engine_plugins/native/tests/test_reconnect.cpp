// The sidecar is killed mid-stream and restarted on the same port: the stream goes through
// "reconnecting", comes back on connection 1 with frame numbers that keep increasing, and ends.
// Emotion survives it: the new connection starts from the emotion reached, and a change timed later
// on the audio timeline, already sent to the old sidecar, still lands later (not at the reconnect).
#include <atomic>
#include <cstdio>
#include <thread>

#include "testkit.h"

using namespace testkit;

namespace {

// Waits until pred() holds, draining frames meanwhile; false on timeout.
template <class Pred>
bool wait_for(eb_stream* stream, std::vector<eb_frame>& frames, double timeout_s, Pred pred) {
  double give_up = now() + timeout_s;
  eb_frame buffer[64];
  while (now() < give_up) {
    size_t n = 0;
    CHECK_RC(eb_stream_drain(stream, buffer, 64, &n), EB_OK);
    frames.insert(frames.end(), buffer, buffer + n);
    if (pred()) return true;
    eb_stream_wait(stream, 20);
  }
  return false;
}

}  // namespace

int main() {
  Sidecar sidecar;
  uint32_t rate = 0;
  std::vector<int16_t> audio = hello(&rate);

  eb_client* client = nullptr;
  CHECK_RC(eb_client_connect(sidecar.address().c_str(), 5000, &client), EB_OK);
  eb_stream_config config = keep_all_config(rate);
  eb_stream* stream = nullptr;
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);

  // A live source: 20 ms of speech every 20 ms, looping, until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<size_t> pushed{0};  // sample frames accepted: the audio timeline's end
  std::thread source([&] {
    size_t step = rate / 50, at = 0;
    while (!stop) {
      if (at + step > audio.size()) at = 0;
      int32_t rc = eb_stream_push_s16(stream, audio.data() + at, step);
      CHECK(rc == EB_OK || rc == EB_ERR_QUEUE_FULL);
      if (rc == EB_OK) at += step, pushed += step;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  std::vector<eb_frame> frames;
  CHECK(wait_for(stream, frames, 30, [&] { return frames.size() >= 60; }));
  CHECK(state_of(stream) == EB_STATE_STREAMING);
  // An emotion the first sidecar had been told: the reconnected stream must start from it.
  const char* names[] = {"happy"};
  const float values[] = {0.7f};
  CHECK_RC(eb_stream_set_emotion(stream, names, values, 1, 0.0f), EB_OK);
  CHECK(wait_for(stream, frames, 30, [&] { return frames.back().emotion[0] > 0.69f; }));
  // Sad 2 s of audio after what was pushed so far, written to the sidecar that is about to die.
  const char* sad[] = {"sad"};
  const float full[] = {1.0f};
  double sad_at = double(pushed) / rate + 2.0;
  CHECK_RC(eb_stream_set_emotion_at(stream, sad, full, 1, 0.0f, sad_at), EB_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  double killed_at = now();
  sidecar.kill_hard();
  bool saw_reconnecting = false;
  CHECK(wait_for(stream, frames, 10, [&] { return state_of(stream) == EB_STATE_RECONNECTING; }));
  saw_reconnecting = true;
  std::string why = error_of(stream);
  std::printf("reconnect: state 'reconnecting' %.2f s after the kill; error: %s\n", now() - killed_at, why.c_str());
  size_t before = frames.size();
  uint64_t last_index = frames.back().index;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // stay down a little while audio keeps coming

  double restarting_at = now();
  sidecar.start();
  double up_at = now();
  CHECK(wait_for(stream, frames, 30, [&] { return frames.size() > before && frames.back().connection == 1; }));
  double back_at = now();
  CHECK(state_of(stream) == EB_STATE_STREAMING);
  CHECK(wait_for(stream, frames, 30, [&] { return frames.size() >= before + 60; }));
  CHECK(wait_for(stream, frames, 30, [&] { return frames.back().emotion[1] > 0.99f; }));
  stop = true;
  source.join();
  CHECK_RC(eb_stream_end_audio(stream), EB_OK);
  int32_t state = -1;
  std::vector<eb_frame> rest = collect_until_end(stream, 30, &state);
  frames.insert(frames.end(), rest.begin(), rest.end());
  CHECK(state == EB_STATE_ENDED);

  eb_stream_stats stats = stats_of(stream);
  CHECK(saw_reconnecting && stats.reconnects == 1 && stats.frames_dropped == 0);
  // Indices strictly increase across the reconnect; the new connection continues after the last frame.
  for (size_t i = 1; i < frames.size(); ++i) CHECK(frames[i].index == frames[i - 1].index + 1);
  size_t first_new = before;
  while (frames[first_new].connection == 0) ++first_new;
  CHECK(frames[first_new].index == frames[first_new - 1].index + 1 && frames[first_new - 1].index >= last_index);
  // Happy carried over; sad neither on the old connection (not due yet) nor from the reconnect on.
  CHECK(frames[first_new].emotion[0] > 0.69f && frames[first_new].emotion[1] == 0.0f);
  size_t sad_from = first_new;
  while (frames[sad_from].emotion[1] == 0.0f) ++sad_from;
  CHECK(sad_from > first_new + 10 && frames.back().emotion[1] > 0.99f && frames.back().emotion[0] == 0.0f);
  std::printf("reconnect: sad timed at %.2f s (audio timeline) shows from frame %llu (t=%.2f s, %zu frames into "
              "connection 1; frame times lag the audio by what was in flight when the sidecar died)\n",
              sad_at, (unsigned long long)frames[sad_from].index, frames[sad_from].time_seconds, sad_from - first_new);
  std::printf("reconnect: sidecar restart took %.2f s; first frame on the new connection %.2f s after it was up "
              "(index %llu, t=%.2f s); %zu frames before, %zu after; reconnects=%u\n",
              up_at - restarting_at, back_at - up_at, (unsigned long long)frames[first_new].index,
              frames[first_new].time_seconds, first_new, frames.size() - first_new, stats.reconnects);

  CHECK_RC(eb_stream_close(stream), EB_OK);
  CHECK_RC(eb_client_close(client), EB_OK);
  return 0;
}
