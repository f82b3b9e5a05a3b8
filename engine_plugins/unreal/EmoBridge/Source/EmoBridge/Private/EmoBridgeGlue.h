// EmoBridgeGlue.h - the engine-independent part of the Unreal plugin: plain C++17 over emobridge.h.
//
// Everything here is free of Unreal types on purpose, so CI compiles and tests it with g++
// (tests/engine_plugins/test_unreal_glue.py) although no engine is available there. The UE
// classes (EmoBridgeComponent, EmoBridgeLiveLinkSource, ...) only move data between these
// functions and engine types.
//
// What lives here and why not in the native core: the native core (engine_plugins/native) is
// engine-neutral and owned by its own issue. The Live Link curve layout is Unreal's, so it
// belongs to the Unreal plugin. Emotion needs nothing here: valence/arousal goes to the sidecar
// as the point itself (eb_stream_set_valence_arousal, ABI 2), and the sidecar maps it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "emobridge.h"

namespace emobridge_ue {

// EARFaceBlendShape order and the Live Link property names Unreal's Apple ARKit source pushes
// (the enum value names without the "EARFaceBlendShape::" prefix). The MetaHuman face AnimBP's
// mh_arkit_mapping_pose reads curves by exactly these names.
constexpr int kLiveLinkCurveCount = 61;
constexpr int kArkitWeightCount = 52;
inline const char* const kLiveLinkCurveNames[kLiveLinkCurveCount] = {
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawLeft", "JawRight", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthLeft", "MouthRight", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft",
    "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft",
    "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut", "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll"};

// Emotion basis of the C ABI (EB_NUM_EMOTIONS), in eb_frame.emotion order.
inline const char* const kEmotionNames[EB_NUM_EMOTIONS] = {"happy", "sad", "angry", "fear", "disgust", "surprise",
                                                          "contempt"};

// The 61 Live Link property values of one frame, exactly what the sidecar's Live Link Face packets
// carry for it: 52 ARKit weights, then head / left eye / right eye yaw, pitch, roll. Rotations are
// radians in eb_frame and go out as radians / pi, the -1..1 range (degrees / 180) that Unreal's
// ARKit source uses for these curves. Returns false (and zeros) for a frame that is not ARKit-52
// (a stream opened with a rig profile): Live Link curves must stay ARKit.
inline bool LiveLinkValuesFromFrame(const eb_frame& frame, float out[kLiveLinkCurveCount]) {
  for (int i = 0; i < kLiveLinkCurveCount; ++i) out[i] = 0.0f;
  if (frame.weight_count != kArkitWeightCount) return false;
  for (int i = 0; i < kArkitWeightCount; ++i) out[i] = frame.weights[i];
  const double pi = 3.14159265358979323846;
  const eb_rotation* rotations[3] = {&frame.head, &frame.left_eye, &frame.right_eye};
  for (int r = 0; r < 3; ++r) {
    out[52 + 3 * r + 0] = static_cast<float>(rotations[r]->yaw / pi);
    out[52 + 3 * r + 1] = static_cast<float>(rotations[r]->pitch / pi);
    out[52 + 3 * r + 2] = static_cast<float>(rotations[r]->roll / pi);
  }
  return true;
}

// Feeds a clip's PCM16 into a stream a bit at a time, from the game thread's tick. Why: pushing a
// whole clip at once can exceed the stream's audio queue (EB_ERR_QUEUE_FULL refuses the whole call),
// and the sidecar runs no faster than its model anyway. Each Feed pushes at most `max_frames`
// sample frames; a refused push is kept and retried on the next Feed.
class AudioFeeder {
 public:
  AudioFeeder() = default;
  AudioFeeder(const int16_t* samples, size_t frame_count, uint32_t channels)
      : samples_(samples, samples + frame_count * channels), channels_(channels ? channels : 1) {}

  size_t FramesLeft() const { return samples_.size() / channels_ - cursor_; }
  bool Done() const { return FramesLeft() == 0; }
  size_t FramesPushed() const { return cursor_; }

  // Returns EB_OK when something was pushed or nothing was left, EB_ERR_QUEUE_FULL when the stream
  // refused (try again next tick), or another eb_result error (then give up on this clip).
  int32_t Feed(eb_stream* stream, size_t max_frames) {
    size_t n = FramesLeft() < max_frames ? FramesLeft() : max_frames;
    if (n == 0) return EB_OK;
    int32_t rc = eb_stream_push_s16(stream, samples_.data() + cursor_ * channels_, n);
    if (rc == EB_OK) cursor_ += n;
    return rc;
  }

 private:
  std::vector<int16_t> samples_;
  uint32_t channels_ = 1;
  size_t cursor_ = 0;
};

// Sample frames of the clip's audio to push by `elapsed_seconds` after the clip started: real time
// plus `lead_seconds` ahead (so the model's lookahead is covered and frames arrive before they are
// due), minus what was pushed already. Real-time pacing matters because the sound UE plays and the
// face must stay together; pushing a whole clip at once would only fill the stream's queues.
inline size_t FramesDue(double elapsed_seconds, double lead_seconds, uint32_t sample_rate, size_t pushed_frames) {
  double target = (elapsed_seconds + lead_seconds) * double(sample_rate);
  if (!(target > 0.0)) return 0;
  size_t want = static_cast<size_t>(target);
  return want > pushed_frames ? want - pushed_frames : 0;
}

// Frames of a clip stream, handed out by playback time: Sample(t) gives the latest frame whose
// time_seconds <= t and drops the older ones. Frames that arrive early wait for their time; a late
// frame is used as soon as it comes (the face never runs ahead of the sound).
class FrameTimeline {
 public:
  void Add(const eb_frame* frames, size_t count) { queue_.insert(queue_.end(), frames, frames + count); }
  bool Sample(double t, eb_frame* out) {
    bool found = false;
    while (!queue_.empty() && queue_.front().time_seconds <= t) {
      *out = queue_.front();
      queue_.pop_front();
      found = true;
    }
    return found;
  }
  size_t Pending() const { return queue_.size(); }
  void Clear() { queue_.clear(); }

 private:
  std::deque<eb_frame> queue_;
};

// A Speak() clip baked whole through the native core's eb_clip_* calls (ABI 5), played by the time since it started:
// each tick Advance gives the frame due, and an emotion change becomes a key at that time, so it lands where it
// is heard (a stream lands it up to its audio lead later). The native clip bakes again at each change, one bake
// at a time, and keeps the newest bake's frames; this only adds the clip's end and its first bake's failure.
class ClipPlayer {
 public:
  enum Step { kWaiting, kFrame, kFinished, kFailed };

  ClipPlayer() = default;
  ClipPlayer(const ClipPlayer&) = delete;
  ClipPlayer& operator=(const ClipPlayer&) = delete;
  ~ClipPlayer() { Close(); }

  // Opens the clip (the samples are copied) and starts its first bake; an eb_result.
  int32_t Open(eb_client* client, const eb_bake_config& config, const int16_t* samples, size_t frame_count) {
    Close();
    duration_ = config.sample_rate ? double(frame_count) / config.sample_rate : 0.0;
    return eb_clip_open_s16(client, &config, samples, frame_count, &clip_);
  }
  bool IsOpen() const { return clip_ != nullptr; }

  // The frame for `elapsed` seconds into the clip (kFrame, in *out); kWaiting until the first bake is back (also
  // while it is retried for want of a sidecar), kFinished once the clip's audio is over, kFailed when the first
  // bake was refused or none came back before the audio ended (Error() says why).
  Step Advance(double elapsed, eb_frame* out) {
    if (!clip_) return kFailed;
    eb_clip_status status{};
    status.struct_size = sizeof status;
    if (eb_clip_get_status(clip_, &status) != EB_OK) return kFailed;
    if (elapsed >= duration_) return status.version ? kFinished : kFailed;  // over; failed if no bake ever came
    if (eb_clip_sample(clip_, elapsed, out) == EB_OK) return kFrame;
    // Still coming: the first bake is in flight, or retried while the sidecar is down or restarting.
    return status.last_result == EB_OK || status.baking ? kWaiting : kFailed;
  }

  // From `elapsed` seconds into the clip the face blends to this emotion (transition < 0 = the sidecar's default).
  int32_t SetEmotion(const char* const* names, const float* values, uint32_t count, float transition_seconds,
                     double elapsed) {
    if (!clip_) return EB_ERR_STATE;
    return eb_clip_set_emotion_at(clip_, names, values, count, transition_seconds, std::max(0.0, elapsed));
  }

  // As SetEmotion, to a valence/arousal point the sidecar maps.
  int32_t SetValenceArousal(float valence, float arousal, float transition_seconds, double elapsed) {
    if (!clip_) return EB_ERR_STATE;
    return eb_clip_set_valence_arousal(clip_, valence, arousal, transition_seconds, std::max(0.0, elapsed));
  }

  // Why the latest bake failed ("" if it did not).
  std::string Error() const {
    char text[512] = "";
    if (clip_) eb_clip_get_error(clip_, text, sizeof text, nullptr);
    return text;
  }

  void Close() {
    if (clip_) eb_clip_close(clip_);  // cancels a bake in flight
    clip_ = nullptr;
  }

 private:
  eb_clip* clip_ = nullptr;
  double duration_ = 0.0;
};

}  // namespace emobridge_ue
