// Frames streamed through the C ABI equal the sidecar's Bake of the same audio, emotion, seed and fps.
#include <cmath>
#include <cstdio>

#include <grpcpp/grpcpp.h>

#include "emobridge/v1/emobridge.grpc.pb.h"
#include "testkit.h"

namespace pb = emobridge::v1;
using namespace testkit;

int main() {
  Sidecar sidecar;
  uint32_t rate = 0;
  std::vector<int16_t> audio = hello(&rate);
  const double fps = 60.0;
  const uint64_t seed = 7;

  // Streamed: pushed in 20 ms pieces as fast as the queue takes them.
  eb_client* client = nullptr;
  CHECK_RC(eb_client_connect(sidecar.address().c_str(), 5000, &client), EB_OK);
  eb_stream_config config = keep_all_config(rate);
  config.fps = fps;
  config.seed = seed;
  const char* names[] = {"happy"};
  const float values[] = {0.6f};
  config.emotion_names = names;
  config.emotion_values = values;
  config.emotion_count = 1;
  eb_stream* stream = nullptr;
  CHECK_RC(eb_stream_open(client, &config, &stream), EB_OK);
  double t0 = now();
  push_all(stream, audio.data(), audio.size(), rate);
  CHECK_RC(eb_stream_end_audio(stream), EB_OK);
  int32_t state = -1;
  std::vector<eb_frame> streamed = collect_until_end(stream, 60.0, &state);
  double seconds = now() - t0;
  CHECK(state == EB_STATE_ENDED);
  eb_stream_stats stats = stats_of(stream);
  CHECK(stats.frames_dropped == 0 && stats.reconnects == 0 && stats.frames_received == streamed.size());

  // Baked through the generated stub, the same PCM16.
  auto stub = pb::EmoBridge::NewStub(grpc::CreateChannel(sidecar.address(), grpc::InsecureChannelCredentials()));
  pb::BakeRequest request;
  request.mutable_pcm()->set_data(audio.data(), audio.size() * sizeof(int16_t));
  request.mutable_pcm()->set_encoding(pb::AUDIO_ENCODING_PCM_S16LE);
  request.mutable_pcm()->set_sample_rate(rate);
  request.set_fps(fps);
  request.set_seed(seed);
  auto* key = request.add_emotion_keyframes();
  (*key->mutable_emotion()->mutable_intensities())["happy"] = 0.6f;
  key->set_time_seconds(0.0);
  key->set_transition_seconds(0.0);
  pb::BakeResponse baked;
  grpc::ClientContext context;
  grpc::Status status = stub->Bake(&context, request, &baked);
  CHECK(status.ok());
  CHECK(baked.meta().route() == "model");
  const auto& frames = baked.animation().frames();

  CHECK(streamed.size() == size_t(frames.size()));
  double worst = 0.0;
  auto compare = [&](double a, double b) { worst = std::max(worst, std::fabs(a - b)); };
  for (size_t i = 0; i < streamed.size(); ++i) {
    const eb_frame& s = streamed[i];
    const pb::Frame& b = frames[int(i)];
    CHECK(s.index == i && b.index() == i && s.connection == 0);
    CHECK(std::fabs(s.time_seconds - b.time_seconds()) < 1e-9);
    CHECK(s.weight_count == 52 && b.weights_size() == 52);
    for (int w = 0; w < 52; ++w) compare(s.weights[w], b.weights(w));
    compare(s.head.yaw, b.head().yaw());
    compare(s.head.pitch, b.head().pitch());
    compare(s.head.roll, b.head().roll());
    for (int e = 0; e < EB_NUM_EMOTIONS; ++e) compare(s.emotion[e], b.emotion(e));
  }
  std::printf("bake match: %zu frames streamed in %.2f s for %.2f s of audio; max |stream - bake| = %.3g\n",
              streamed.size(), seconds, audio.size() / double(rate), worst);
  CHECK(worst <= 1e-4);

  CHECK_RC(eb_stream_close(stream), EB_OK);
  CHECK_RC(eb_client_close(client), EB_OK);
  return 0;
}
