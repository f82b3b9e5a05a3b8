// What the native tests share: fail-fast checks, a real sidecar process per test, audio helpers.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "emobridge.h"

namespace emobridge::v1 {
class BakeRequest;
}

#define CHECK(cond)                                                                                     \
  do {                                                                                                  \
    if (!(cond)) {                                                                                      \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s (eb_last_error: '%s')\n", __FILE__, __LINE__, #cond, \
                   eb_last_error());                                                                    \
      std::exit(1);                                                                                     \
    }                                                                                                   \
  } while (0)

// Checks that an eb_* call returns `code`.
#define CHECK_RC(call, code)                                                                            \
  do {                                                                                                  \
    int32_t rc_ = (call);                                                                               \
    if (rc_ != (code)) {                                                                                \
      std::fprintf(stderr, "%s:%d: %s returned %s, expected %s (eb_last_error: '%s')\n", __FILE__, __LINE__, \
                   #call, eb_result_name(rc_), eb_result_name(code), eb_last_error());                  \
      std::exit(1);                                                                                     \
    }                                                                                                   \
  } while (0)

namespace testkit {

constexpr int kSkip = 77;  // ctest SKIP_RETURN_CODE

// A real `emobridge serve` on 127.0.0.1, started in the constructor (or the test exits 77 when the
// repo's .venv/bin/emobridge is missing) and stopped in the destructor.
class Sidecar {
 public:
  explicit Sidecar(int max_streams = 8, int port = 0);
  ~Sidecar();
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  void kill_hard();  // SIGKILL, as a crash would
  void start();      // (re)start on the same port and wait until GetInfo answers

 private:
  std::string exe_;
  int max_streams_, port_;
  pid_t pid_ = -1;
};

// Seconds since an arbitrary start.
double now();
// The samples of a 16-bit PCM mono wav (`rate` gets its sample rate).
std::vector<int16_t> read_wav(const std::string& path, uint32_t* rate);
// examples/hello.wav of the repository (4 s of speech, 16 kHz mono).
std::vector<int16_t> hello(uint32_t* rate);
// A stream config for mono audio at `rate` whose frame queue keeps every frame of a test clip.
eb_stream_config keep_all_config(uint32_t rate);
// Pushes audio in 20 ms pieces, waiting whenever the queue is full.
void push_all(eb_stream* stream, const int16_t* samples, size_t count, uint32_t rate);
// Drains frames until the stream is ended (or failed / timeout); returns them.
std::vector<eb_frame> collect_until_end(eb_stream* stream, double timeout_s, int32_t* final_state);
int32_t state_of(eb_stream* stream);
eb_stream_stats stats_of(eb_stream* stream);
std::string error_of(eb_stream* stream);
// Largest difference between two frame sequences of equal length (weights, rotations, emotion); they must
// have the same indices and weight counts.
double max_difference(const std::vector<eb_frame>& a, const std::vector<eb_frame>& b);
// The sidecar's own reply to `request` through the generated stub (not the library), as eb_frames.
std::vector<eb_frame> bake_direct(const std::string& address, const emobridge::v1::BakeRequest& request);

}  // namespace testkit
