#include "audio.h"

#include <algorithm>
#include <cmath>

namespace eb {

namespace {
constexpr uint32_t kWireRate = 16000;  // the model's rate: what unsupported rates are resampled to
constexpr uint32_t kChunksPerSecond = 50;  // 20 ms chunks, as the Python client sends

int16_t to_pcm16(float x) {
  // Same arithmetic as emobridge.client.pcm16: clip, scale by 32767, round half to even.
  float clipped = std::isnan(x) ? 0.0f : std::clamp(x, -1.0f, 1.0f);
  return static_cast<int16_t>(std::nearbyint(double(clipped) * 32767.0));
}
}  // namespace

bool sidecar_accepts_rate(uint32_t rate) {
  for (uint32_t r : {8000u, 16000u, 22050u, 24000u, 32000u, 44100u, 48000u})
    if (r == rate) return true;
  return false;
}

AudioChunker::AudioChunker(uint32_t rate, uint32_t channels)
    : rate_(rate), channels_(channels),
      wire_rate_(sidecar_accepts_rate(rate) ? rate : kWireRate),
      // Resampled audio is mixed to mono first (the sidecar mixes down anyway).
      wire_channels_(sidecar_accepts_rate(rate) ? channels : 1),
      chunk_bytes_(size_t(wire_rate_ / kChunksPerSecond) * wire_channels_ * 2) {
  pending_.reserve(chunk_bytes_);
}

size_t AudioChunker::wire_bytes(size_t frames) const {
  if (wire_rate_ == rate_) return frames * wire_channels_ * 2;
  return size_t(std::ceil(double(frames) * wire_rate_ / rate_) + 1) * 2;
}

void AudioChunker::append(int16_t sample, std::vector<std::string>& chunks) {
  // Little-endian on the wire whatever the host.
  pending_.push_back(char(uint16_t(sample) & 0xff));
  pending_.push_back(char(uint16_t(sample) >> 8));
  if (pending_.size() == chunk_bytes_) {
    chunks.push_back(std::move(pending_));
    pending_.clear();
    pending_.reserve(chunk_bytes_);
  }
}

void AudioChunker::resample(const float* mono, size_t n, std::vector<std::string>& chunks) {
  // Position p counts input samples with previous_ at 0 and mono[k] at k + 1.
  const double step = double(rate_) / wire_rate_;
  auto at = [&](size_t p) { return p == 0 ? previous_ : mono[p - 1]; };
  while (position_ <= double(n)) {
    size_t i = size_t(position_);
    double frac = position_ - double(i);
    float value = frac == 0.0 ? at(i) : float(at(i) + frac * (at(i + 1) - at(i)));
    append(to_pcm16(value), chunks);
    position_ += step;
  }
  if (n) {
    previous_ = mono[n - 1];
    position_ -= double(n);
  }
}

void AudioChunker::push(const int16_t* samples, size_t frames, std::vector<std::string>& chunks) {
  if (wire_rate_ == rate_) {
    for (size_t i = 0; i < frames * channels_; ++i) append(samples[i], chunks);
    return;
  }
  mono_.assign(frames, 0.0f);
  for (size_t f = 0; f < frames; ++f) {
    float sum = 0.0f;
    for (uint32_t c = 0; c < channels_; ++c) sum += samples[f * channels_ + c] / 32768.0f;
    mono_[f] = sum / float(channels_);
  }
  resample(mono_.data(), frames, chunks);
}

void AudioChunker::push(const float* samples, size_t frames, std::vector<std::string>& chunks) {
  if (wire_rate_ == rate_) {
    for (size_t i = 0; i < frames * channels_; ++i) append(to_pcm16(samples[i]), chunks);
    return;
  }
  mono_.assign(frames, 0.0f);
  for (size_t f = 0; f < frames; ++f) {
    float sum = 0.0f;
    for (uint32_t c = 0; c < channels_; ++c) sum += samples[f * channels_ + c];
    mono_[f] = sum / float(channels_);
  }
  resample(mono_.data(), frames, chunks);
}

void AudioChunker::flush(std::vector<std::string>& chunks) {
  if (!pending_.empty()) chunks.push_back(std::move(pending_));
  pending_.clear();
}

}  // namespace eb
