#include "clip.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "errors.h"

namespace eb {

namespace {

constexpr size_t kMaxChanges = 4096;  // as a bake's emotion_keys
// Retries of a bake that found no sidecar: as a stream's reconnect defaults, 100 ms doubling to 2 s.
constexpr std::chrono::milliseconds kRetryInitial{100}, kRetryMax{2000};

}  // namespace

Clip::Clip(std::shared_ptr<grpc::Channel> channel, BakeSettings settings, std::vector<char> samples, size_t frames,
           bool f32)
    : channel_(std::move(channel)),
      settings_(std::move(settings)),
      samples_(std::move(samples)),
      frame_count_(frames),
      f32_(f32) {}

Clip::~Clip() { close(); }

void Clip::start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wanted_ = true;
  }
  worker_ = std::thread([this] { run(); });
}

void Clip::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    if (call_context_) call_context_->TryCancel();  // the sidecar's reply is not waited for
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Clip::run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::chrono::milliseconds retry = kRetryInitial;
  for (;;) {
    changed_.wait(lock, [this] { return closed_ || wanted_; });
    if (closed_) return;
    // Every change so far goes into this bake; later ones wait for the next.
    wanted_ = false;
    baking_ = true;
    ++bakes_started_;
    BakeSettings these = settings_;
    these.emotion_keys.insert(these.emotion_keys.end(), changes_.begin(), changes_.end());
    auto baked = std::make_shared<Baked>();
    baked->changes = uint32_t(changes_.size());
    grpc::ClientContext context;
    call_context_ = &context;
    lock.unlock();

    baked->frames.resize(max_bake_frames(frame_count_, settings_.sample_rate, settings_.fps));
    baked->info.struct_size = sizeof baked->info;
    size_t count = 0;
    int32_t rc = bake(channel_, these, samples_.data(), frame_count_, f32_, baked->frames.data(),
                      baked->frames.size(), &count, &baked->info, &context);
    std::string why = rc == EB_OK ? std::string() : thread_error();  // this thread's, read before the lock
    baked->frames.resize(rc == EB_OK ? count : 0);

    lock.lock();
    call_context_ = nullptr;
    baking_ = false;
    if (closed_) return;
    last_result_ = rc;
    error_ = why;
    if (rc == EB_OK) {
      latest_ = std::move(baked);
      ++version_;
      retry = kRetryInitial;
    }
    // No sidecar (down, restarting) or no reply in time: bake the same changes again after a pause, as a stream
    // reconnects, so a clip outlives a sidecar restart. Meanwhile the bake counts as due (status.baking).
    if (rc == EB_ERR_UNAVAILABLE) wanted_ = true;
    changed_.notify_all();
    if (rc == EB_ERR_UNAVAILABLE) {
      changed_.wait_for(lock, retry, [this] { return closed_; });
      if (closed_) return;
      retry = std::min(retry * 2, kRetryMax);
    }
  }
}

// --- caller side ---------------------------------------------------------------------------------

int32_t Clip::readable_locked() const {
  if (closed_) return fail(EB_ERR_CLOSED, "the clip was closed");
  if (!latest_) return EB_NO_FRAME;
  return EB_OK;
}

int32_t Clip::add_change(EmotionKey change) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return fail(EB_ERR_CLOSED, "the clip was closed");
    if (changes_.size() >= kMaxChanges)
      return fail(EB_ERR_STATE, "the clip has 4096 emotion changes, the most it takes; open it again from the "
                                "emotion in effect");
    changes_.push_back(std::move(change));
    wanted_ = true;
  }
  changed_.notify_all();
  return EB_OK;
}

int32_t Clip::sample(double time_seconds, eb_frame* out) {
  std::shared_ptr<const Baked> baked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int32_t r = readable_locked()) return r;
    baked = latest_;
  }
  const auto& frames = baked->frames;
  if (frames.empty()) return EB_NO_FRAME;
  // Frame i is at i / fps: the last one at or before the time (a hair of slack so t = i / fps is frame i).
  double position = std::floor(time_seconds * settings_.fps + 1e-6);
  size_t i = position <= 0.0 || std::isnan(position) ? 0 : std::min(size_t(position), frames.size() - 1);
  *out = frames[i];
  return EB_OK;
}

int32_t Clip::frames(eb_frame* out, size_t capacity, size_t* count, uint64_t* version) {
  std::shared_ptr<const Baked> baked;
  uint64_t seen = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int32_t r = readable_locked()) return r;
    baked = latest_;
    seen = version_;
  }
  *count = baked->frames.size();
  if (version) *version = seen;
  if (*count > capacity)
    return fail(EB_ERR_INVALID_ARGUMENT, "the clip has " + std::to_string(*count) + " frames, out_frames holds " +
                                             std::to_string(capacity) + "; out_count says how many");
  std::copy(baked->frames.begin(), baked->frames.end(), out);
  return EB_OK;
}

int32_t Clip::wait(uint32_t changes, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto has = [&] { return latest_ && latest_->changes >= changes; };
  // A failure ends the wait only once nothing more is coming that could satisfy it.
  auto failed = [&] { return last_result_ != EB_OK && !baking_ && !wanted_; };
  changed_.wait_for(lock, timeout, [&] { return closed_ || has() || failed(); });
  if (closed_) return fail(EB_ERR_CLOSED, "the clip was closed");
  if (has()) return EB_OK;
  if (failed()) return fail(last_result_, error_);
  return EB_NO_FRAME;
}

int32_t Clip::status(eb_clip_status* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return fail(EB_ERR_CLOSED, "the clip was closed");
  uint32_t size = out->struct_size;
  std::memset(out, 0, sizeof *out);
  out->struct_size = size;
  out->changes = uint32_t(changes_.size());
  out->bakes_started = bakes_started_;
  out->version = version_;
  out->baking = baking_ || wanted_ ? 1 : 0;
  out->last_result = last_result_;
  if (latest_) {
    out->changes_baked = latest_->changes;
    out->frame_count = uint32_t(latest_->frames.size());
    out->duration_seconds = latest_->info.duration_seconds;
    std::memcpy(out->route, latest_->info.route, sizeof out->route);
  }
  return EB_OK;
}

int32_t Clip::error(std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return fail(EB_ERR_CLOSED, "the clip was closed");
  *out = error_;
  return EB_OK;
}

}  // namespace eb
