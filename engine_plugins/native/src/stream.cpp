#include "stream.h"

#include <algorithm>
#include <cstring>

#include "errors.h"

namespace eb {

namespace {

using Call = grpc::ClientReaderWriter<pb::AnimateRequest, pb::AnimateResponse>;
constexpr size_t kMaxOutbound = 4096;  // queued requests of any kind

// Codes after which retrying cannot help: the request itself is wrong or not allowed.
bool is_fatal(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::OUT_OF_RANGE:
      return true;
    default:
      return false;
  }
}

}  // namespace

Stream::Stream(std::shared_ptr<grpc::Channel> channel, StreamSettings settings)
    : settings_(std::move(settings)),
      stub_(pb::EmoBridge::NewStub(channel)),
      chunker_(settings_.sample_rate, settings_.channels),
      max_audio_bytes_(chunker_.wire_bytes_per_second() * settings_.audio_queue_ms / 1000),
      base_emotion_(emotion_to_proto(settings_.emotion)),
      frames_(settings_.frame_queue_capacity) {}

Stream::~Stream() { close(); }

void Stream::start() { worker_ = std::thread([this] { run(); }); }

void Stream::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    state_ = EB_STATE_CLOSED;
    if (call_context_) call_context_->TryCancel();  // unblocks a Write or Read in progress
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

// --- caller side ---------------------------------------------------------------------------------

int32_t Stream::writable_locked() const {
  if (closed_) return fail(EB_ERR_CLOSED, "the stream was closed");
  if (audio_ended_) return fail(EB_ERR_STATE, "the audio was ended (eb_stream_end_audio); open a new stream");
  if (state_ == EB_STATE_FAILED) return fail(EB_ERR_STATE, "the stream failed: " + error_);
  return EB_OK;
}

template <class Sample>
int32_t Stream::push_any(const Sample* samples, size_t frames) {
  // Checked before any size arithmetic, so a huge count cannot overflow it.
  double wire = double(frames) * chunker_.wire_bytes_per_second() / settings_.sample_rate;
  if (wire > double(max_audio_bytes_))
    return fail(EB_ERR_INVALID_ARGUMENT, std::to_string(frames) + " sample frames exceed the audio queue (" +
                                             std::to_string(settings_.audio_queue_ms) +
                                             " ms, audio_queue_ms); push smaller pieces");
  std::vector<std::string> chunks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int32_t r = writable_locked()) return r;
    if (outbound_audio_bytes_ + chunker_.wire_bytes(frames) > max_audio_bytes_) {
      audio_rejected_ += frames;
      return fail(EB_ERR_QUEUE_FULL, "the audio queue is full (the sidecar is behind or unreachable); retry later");
    }
    chunker_.push(samples, frames, chunks);
    for (auto& chunk : chunks) {
      outbound_audio_bytes_ += chunk.size();
      outbound_.emplace_back().mutable_audio()->set_data(std::move(chunk));
    }
    audio_accepted_ += frames;
  }
  if (!chunks.empty()) changed_.notify_all();
  return EB_OK;
}

int32_t Stream::push(const int16_t* samples, size_t frames) { return push_any(samples, frames); }
int32_t Stream::push(const float* samples, size_t frames) { return push_any(samples, frames); }

int32_t Stream::set_emotion(const pb::Emotion& emotion, float transition_seconds, double time_seconds) {
  pb::AnimateRequest request;
  auto* update = request.mutable_emotion();
  *update->mutable_emotion() = emotion;
  if (transition_seconds >= 0.0f) update->set_transition_seconds(transition_seconds);
  // Queued on the caller's audio timeline; the writer re-bases it on the connection it is sent on.
  if (time_seconds >= 0.0) update->set_time_seconds(time_seconds);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int32_t r = writable_locked()) return r;
    // Audio is bounded by its bytes; this bounds a flood of emotion changes the sidecar cannot take in.
    if (outbound_.size() >= kMaxOutbound)
      return fail(EB_ERR_QUEUE_FULL, "too many requests queued for the sidecar; retry later");
    outbound_.push_back(std::move(request));
  }
  changed_.notify_all();
  return EB_OK;
}

int32_t Stream::end_audio() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int32_t r = writable_locked()) return r;
    std::vector<std::string> chunks;
    chunker_.flush(chunks);
    for (auto& chunk : chunks) outbound_.emplace_back().mutable_audio()->set_data(std::move(chunk));
    outbound_.emplace_back().mutable_end_of_audio();
    audio_ended_ = true;
  }
  changed_.notify_all();
  return EB_OK;
}

int32_t Stream::poll_latest(eb_frame* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return fail(EB_ERR_CLOSED, "the stream was closed");
  if (!frames_.size()) return EB_NO_FRAME;
  *out = frames_.back();
  frames_.clear();
  return EB_OK;
}

int32_t Stream::drain(eb_frame* out, size_t capacity, size_t* count) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return fail(EB_ERR_CLOSED, "the stream was closed");
  *count = frames_.pop(out, capacity);
  return EB_OK;
}

int32_t Stream::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [this] { return closed_ || frames_.size() || state_ == EB_STATE_ENDED || state_ == EB_STATE_FAILED; };
  changed_.wait_for(lock, timeout, ready);
  if (closed_) return fail(EB_ERR_CLOSED, "the stream was closed");
  return ready() ? EB_OK : EB_NO_FRAME;
}

int32_t Stream::state(int32_t* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return fail(EB_ERR_CLOSED, "the stream was closed");
  *out = state_;
  return EB_OK;
}

int32_t Stream::stats(eb_stream_stats* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return fail(EB_ERR_CLOSED, "the stream was closed");
  out->state = state_;
  out->reconnects = connections_ > 0 ? connections_ - 1 : 0;
  out->frames_queued = uint32_t(frames_.size());
  out->frames_received = frames_received_;
  out->frames_dropped = frames_dropped_;
  out->audio_frames_accepted = audio_accepted_;
  out->audio_frames_rejected = audio_rejected_;
  out->fps = fps_;
  std::memset(out->stream_id, 0, sizeof out->stream_id);
  std::memcpy(out->stream_id, stream_id_.data(), std::min(stream_id_.size(), sizeof out->stream_id - 1));
  return EB_OK;
}

int32_t Stream::error(std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return fail(EB_ERR_CLOSED, "the stream was closed");
  *out = error_;
  return EB_OK;
}

// --- the stream's thread -------------------------------------------------------------------------

void Stream::set_state_locked(int32_t state) {
  if (!closed_) state_ = state;
  changed_.notify_all();
}

pb::AnimateRequest Stream::config_request_locked() const {
  pb::AnimateRequest request;
  auto* config = request.mutable_config();
  config->set_sample_rate(chunker_.wire_rate());
  config->set_encoding(pb::AUDIO_ENCODING_PCM_S16LE);
  config->set_channels(chunker_.wire_channels());
  config->set_fps(settings_.fps);
  config->set_seed(settings_.seed);
  config->set_rig_profile(settings_.rig_profile);
  if (settings_.mouth_preservation >= 0.0f) config->set_mouth_preservation(settings_.mouth_preservation);
  config->mutable_style()->set_energy(settings_.style_energy);
  config->mutable_style()->set_smoothness(settings_.style_smoothness);
  // A reconnected stream starts from the emotion the old one had reached; updates still queued follow.
  if (base_emotion_.intensities_size() || base_emotion_.has_valence()) *config->mutable_initial_emotion() = base_emotion_;
  return request;
}

double Stream::audio_written_seconds_locked() const {
  return double(audio_written_bytes_) / double(chunker_.wire_bytes_per_second());
}

// Applies, in the sidecar's order (time, then arrival), the pending timed updates due by `until_seconds`.
void Stream::fold_due_locked(double until_seconds) {
  auto due = pending_timed_.begin();
  for (; due != pending_timed_.end() && due->first <= until_seconds; ++due) base_emotion_ = due->second.emotion();
  pending_timed_.erase(pending_timed_.begin(), due);
}

// Book-keeping of an update being written (its time still on the caller's timeline). An untimed one
// applies at once: it follows every timed one already due, and timed ones still ahead of the audio
// come after it, as in the sidecar. "Due" is judged by the audio written so far; the sidecar applies
// an untimed update a little earlier (its lookahead behind that audio), so a timed update within that
// window of an untimed one can be restored in the other order after a reconnect.
void Stream::record_sent_emotion_locked(const pb::EmotionUpdate& update) {
  if (update.has_time_seconds()) {
    auto at = std::upper_bound(pending_timed_.begin(), pending_timed_.end(), update.time_seconds(),
                               [](double t, const auto& pending) { return t < pending.first; });
    pending_timed_.emplace(at, update.time_seconds(), update);
  }
  fold_due_locked(audio_written_seconds_locked());
  if (!update.has_time_seconds()) base_emotion_ = update.emotion();
  // Bound the memory of a caller that schedules far ahead without sending the audio: the earliest
  // lose only their timing, and only if the connection is lost before their time.
  while (pending_timed_.size() > kMaxOutbound) {
    base_emotion_ = pending_timed_.front().second.emotion();
    pending_timed_.erase(pending_timed_.begin());
  }
}

void Stream::run() {
  auto backoff = settings_.backoff_initial;
  for (;;) {
    Outcome outcome;
    try {
      outcome = connect_once();
    } catch (const std::exception& e) {  // out of memory or threads: give up on this stream, not the process
      std::lock_guard<std::mutex> lock(mu_);
      call_context_ = nullptr;
      error_ = std::string("internal error: ") + e.what();
      return set_state_locked(EB_STATE_FAILED);
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_ || outcome == Outcome::kClosed) return;
    if (outcome == Outcome::kEnded) return set_state_locked(EB_STATE_ENDED);
    if (outcome == Outcome::kFatal || !settings_.reconnect) return set_state_locked(EB_STATE_FAILED);
    if (header_seen_) backoff = settings_.backoff_initial;  // it was up: a fresh outage starts the backoff over
    set_state_locked(EB_STATE_RECONNECTING);
    changed_.wait_for(lock, backoff, [this] { return closed_; });
    if (closed_) return;
    backoff = std::min(backoff * 2, settings_.backoff_max);
  }
}

Stream::Outcome Stream::connect_once() {
  grpc::ClientContext context;
  pb::AnimateRequest config;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Outcome::kClosed;
    call_context_ = &context;
    // This connection's audio time 0 is the first audio not yet written: audio in flight to a lost
    // sidecar is gone, so the caller's timeline and the new sidecar's differ by exactly that.
    connection_start_seconds_ = audio_written_seconds_locked();
    fold_due_locked(connection_start_seconds_);
    config = config_request_locked();
    // Timed updates the lost sidecar had not reached go first to the new one (re-timed when written).
    for (auto it = pending_timed_.rbegin(); it != pending_timed_.rend(); ++it)
      *outbound_.emplace_front().mutable_emotion() = std::move(it->second);
    pending_timed_.clear();
    segment_base_ = next_index_;  // this connection's frame 0 continues the caller's timeline
    reader_done_ = header_seen_ = false;
    end_reason_ = 0;
    // The end of audio went to a sidecar that is gone: end the new stream as well.
    if (audio_ended_ && (outbound_.empty() || !outbound_.back().has_end_of_audio()))
      outbound_.emplace_back().mutable_end_of_audio();
  }
  std::unique_ptr<Call> call = stub_->Animate(&context);
  // Reads run on their own thread so that a write blocked by flow control never stalls the frames.
  std::thread reader([&] { read_responses(call.get()); });

  bool ok = call->Write(config), writes_done = false;
  while (ok) {
    pb::AnimateRequest request;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return closed_ || reader_done_ || (!writes_done && !outbound_.empty()); });
      if (closed_ || reader_done_) break;
      request = std::move(outbound_.front());
      outbound_.pop_front();
      if (request.has_audio()) {
        outbound_audio_bytes_ -= request.audio().data().size();
        audio_written_bytes_ += request.audio().data().size();
      }
      if (request.has_emotion()) {
        auto* update = request.mutable_emotion();
        record_sent_emotion_locked(*update);
        // The sidecar's timeline starts at this connection's first audio; a time passed applies at once.
        if (update->has_time_seconds())
          update->set_time_seconds(std::max(0.0, update->time_seconds() - connection_start_seconds_));
      }
    }
    ok = call->Write(request);
    if (ok && request.has_end_of_audio()) {
      ok = call->WritesDone();
      writes_done = true;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) context.TryCancel();
  }
  reader.join();
  grpc::Status status = call->Finish();

  std::lock_guard<std::mutex> lock(mu_);
  call_context_ = nullptr;
  if (closed_) return Outcome::kClosed;
  if (status.ok()) {
    if (end_reason_ == pb::END_REASON_END_OF_AUDIO || end_reason_ == pb::END_REASON_MAX_DURATION)
      return Outcome::kEnded;
    error_ = end_reason_ == pb::END_REASON_SERVER_SHUTDOWN ? "the sidecar shut down (END_REASON_SERVER_SHUTDOWN)"
                                                           : "the sidecar ended the stream without a StreamEnd";
    return Outcome::kRetry;
  }
  error_ = std::string(status_code_name(status.error_code())) + ": " + status.error_message();
  return is_fatal(status.error_code()) ? Outcome::kFatal : Outcome::kRetry;
}

void Stream::read_responses(Call* call) {
  pb::AnimateResponse response;
  while (call->Read(&response)) {
    if (response.has_frame()) {
      on_frame(response.frame());
    } else if (response.has_header()) {
      std::lock_guard<std::mutex> lock(mu_);
      fps_ = response.header().fps();
      stream_id_ = response.header().stream_id();
      header_seen_ = true;
      ++connections_;
      set_state_locked(EB_STATE_STREAMING);
    } else if (response.has_end()) {
      std::lock_guard<std::mutex> lock(mu_);
      end_reason_ = response.end().reason();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  reader_done_ = true;
  changed_.notify_all();
}

void Stream::on_frame(const pb::Frame& frame) {
  eb_frame out = frame_from_proto(frame);

  std::lock_guard<std::mutex> lock(mu_);
  out.index = segment_base_ + frame.index();
  out.time_seconds = frame.time_seconds() + (segment_base_ && fps_ > 0 ? double(segment_base_) / fps_ : 0.0);
  out.connection = connections_ ? connections_ - 1 : 0;
  next_index_ = std::max(next_index_, out.index + 1);
  ++frames_received_;
  if (!frames_.push(out)) ++frames_dropped_;
  changed_.notify_all();
}

}  // namespace eb
