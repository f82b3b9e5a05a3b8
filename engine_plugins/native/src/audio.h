// Audio in: turns what the caller pushes (int16 or float, any rate, interleaved channels) into the
// PCM16 20 ms chunks the sidecar reads, resampling to 16 kHz only when the sidecar cannot take the rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace eb {

// Rates a StreamConfig may name (the sidecar resamples them itself; 16000 is bit-exact with Bake).
bool sidecar_accepts_rate(uint32_t rate);

class AudioChunker {
 public:
  AudioChunker(uint32_t rate, uint32_t channels);

  uint32_t wire_rate() const { return wire_rate_; }
  uint32_t wire_channels() const { return wire_channels_; }
  // Upper bound of the wire bytes `frames` input frames turn into (to check queue room first).
  size_t wire_bytes(size_t frames) const;
  // Bytes per second on the wire.
  size_t wire_bytes_per_second() const { return size_t(wire_rate_) * wire_channels_ * 2; }

  // Append input; every complete 20 ms chunk is appended to `chunks`.
  void push(const int16_t* samples, size_t frames, std::vector<std::string>& chunks);
  void push(const float* samples, size_t frames, std::vector<std::string>& chunks);
  // The partial last chunk, if any (at the end of the audio).
  void flush(std::vector<std::string>& chunks);

 private:
  void append(int16_t sample, std::vector<std::string>& chunks);
  void resample(const float* mono, size_t n, std::vector<std::string>& chunks);

  uint32_t rate_, channels_, wire_rate_, wire_channels_;
  size_t chunk_bytes_;
  std::string pending_;            // PCM16 bytes of the chunk being filled
  // Linear resampler state: the last input sample and the next output position, in input samples
  // after it (so a push may end anywhere).
  float previous_ = 0.0f;
  double position_ = 1.0;
  std::vector<float> mono_;        // scratch
};

}  // namespace eb
