// 100 concurrent streams from one process, on one client, fed by a few threads: every stream gets
// all of its frames.
#include <cstdio>
#include <thread>

#include "testkit.h"

using namespace testkit;

int main() {
  const int kStreams = 100, kThreads = 4;
  Sidecar sidecar(kStreams + 8);
  uint32_t rate = 0;
  std::vector<int16_t> audio = hello(&rate);
  audio.resize(rate);  // 1 s each: 100 s of audio for a 2-core machine

  eb_client* client = nullptr;
  CHECK_RC(eb_client_connect(sidecar.address().c_str(), 5000, &client), EB_OK);
  eb_stream_config config;
  eb_stream_config_init(&config);
  config.sample_rate = rate;
  std::vector<eb_stream*> streams(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    config.seed = uint64_t(i);
    CHECK_RC(eb_stream_open(client, &config, &streams[i]), EB_OK);
  }

  double t0 = now();
  std::vector<std::vector<eb_frame>> frames(kStreams);
  std::vector<int32_t> states(kStreams, -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kStreams; i += kThreads) {
        CHECK_RC(eb_stream_push_s16(streams[i], audio.data(), audio.size()), EB_OK);  // all at once: 1 s fits the queue
        CHECK_RC(eb_stream_end_audio(streams[i]), EB_OK);
      }
      for (int i = t; i < kStreams; i += kThreads) frames[i] = collect_until_end(streams[i], 170.0, &states[i]);
    });
  }
  for (auto& thread : threads) thread.join();
  double seconds = now() - t0;

  size_t total = 0;
  for (int i = 0; i < kStreams; ++i) {
    if (states[i] != EB_STATE_ENDED || frames[i].size() != 60)
      std::fprintf(stderr, "stream %d: state %s, %zu frames, error '%s'\n", i, eb_state_name(states[i]),
                   frames[i].size(), error_of(streams[i]).c_str());
    CHECK(states[i] == EB_STATE_ENDED && frames[i].size() == 60);
    eb_stream_stats stats = stats_of(streams[i]);
    CHECK(stats.reconnects == 0);
    total += frames[i].size();
  }
  std::printf("concurrent: %d streams x 1 s of audio -> %zu frames in %.2f s (every stream ended with 60 frames)\n",
              kStreams, total, seconds);
  CHECK_RC(eb_client_close(client), EB_OK);  // closes the streams too
  CHECK_RC(eb_stream_close(streams[0]), EB_ERR_CLOSED);
  return 0;
}
