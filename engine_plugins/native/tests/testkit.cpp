#include "testkit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "emobridge/v1/emobridge.grpc.pb.h"

extern char** environ;

namespace testkit {

namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  CHECK(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

Sidecar::Sidecar(int max_streams, int port) : max_streams_(max_streams), port_(port ? port : free_port()) {
  const char* env = std::getenv("EMOBRIDGE_SIDECAR");
  exe_ = env && *env ? env : EB_DEFAULT_SIDECAR;
  if (access(exe_.c_str(), X_OK) != 0) {
    std::printf("SKIP: no sidecar at %s (run ./setup.sh, or set EMOBRIDGE_SIDECAR)\n", exe_.c_str());
    std::exit(kSkip);
  }
  start();
}

Sidecar::~Sidecar() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

void Sidecar::kill_hard() {
  CHECK(pid_ > 0);
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void Sidecar::start() {
  std::string port = std::to_string(port_), streams = std::to_string(max_streams_);
  std::string log = "sidecar-" + port + ".log";
  std::vector<std::string> args = {exe_, "serve", "--port", port, "--host", "127.0.0.1", "--device", "cpu",
                                   "--max-streams", streams, "--grace", "1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  CHECK(posix_spawn(&pid_, exe_.c_str(), &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);

  // Ready when GetInfo answers (the model is loaded by then).
  auto channel = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  auto stub = emobridge::v1::EmoBridge::NewStub(channel);
  double give_up = now() + 120.0;
  for (;;) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    emobridge::v1::GetInfoResponse info;
    if (stub->GetInfo(&context, emobridge::v1::GetInfoRequest(), &info).ok()) return;
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      std::fprintf(stderr, "the sidecar exited while starting; see %s\n", log.c_str());
      std::exit(1);
    }
    CHECK(now() < give_up);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::vector<int16_t> read_wav(const std::string& path, uint32_t* rate) {
  std::ifstream file(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  CHECK(bytes.size() > 44 && std::memcmp(bytes.data(), "RIFF", 4) == 0 && std::memcmp(bytes.data() + 8, "WAVE", 4) == 0);
  auto u32 = [&](size_t at) { uint32_t v; std::memcpy(&v, bytes.data() + at, 4); return v; };
  auto u16 = [&](size_t at) { uint16_t v; std::memcpy(&v, bytes.data() + at, 2); return v; };
  for (size_t at = 12; at + 8 <= bytes.size(); at += 8 + u32(at + 4) + (u32(at + 4) & 1)) {
    if (std::memcmp(bytes.data() + at, "fmt ", 4) == 0) {
      CHECK(u16(at + 8) == 1 && u16(at + 10) == 1 && u16(at + 22) == 16);  // PCM, mono, 16-bit
      *rate = u32(at + 12);
    } else if (std::memcmp(bytes.data() + at, "data", 4) == 0) {
      size_t n = std::min<size_t>(u32(at + 4), bytes.size() - at - 8) / 2;
      std::vector<int16_t> samples(n);
      std::memcpy(samples.data(), bytes.data() + at + 8, n * 2);
      return samples;
    }
  }
  CHECK(!"no data chunk");
  return {};
}

std::vector<int16_t> hello(uint32_t* rate) { return read_wav(EB_SOURCE_DIR "/examples/hello.wav", rate); }

eb_stream_config keep_all_config(uint32_t rate) {
  eb_stream_config config;
  eb_stream_config_init(&config);
  config.sample_rate = rate;
  config.frame_queue_capacity = 4096;  // tests drain only now and then
  return config;
}

void push_all(eb_stream* stream, const int16_t* samples, size_t count, uint32_t rate) {
  size_t step = rate / 50;
  for (size_t at = 0; at < count;) {
    size_t n = std::min(step, count - at);
    int32_t rc = eb_stream_push_s16(stream, samples + at, n);
    if (rc == EB_ERR_QUEUE_FULL) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    CHECK_RC(rc, EB_OK);
    at += n;
  }
}

std::vector<eb_frame> collect_until_end(eb_stream* stream, double timeout_s, int32_t* final_state) {
  std::vector<eb_frame> frames;
  eb_frame buffer[128];
  double give_up = now() + timeout_s;
  for (;;) {
    eb_stream_wait(stream, 200);
    int32_t state = state_of(stream);  // read before draining: no frame can follow an end seen here
    size_t n = 0;
    do {
      CHECK_RC(eb_stream_drain(stream, buffer, 128, &n), EB_OK);
      frames.insert(frames.end(), buffer, buffer + n);
    } while (n);
    if (state == EB_STATE_ENDED || state == EB_STATE_FAILED || now() > give_up) {
      *final_state = state;
      return frames;
    }
  }
}

int32_t state_of(eb_stream* stream) {
  int32_t state = -1;
  CHECK_RC(eb_stream_get_state(stream, &state), EB_OK);
  return state;
}

eb_stream_stats stats_of(eb_stream* stream) {
  eb_stream_stats stats{};
  stats.struct_size = sizeof stats;
  CHECK_RC(eb_stream_get_stats(stream, &stats), EB_OK);
  return stats;
}

std::string error_of(eb_stream* stream) {
  char buffer[512];
  CHECK_RC(eb_stream_get_error(stream, buffer, sizeof buffer, nullptr), EB_OK);
  return buffer;
}

double max_difference(const std::vector<eb_frame>& a, const std::vector<eb_frame>& b) {
  CHECK(a.size() == b.size());
  double worst = 0;
  auto compare = [&](double x, double y) { worst = std::max(worst, std::fabs(x - y)); };
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].index == b[i].index && a[i].weight_count == b[i].weight_count);
    for (uint32_t w = 0; w < a[i].weight_count; ++w) compare(a[i].weights[w], b[i].weights[w]);
    for (eb_rotation eb_frame::*r : {&eb_frame::head, &eb_frame::left_eye, &eb_frame::right_eye}) {
      compare((a[i].*r).yaw, (b[i].*r).yaw);
      compare((a[i].*r).pitch, (b[i].*r).pitch);
      compare((a[i].*r).roll, (b[i].*r).roll);
    }
    for (int e = 0; e < EB_NUM_EMOTIONS; ++e) compare(a[i].emotion[e], b[i].emotion[e]);
  }
  return worst;
}

std::vector<eb_frame> bake_direct(const std::string& address, const emobridge::v1::BakeRequest& request) {
  auto stub = emobridge::v1::EmoBridge::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  emobridge::v1::BakeResponse reply;
  grpc::ClientContext context;
  CHECK(stub->Bake(&context, request, &reply).ok());
  std::vector<eb_frame> frames;
  for (const emobridge::v1::Frame& f : reply.animation().frames()) {
    eb_frame frame{};
    frame.index = f.index();
    frame.weight_count = uint32_t(f.weights_size());
    std::copy(f.weights().begin(), f.weights().end(), frame.weights);
    frame.head = {f.head().yaw(), f.head().pitch(), f.head().roll()};
    frame.left_eye = {f.left_eye().yaw(), f.left_eye().pitch(), f.left_eye().roll()};
    frame.right_eye = {f.right_eye().yaw(), f.right_eye().pitch(), f.right_eye().roll()};
    std::copy(f.emotion().begin(), f.emotion().end(), frame.emotion);
    frames.push_back(frame);
  }
  return frames;
}

}  // namespace testkit
