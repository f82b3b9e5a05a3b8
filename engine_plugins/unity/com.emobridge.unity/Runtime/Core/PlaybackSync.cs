// Keeping a face in sync with audio playback. Frames are chosen by the audio clock, never counted
// as they arrive, so network or frame-rate hiccups cannot accumulate into drift:
//   PlaybackClock - a smooth playback time that follows the engine's coarse audio position (which
//                   jumps in DSP-buffer steps) with continuous drift correction, and detects seeks;
//   FrameTimeline - frames by time on the stream's audio timeline; Sample(t) interpolates;
//   ClipFeeder    - how much of a clip to push ahead of the playhead;
//   WeightSmoother - frame-rate independent exponential smoothing of what is shown.
using System;

namespace EmoBridge
{
    /// <summary>A smooth playback time locked to an audio position reported in coarse steps.</summary>
    public sealed class PlaybackClock
    {
        /// <summary>Reported-vs-predicted error above which the clock jumps (a seek, a loop, a stall).</summary>
        public double SeekThresholdSeconds = 0.25;

        /// <summary>Time constant of the drift correction: the error halves about every 0.7 of it.</summary>
        public double CorrectionSeconds = 0.1;

        /// <summary>Playback time to show, in seconds of the clip.</summary>
        public double Time { get; private set; }

        /// <summary>Advances by <paramref name="dt"/> seconds of game time towards the engine's
        /// <paramref name="reportedSeconds"/> audio position. Returns true when playback jumped (a seek,
        /// a loop, the first call): frames made for the old position no longer apply.</summary>
        public bool Advance(double reportedSeconds, double dt, bool playing)
        {
            if (!started)
            {
                started = true;
                Time = reportedSeconds;
                return true;
            }
            if (!playing)
            {
                bool moved = Math.Abs(reportedSeconds - Time) > SeekThresholdSeconds;
                Time = reportedSeconds;  // paused: hold exactly where the audio is
                return moved;
            }
            double predicted = Time + dt;
            double error = reportedSeconds - predicted;
            if (Math.Abs(error) > SeekThresholdSeconds)
            {
                Time = reportedSeconds;
                return true;
            }
            // Pull towards the audio clock a little every frame: bounded error, no drift, no visible snap,
            // and never backwards while playing.
            double pull = error * (1.0 - Math.Exp(-dt / CorrectionSeconds));
            Time = Math.Max(Time, predicted + pull);
            return false;
        }

        /// <summary>Forgets the position (the next Advance starts fresh).</summary>
        public void Reset() { started = false; Time = 0; }

        bool started;
    }

    /// <summary>How <see cref="FrameTimeline.Sample"/> found its frame.</summary>
    public enum SampleResult
    {
        /// <summary>No frames yet.</summary>
        Empty,
        /// <summary>Interpolated between the two frames around the time.</summary>
        Exact,
        /// <summary>The time is past the newest frame (the sidecar has not caught up): the newest is held.</summary>
        Held,
        /// <summary>The time is before the oldest frame kept: the oldest is shown.</summary>
        Early,
    }

    /// <summary>Frames ordered by time on a stream's audio timeline, in a fixed ring (no allocation while
    /// running). <see cref="Origin"/> is the playback position of the stream's time 0.</summary>
    public sealed class FrameTimeline
    {
        readonly FaceFrame[] ring;
        int first, count;

        /// <summary>Playback seconds at which the stream's first pushed sample plays.</summary>
        public double Origin { get; private set; }

        /// <summary>Frames held.</summary>
        public int Count { get { return count; } }

        /// <summary>Creates a timeline holding up to <paramref name="capacity"/> frames (oldest dropped).</summary>
        public FrameTimeline(int capacity = 512)
        {
            ring = new FaceFrame[capacity];
            for (int i = 0; i < capacity; i++) ring[i] = new FaceFrame();
        }

        /// <summary>Empties the timeline for a new stream whose time 0 plays at <paramref name="origin"/>.</summary>
        public void Reset(double origin)
        {
            Origin = origin;
            first = count = 0;
        }

        /// <summary>The frame at position <paramref name="i"/> (0 = oldest).</summary>
        public FaceFrame this[int i] { get { return ring[(first + i) % ring.Length]; } }

        /// <summary>Appends a copy of <paramref name="frame"/>; frames must come in time order (older or
        /// equal times than the newest are ignored).</summary>
        public void Add(FaceFrame frame)
        {
            if (count > 0 && frame.Time <= this[count - 1].Time) return;
            if (count == ring.Length) { first = (first + 1) % ring.Length; count--; }
            ring[(first + count) % ring.Length].CopyFrom(frame);
            count++;
        }

        /// <summary>Drops frames that ended more than <paramref name="keepSeconds"/> before
        /// <paramref name="playbackSeconds"/> (always keeps one).</summary>
        public void Trim(double playbackSeconds, double keepSeconds = 0.5)
        {
            double t = playbackSeconds - Origin - keepSeconds;
            while (count > 2 && this[1].Time < t) { first = (first + 1) % ring.Length; count--; }
        }

        /// <summary>Writes the face at <paramref name="playbackSeconds"/> into <paramref name="output"/>
        /// (weights, head and eyes interpolated linearly between the neighbouring frames).</summary>
        public SampleResult Sample(double playbackSeconds, FaceFrame output)
        {
            if (count == 0) return SampleResult.Empty;
            double t = playbackSeconds - Origin;
            if (t <= this[0].Time)
            {
                output.CopyFrom(this[0]);
                return t < this[0].Time ? SampleResult.Early : SampleResult.Exact;
            }
            if (t >= this[count - 1].Time)
            {
                output.CopyFrom(this[count - 1]);
                return t > this[count - 1].Time ? SampleResult.Held : SampleResult.Exact;
            }
            int lo = 0, hi = count - 1;  // this[lo].Time < t < this[hi].Time
            while (hi - lo > 1)
            {
                int mid = (lo + hi) / 2;
                if (this[mid].Time <= t) lo = mid; else hi = mid;
            }
            FaceFrame a = this[lo], b = this[hi];
            float w = (float)((t - a.Time) / (b.Time - a.Time));
            output.CopyFrom(a);
            output.Time = t;
            for (int i = 0; i < a.WeightCount; i++) output.Weights[i] = a.Weights[i] + (b.Weights[i] - a.Weights[i]) * w;
            for (int i = 0; i < a.Emotion.Length; i++) output.Emotion[i] = a.Emotion[i] + (b.Emotion[i] - a.Emotion[i]) * w;
            output.Head = Lerp(a.Head, b.Head, w);
            output.LeftEye = Lerp(a.LeftEye, b.LeftEye, w);
            output.RightEye = Lerp(a.RightEye, b.RightEye, w);
            return SampleResult.Exact;
        }

        static FaceRotation Lerp(FaceRotation a, FaceRotation b, float w)
        {
            return new FaceRotation
            {
                Yaw = a.Yaw + (b.Yaw - a.Yaw) * w,
                Pitch = a.Pitch + (b.Pitch - a.Pitch) * w,
                Roll = a.Roll + (b.Roll - a.Roll) * w,
            };
        }
    }

    /// <summary>Which part of an audio clip to push next: everything from the feed position up to the
    /// playhead plus a lookahead, so frames are ready before their audio plays.</summary>
    public sealed class ClipFeeder
    {
        /// <summary>Sample frames in the clip.</summary>
        public int Length { get; private set; }
        /// <summary>Sample rate of the clip.</summary>
        public int SampleRate { get; private set; }
        /// <summary>Next sample frame to push.</summary>
        public int Position { get; private set; }

        /// <summary>A feeder for a clip of <paramref name="length"/> sample frames.</summary>
        public ClipFeeder(int length, int sampleRate)
        {
            Length = length;
            SampleRate = sampleRate;
        }

        /// <summary>True once the whole clip has been pushed.</summary>
        public bool Done { get { return Position >= Length; } }

        /// <summary>Starts feeding at sample frame <paramref name="frame"/> (a new stream after a seek).</summary>
        public void Restart(int frame) { Position = Math.Max(0, Math.Min(Length, frame)); }

        /// <summary>Sample frames to push now (at most <paramref name="maxFrames"/>), given the playhead.</summary>
        public int Due(double playbackSeconds, double lookaheadSeconds, int maxFrames)
        {
            long until = (long)Math.Ceiling((playbackSeconds + lookaheadSeconds) * SampleRate);
            long due = Math.Min(until, Length) - Position;
            return (int)Math.Max(0, Math.Min(due, maxFrames));
        }

        /// <summary>Records that <paramref name="frames"/> were accepted by the stream.</summary>
        public void Pushed(int frames) { Position = Math.Min(Length, Position + frames); }
    }

    /// <summary>Frame-rate independent exponential smoothing of weights (0 s = none).</summary>
    public static class WeightSmoother
    {
        /// <summary>Moves state[0..count) towards target by 1 - exp(-dt / timeConstant).</summary>
        public static void Smooth(float[] state, float[] target, int count, float dt, float timeConstantSeconds)
        {
            float a = timeConstantSeconds <= 0f ? 1f : 1f - (float)Math.Exp(-dt / timeConstantSeconds);
            for (int i = 0; i < count; i++) state[i] += (target[i] - state[i]) * a;
        }
    }
}
