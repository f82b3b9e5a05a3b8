// eb_bake_s16 / eb_bake_f32 against a real sidecar: the frames equal the sidecar's own Bake reply,
// emotion keyframes follow the keys, GetInfo comes back as JSON, transcript and recognised-word routes are reachable, and what the sidecar refuses comes back as
// EB_ERR_INVALID_ARGUMENT with its reason (the argument checks that need no sidecar are in test_misuse).
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "emobridge/v1/emobridge.grpc.pb.h"
#include "testkit.h"

namespace pb = emobridge::v1;
using namespace testkit;

namespace {

struct Baked {
  int32_t rc = 0;
  std::vector<eb_frame> frames;
  eb_bake_info info{};
  double seconds = 0;
};

Baked bake_s16(eb_client* client, const eb_bake_config& config, const std::vector<int16_t>& audio) {
  Baked out;
  size_t channels = config.channels;
  out.frames.resize(eb_bake_max_frames(audio.size() / channels, config.sample_rate, config.fps));
  out.info.struct_size = sizeof out.info;
  size_t count = 0;
  double t0 = now();
  out.rc = eb_bake_s16(client, &config, audio.data(), audio.size() / channels, out.frames.data(), out.frames.size(),
                       &count, &out.info);
  out.seconds = now() - t0;
  out.frames.resize(count);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

}  // namespace

int main() {
  Sidecar sidecar;
  uint32_t rate = 0;
  const std::vector<int16_t> audio = hello(&rate);
  const double seconds_of_audio = audio.size() / double(rate);
  eb_client* client = nullptr;
  CHECK_RC(eb_client_connect(sidecar.address().c_str(), 5000, &client), EB_OK);

  eb_bake_config config;
  eb_bake_config_init(&config);
  config.sample_rate = rate;
  config.seed = 7;
  const char* names[] = {"happy"};
  const float values[] = {0.6f};
  config.emotion_names = names;
  config.emotion_values = values;
  config.emotion_count = 1;

  // --- the model route equals the sidecar's own Bake reply to the generated stub
  Baked model = bake_s16(client, config, audio);
  CHECK_RC(model.rc, EB_OK);
  CHECK(std::string(model.info.route) == "model");
  CHECK(std::fabs(model.info.duration_seconds - seconds_of_audio) < 1e-3);
  CHECK(model.frames.size() == size_t(std::lround(seconds_of_audio * 60.0)));
  for (size_t i = 0; i < model.frames.size(); ++i)
    CHECK(model.frames[i].index == i && std::fabs(model.frames[i].time_seconds - i / 60.0) < 1e-9 &&
          model.frames[i].connection == 0 && model.frames[i].weight_count == 52);

  pb::BakeRequest request;
  request.mutable_pcm()->set_data(audio.data(), audio.size() * sizeof(int16_t));
  request.mutable_pcm()->set_encoding(pb::AUDIO_ENCODING_PCM_S16LE);
  request.mutable_pcm()->set_sample_rate(rate);
  request.set_seed(7);
  auto* key = request.add_emotion_keyframes();
  (*key->mutable_emotion()->mutable_intensities())["happy"] = 0.6f;
  CHECK(max_difference(model.frames, bake_direct(sidecar.address(), request)) == 0.0);

  // --- emotion keyframes (ABI 4): angry from 1 s over 0.3 s, neutral at once from 2 s; the sidecar's own
  // Bake of the same keyframes gives the same frames, and the emotion follows the keys
  const char* angry[] = {"angry"};
  const float strong[] = {0.8f};
  const eb_emotion_key keys[] = {{2.0, 0.0f, nullptr, nullptr, 0}, {1.0, 0.3f, angry, strong, 1}};  // any order
  eb_bake_config keyed = config;
  keyed.emotion_keys = keys;
  keyed.emotion_key_count = 2;
  Baked turns = bake_s16(client, keyed, audio);
  CHECK_RC(turns.rc, EB_OK);
  for (const eb_emotion_key& k : keys) {
    auto* update = request.add_emotion_keyframes();
    if (k.count) (*update->mutable_emotion()->mutable_intensities())[k.names[0]] = k.values[0];
    else update->mutable_emotion();  // set, and empty: neutral
    update->set_time_seconds(k.time_seconds);
    update->set_transition_seconds(k.transition_seconds);
  }
  CHECK(max_difference(turns.frames, bake_direct(sidecar.address(), request)) == 0.0);
  const eb_frame &before = turns.frames[50], &during = turns.frames[110], &after = turns.frames[150];  // 60 fps
  std::printf("keyframes: happy/angry at 0.83 s %.2f/%.2f, 1.83 s %.2f/%.2f, 2.5 s %.2f/%.2f\n", before.emotion[0],
              before.emotion[2], during.emotion[0], during.emotion[2], after.emotion[0], after.emotion[2]);
  CHECK(std::fabs(before.emotion[0] - 0.6f) < 0.01f && before.emotion[2] < 0.01f);
  CHECK(std::fabs(during.emotion[2] - 0.8f) < 0.05f && during.emotion[0] < 0.05f);
  CHECK(after.emotion[0] < 0.01f && after.emotion[2] < 0.01f);
  CHECK(max_difference(std::vector<eb_frame>(turns.frames.begin(), turns.frames.begin() + 55),
                       std::vector<eb_frame>(model.frames.begin(), model.frames.begin() + 55)) == 0.0);

  // --- a neutral clip with a key stays neutral until the key (the sidecar holds its first keyframe from the start)
  eb_bake_config neutral_then_angry = keyed;
  neutral_then_angry.emotion_count = 0;
  neutral_then_angry.emotion_key_count = 1;
  neutral_then_angry.emotion_keys = &keys[1];
  Baked late = bake_s16(client, neutral_then_angry, audio);
  CHECK_RC(late.rc, EB_OK);
  CHECK(late.frames[50].emotion[2] == 0.0f && std::fabs(late.frames[110].emotion[2] - 0.8f) < 0.05f);

  // --- float samples are the same audio
  std::vector<float> as_float(audio.begin(), audio.end());
  for (float& x : as_float) x /= 32768.0f;
  std::vector<eb_frame> from_float(model.frames.size() + 2);
  size_t count = 0;
  CHECK_RC(eb_bake_f32(client, &config, as_float.data(), as_float.size(), from_float.data(), from_float.size(), &count,
                       nullptr), EB_OK);
  from_float.resize(count);
  CHECK(max_difference(model.frames, from_float) == 0.0);

  // --- other rates and channel counts: the sidecar resamples and mixes; eb_bake_max_frames bounds the count
  std::vector<int16_t> stereo_48k;
  for (size_t i = 0; i < audio.size() * 3; ++i) stereo_48k.insert(stereo_48k.end(), 2, audio[i / 3]);
  eb_bake_config wide = config;
  wide.sample_rate = 48000;
  wide.channels = 2;
  wide.fps = 30;
  Baked resampled = bake_s16(client, wide, stereo_48k);
  CHECK_RC(resampled.rc, EB_OK);
  size_t bound = eb_bake_max_frames(stereo_48k.size() / 2, 48000, 30);
  CHECK(resampled.frames.size() <= bound && resampled.frames.size() + 2 >= bound);

  // --- a transcript takes the forced-alignment route; recognised words keep the model and seal more
  const std::string transcript = read_text(EB_SOURCE_DIR "/examples/hello.txt");
  eb_bake_config with_text = config;
  with_text.transcript = transcript.c_str();
  Baked aligned = bake_s16(client, with_text, audio);
  CHECK_RC(aligned.rc, EB_OK);
  CHECK(std::string(aligned.info.route) == "transcript" && aligned.frames.size() == model.frames.size());
  eb_bake_config recognize = config;
  recognize.recognize_words = 1;
  Baked recognized = bake_s16(client, recognize, audio);
  CHECK_RC(recognized.rc, EB_OK);
  CHECK(std::string(recognized.info.route) == "model");
  double changed_by_words = max_difference(model.frames, recognized.frames);
  CHECK(changed_by_words > 0.05);

  // --- the bake's metadata as JSON (ABI 5): the words recognised, a transcript's unknown words; a buffer too small
  // is left empty with the length said; an ABI 3-sized info is taken and its missing fields are not written
  char meta[4096];
  eb_bake_info with_meta{};
  with_meta.struct_size = sizeof with_meta;
  with_meta.meta_json = meta;
  with_meta.meta_json_capacity = sizeof meta;
  std::vector<eb_frame> scratch(model.frames.size() + 2);
  CHECK_RC(eb_bake_s16(client, &recognize, audio.data(), audio.size(), scratch.data(), scratch.size(), &count,
                       &with_meta), EB_OK);
  std::printf("meta (recognised words): %s\n", meta);
  CHECK(std::strstr(meta, "\"recognized\": \"") != nullptr && with_meta.meta_json_length == std::strlen(meta));
  const size_t recognized_length = with_meta.meta_json_length;
  eb_bake_config odd_words = config;
  odd_words.transcript = "put the zorblax back";
  CHECK_RC(eb_bake_s16(client, &odd_words, audio.data(), audio.size(), scratch.data(), scratch.size(), &count,
                       &with_meta), EB_OK);
  std::printf("meta (transcript): %s\n", meta);
  CHECK(std::strstr(meta, "\"unknown_words\": [\"zorblax\"]") != nullptr);
  with_meta.meta_json_capacity = 8;
  CHECK_RC(eb_bake_s16(client, &recognize, audio.data(), audio.size(), scratch.data(), scratch.size(), &count,
                       &with_meta), EB_OK);
  CHECK(meta[0] == '\0' && with_meta.meta_json_length == recognized_length);
  struct {
    eb_bake_info info;
    char guard[8];
  } abi3{};
  abi3.info.struct_size = offsetof(eb_bake_info, meta_json);
  abi3.info.meta_json_length = 12345;  // past its struct_size: must stay
  CHECK_RC(eb_bake_s16(client, &config, audio.data(), audio.size(), scratch.data(), scratch.size(), &count,
                       &abi3.info), EB_OK);
  CHECK(std::string(abi3.info.route) == "model" && abi3.info.meta_json_length == 12345);

  // --- bakes at once from several threads, while the client is shared: each equals the single one
  std::vector<std::thread> bakers;
  std::vector<Baked> parallel(3);
  for (auto& result : parallel) bakers.emplace_back([&] { result = bake_s16(client, config, audio); });
  for (auto& baker : bakers) baker.join();
  for (const auto& result : parallel) CHECK(result.rc == EB_OK && max_difference(model.frames, result.frames) == 0.0);

  // --- what the sidecar refuses, with its reason
  const char* unknown[] = {"glee"};
  eb_bake_config refused = config;
  refused.emotion_names = unknown;
  CHECK_RC(bake_s16(client, refused, audio).rc, EB_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(eb_last_error(), "glee") != nullptr);
  refused = config;
  refused.rig_profile = "no_such_rig";
  CHECK_RC(bake_s16(client, refused, audio).rc, EB_ERR_INVALID_ARGUMENT);
  CHECK(std::strstr(eb_last_error(), "no_such_rig") != nullptr);
  std::vector<eb_frame> small(10);
  count = 0;
  CHECK_RC(eb_bake_s16(client, &config, audio.data(), audio.size(), small.data(), small.size(), &count, nullptr),
           EB_ERR_INVALID_ARGUMENT);
  CHECK(count == model.frames.size() && std::strstr(eb_last_error(), "eb_bake_max_frames") != nullptr);
  refused = config;
  refused.timeout_ms = 1;
  CHECK_RC(bake_s16(client, refused, audio).rc, EB_ERR_UNAVAILABLE);
  CHECK(std::strstr(eb_last_error(), "timeout_ms") != nullptr);

  // --- GetInfo as JSON (ABI 4): a size query, a buffer one byte short, then the whole reply
  size_t info_length = 0;
  CHECK_RC(eb_client_get_info(client, 5000, nullptr, 0, &info_length), EB_OK);
  std::vector<char> info(info_length + 1, 'x');
  CHECK_RC(eb_client_get_info(client, 5000, info.data(), info_length, &info_length), EB_ERR_INVALID_ARGUMENT);
  CHECK(info[0] == '\0' && info_length + 1 == info.size() && std::strstr(eb_last_error(), "out_length") != nullptr);
  CHECK_RC(eb_client_get_info(client, 5000, info.data(), info.size(), &info_length), EB_OK);
  const std::string json(info.data());
  std::printf("GetInfo: %s\n", json.c_str());
  CHECK(json.size() == info_length && json.front() == '{' && json.back() == '}');
  for (const char* field : {"\"model_name\":\"", "\"emotion_names\":[\"happy\",\"sad\"", "\"rig_profiles\":[",
                            "\"lookahead_ms\":80", "\"active_streams\":0", "\"max_bake_seconds\":", "\"device\":\"cpu\""})
    CHECK(json.find(field) != std::string::npos);

  // --- a sidecar that is gone: UNAVAILABLE, and the client bakes again once it is back
  sidecar.kill_hard();
  CHECK_RC(bake_s16(client, config, audio).rc, EB_ERR_UNAVAILABLE);
  sidecar.start();
  Baked again = bake_s16(client, config, audio);
  CHECK_RC(again.rc, EB_OK);
  CHECK(max_difference(model.frames, again.frames) == 0.0);

  std::printf("bake: %zu frames for %.2f s of audio; model %.3f s, transcript %.3f s, recognised words %.3f s "
              "(max change %.3f)\n", model.frames.size(), seconds_of_audio, model.seconds, aligned.seconds,
              recognized.seconds, changed_by_words);
  CHECK_RC(eb_client_close(client), EB_OK);
  return 0;
}
