// Bakes: a whole clip in one Bake call through the native core (C ABI 3, emotion keys ABI 4, clips ABI 5). Every frame
// comes back at once, so a line can be baked when it is loaded and played in sync with its audio:
// with its transcript (the most exact lip sync), with recognised words, or by the model alone, and with
// emotion changes placed on the clip's timeline exactly (a stream can only apply what it has not made yet).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace EmoBridge
{
    /// <summary>An emotion change during a baked clip: from <see cref="TimeSeconds"/> the face blends to
    /// <see cref="Emotion"/> over <see cref="TransitionSeconds"/> (0 = at once).</summary>
    public struct BakeEmotionKey
    {
        /// <summary>Seconds from the clip's start, &gt;= 0. Keys may come in any order.</summary>
        public double TimeSeconds;
        /// <summary>0..3600.</summary>
        public float TransitionSeconds;
        /// <summary>The target (null = neutral), named by <see cref="BakeSettings.Tables"/>.</summary>
        public EmotionVector Emotion;
    }

    /// <summary>How to bake a clip (defaults are the native core's).</summary>
    public sealed class BakeSettings
    {
        /// <summary>Frame rate, up to 240.</summary>
        public double Fps = 60;
        /// <summary>Seed of blinks, gaze and head motion.</summary>
        public long Seed;
        /// <summary>0..1; negative = the sidecar's default.</summary>
        public float MouthPreservation = -1f;
        /// <summary>null = ARKit-52 frames; else a sidecar rig profile name.</summary>
        public string RigProfile;
        /// <summary>What is said (at most 64 KiB of UTF-8); the lips then follow the words force-aligned to the
        /// audio. null = none.</summary>
        public string Transcript;
        /// <summary>Without a transcript: recognise the words first, so the lips seal on their p/b/m (slower).</summary>
        public bool RecognizeWords;
        /// <summary>Longest wait for the sidecar's reply.</summary>
        public int TimeoutMs = 600000;
        /// <summary>The emotion from the start (null = neutral).</summary>
        public EmotionVector Emotion;
        /// <summary>Emotion changes during the clip (null or empty = none; at most 4096).</summary>
        public IList<BakeEmotionKey> EmotionKeys;
        /// <summary>Tables naming the emotion basis (needed with an emotion or keys).</summary>
        public FaceTables Tables;
    }

    /// <summary>A clip baked whole and baked again whenever its emotion changes (the native core's eb_clip, ABI 5).
    /// Each change becomes an emotion key at the clip time it was made, so it lands where it is heard: a stream can
    /// only change frames it has not made yet, which is up to its send-ahead later. A change moves no frame earlier
    /// than its time less the model's 80 ms lookahead, so swapping to the newer bake mid-playback shows no seam.
    /// One bake is in flight at a time: changes made meanwhile are all taken by the next one, so a script that
    /// blends every frame costs a bake per round trip, not per frame. A bake costs the sidecar about 1/500 of the
    /// clip's length. Dispose closes the native clip (a bake in flight is cancelled).</summary>
    public sealed class KeyedBake : IDisposable
    {
        readonly EmoBridgeClient client;
        readonly float[] samples;
        readonly int sampleRate, channels;
        readonly BakeSettings settings;
        readonly object gate = new object();
        ClipHandle clip;        // opened by Start (or the first Change); null again after Dispose
        bool disposed;
        BakeResult latest;      // the frames of bake `latestVersion`, copied out once
        ulong latestVersion;
        // Start/Change tasks not done yet, by the number of changes a bake must hold to finish them. One pool thread
        // (Watch) waits for all of them, so a script changing the emotion every frame does not tie up a thread each.
        readonly List<KeyValuePair<uint, TaskCompletionSource<bool>>> waiting = new List<KeyValuePair<uint, TaskCompletionSource<bool>>>();
        bool watching;

        /// <summary>Bakes <paramref name="samples"/> (interleaved, -1..1) through <paramref name="client"/>;
        /// <paramref name="settings"/> holds everything but the changes. Nothing is sent before <see cref="Start"/>.</summary>
        public KeyedBake(EmoBridgeClient client, float[] samples, int sampleRate, int channels, BakeSettings settings)
        {
            this.client = client;
            this.samples = samples;
            this.sampleRate = sampleRate;
            this.channels = channels;
            this.settings = settings ?? new BakeSettings();
        }

        /// <summary>The newest finished bake (null until the first one is back). Read it every frame: it is copied
        /// out of the native core once per bake.</summary>
        public BakeResult Latest
        {
            get
            {
                lock (gate)
                {
                    if (clip == null) return latest;  // not started, or disposed: the last bake copied out
                    NativeMethods.ClipStatus status = Status();
                    if (status.Version != latestVersion) latest = client.ClipFrames(clip, status, out latestVersion);
                    return latest;
                }
            }
        }

        /// <summary>Why the newest bake failed, once no other is coming (null when it did not, or while a bake is
        /// still due: one that found no sidecar is retried as a stream reconnects); the frames of the last good one
        /// stay in <see cref="Latest"/>.</summary>
        public Exception Error
        {
            get
            {
                lock (gate)
                {
                    if (clip == null) return null;
                    NativeMethods.ClipStatus status = Status();
                    int result = status.LastResult;
                    if (result == NativeMethods.Ok || status.Baking != 0) return null;
                    var buffer = new byte[1024];
                    UIntPtr length;
                    NativeMethods.eb_clip_get_error(clip, buffer, (UIntPtr)buffer.Length, out length);
                    return new EmoBridgeException(result, "bake: " + NativeMethods.String(buffer));
                }
            }
        }

        /// <summary>Bakes started so far.</summary>
        public int Bakes { get { lock (gate) return clip == null ? 0 : (int)Status().BakesStarted; } }

        /// <summary>Starts the first bake; the task completes when it is back (or failed: see <see cref="Error"/>).</summary>
        public Task Start()
        {
            lock (gate)
            {
                Open();
                return WaitFor(0);
            }
        }

        /// <summary>Adds <paramref name="change"/> as a key at <paramref name="clipSeconds"/> and bakes again; the
        /// task completes when a bake with this key is back.</summary>
        public unsafe Task Change(EmotionChange change, double clipSeconds)
        {
            lock (gate)
            {
                ClipHandle handle = Open();
                double at = Math.Max(0.0, clipSeconds);
                if (change.HasValenceArousal)  // the point, mapped by the sidecar as for streams
                    NativeMethods.Check(NativeMethods.eb_clip_set_valence_arousal(handle, change.Valence, change.Arousal, change.TransitionSeconds, at),
                                        "valence/arousal change");
                else
                    using (var args = new EmotionArgs(change.Target, settings.Tables))
                        NativeMethods.Check(NativeMethods.eb_clip_set_emotion_at(handle, (IntPtr*)args.Names, (float*)args.Values, args.Count,
                                                                                 change.TransitionSeconds, at), "emotion change");
                return WaitFor(Status().Changes);
            }
        }

        /// <summary>Closes the native clip; <see cref="Latest"/> keeps the last bake read.</summary>
        public void Dispose()
        {
            lock (gate)
            {
                if (clip != null) clip.Dispose();
                clip = null;
                disposed = true;
                Release(uint.MaxValue);
            }
        }

        ClipHandle Open()  // under gate
        {
            if (disposed) throw new ObjectDisposedException("KeyedBake");
            return clip ?? (clip = client.OpenClip(samples, sampleRate, channels, settings));
        }

        NativeMethods.ClipStatus Status()  // under gate
        {
            var status = new NativeMethods.ClipStatus { StructSize = (uint)Marshal.SizeOf(typeof(NativeMethods.ClipStatus)) };
            NativeMethods.Check(NativeMethods.eb_clip_get_status(clip, ref status), "clip status");
            return status;
        }

        Task WaitFor(uint changes)  // under gate
        {
            // Continuations run elsewhere, not inside Release under this lock.
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting.Add(new KeyValuePair<uint, TaskCompletionSource<bool>>(changes, done));
            if (!watching)
            {
                watching = true;
                Task.Run((Action)Watch);
            }
            return done.Task;
        }

        // Waits for the bake the fewest-changes task needs, finishes every task it satisfies, and goes on until none
        // is left. A failed bake (nothing more coming) or Dispose finishes them all: the outcome is in Latest / Error.
        void Watch()
        {
            for (;;)
            {
                ClipHandle handle;
                uint fewest = uint.MaxValue;
                lock (gate)
                {
                    if (clip == null || waiting.Count == 0)
                    {
                        watching = false;
                        return;
                    }
                    handle = clip;
                    foreach (var entry in waiting) fewest = Math.Min(fewest, entry.Key);
                }
                NativeMethods.eb_clip_wait(handle, fewest, 200);  // bounded, so Dispose is noticed
                lock (gate)
                {
                    if (clip == null) continue;
                    NativeMethods.ClipStatus status;
                    try { status = Status(); }
                    catch (EmoBridgeException)  // its client was closed: nothing more is coming
                    {
                        Release(uint.MaxValue);
                        continue;
                    }
                    bool idleAfterFailure = status.LastResult != NativeMethods.Ok && status.Baking == 0;
                    if (idleAfterFailure) Release(uint.MaxValue);
                    else if (status.Version > 0) Release(status.ChangesBaked);
                }
            }
        }

        void Release(uint changesBaked)  // under gate: finishes the tasks a bake with this many changes satisfies
        {
            for (int i = waiting.Count - 1; i >= 0; i--)
            {
                if (waiting[i].Key > changesBaked) continue;
                waiting[i].Value.TrySetResult(true);
                waiting.RemoveAt(i);
            }
        }
    }

    /// <summary>A baked clip: every frame, and how it was made.</summary>
    public sealed class BakeResult
    {
        /// <summary>Frames from index 0 at 1/fps.</summary>
        public FaceFrame[] Frames { get; internal set; }
        /// <summary>What animated the face: "transcript", "model", "phones" or "silence".</summary>
        public string Route { get; internal set; }
        /// <summary>Length of the audio.</summary>
        public double DurationSeconds { get; internal set; }
        /// <summary>How it was made, as a JSON object (parse it with Json.Parse): e.g. "recognized" (the words heard,
        /// with RecognizeWords), "unknown_words" (transcript words the dictionary lacks), "seed". "" for a KeyedBake.</summary>
        public string MetaJson { get; internal set; }

        /// <summary>The frames as a timeline from 0 s, to sample at the audio's playback time (BakedFacePlayer).</summary>
        public FrameTimeline ToTimeline()
        {
            var timeline = new FrameTimeline(Math.Max(1, Frames.Length));
            timeline.Reset(0);
            foreach (FaceFrame frame in Frames) timeline.Add(frame);
            return timeline;
        }
    }

    public sealed partial class EmoBridgeClient
    {
        /// <summary>Bakes interleaved float samples (-1..1) at <paramref name="sampleRate"/> Hz (8000..192000,
        /// 1..8 channels: the sidecar resamples and mixes). Blocks until the sidecar replies (it runs at several
        /// hundred times real time): call it from a worker thread, not every frame. Throws EmoBridgeException
        /// naming the problem (a bad setting, something the sidecar refuses, or no sidecar).</summary>
        public unsafe BakeResult Bake(float[] samples, int sampleRate, int channels, BakeSettings settings = null)
        {
            int frames = SampleFrames(samples == null ? -1 : samples.Length, channels);
            fixed (float* p = samples) return Bake((IntPtr)p, true, frames, sampleRate, channels, settings ?? new BakeSettings());
        }

        /// <summary>As <see cref="Bake(float[], int, int, BakeSettings)"/> for 16-bit samples.</summary>
        public unsafe BakeResult Bake(short[] samples, int sampleRate, int channels, BakeSettings settings = null)
        {
            int frames = SampleFrames(samples == null ? -1 : samples.Length, channels);
            fixed (short* p = samples) return Bake((IntPtr)p, false, frames, sampleRate, channels, settings ?? new BakeSettings());
        }

        static int SampleFrames(int length, int channels)
        {
            if (length < 0) throw new ArgumentNullException("samples");
            if (channels < 1 || length % channels != 0)
                throw new ArgumentException(length + " samples are not whole frames of " + channels + " channels");
            return length / channels;
        }

        unsafe BakeResult Bake(IntPtr samples, bool f32, int frameCount, int sampleRate, int channels, BakeSettings s)
        {
            var raw = new NativeMethods.Frame[(int)NativeMethods.eb_bake_max_frames((UIntPtr)frameCount, (uint)sampleRate, s.Fps)];
            var meta = new byte[65536];
            var info = new NativeMethods.BakeInfo
            {
                StructSize = (uint)sizeof(NativeMethods.BakeInfo), MetaJsonCapacity = (UIntPtr)meta.Length,
            };
            UIntPtr count;
            using (var native = new NativeBakeConfig(sampleRate, channels, s))
            fixed (NativeMethods.Frame* output = raw)
            fixed (byte* metaJson = meta)
            {
                info.MetaJson = (IntPtr)metaJson;
                NativeMethods.Check(f32
                    ? NativeMethods.eb_bake_f32(handle, ref native.Config, (float*)samples, (UIntPtr)frameCount, output, (UIntPtr)raw.Length, out count, ref info)
                    : NativeMethods.eb_bake_s16(handle, ref native.Config, (short*)samples, (UIntPtr)frameCount, output, (UIntPtr)raw.Length, out count, ref info), "bake");
            }
            BakeResult result = ResultOf(raw, (int)count, NativeMethods.String(info.Route, 16), info.DurationSeconds);
            result.MetaJson = NativeMethods.String(meta);
            return result;
        }

        /// <summary>Opens a native clip of interleaved float samples (KeyedBake); its first bake starts at once.</summary>
        internal unsafe ClipHandle OpenClip(float[] samples, int sampleRate, int channels, BakeSettings s)
        {
            int frameCount = SampleFrames(samples == null ? -1 : samples.Length, channels);
            IntPtr raw;
            using (var native = new NativeBakeConfig(sampleRate, channels, s))
            fixed (float* input = samples)
                NativeMethods.Check(NativeMethods.eb_clip_open_f32(handle, ref native.Config, input, (UIntPtr)frameCount, out raw), "open clip");
            return new ClipHandle(raw);
        }

        /// <summary>A clip's newest bake (its status read just before), copied out; <paramref name="version"/> is the
        /// bake's number.</summary>
        internal unsafe BakeResult ClipFrames(ClipHandle clip, NativeMethods.ClipStatus status, out ulong version)
        {
            var raw = new NativeMethods.Frame[Math.Max(1, (int)status.FrameCount)];
            UIntPtr count;
            fixed (NativeMethods.Frame* output = raw)
                NativeMethods.Check(NativeMethods.eb_clip_frames(clip, output, (UIntPtr)raw.Length, out count, out version), "clip frames");
            return ResultOf(raw, (int)count, NativeMethods.String(status.Route, 16), status.DurationSeconds);
        }

        static BakeResult ResultOf(NativeMethods.Frame[] raw, int count, string route, double durationSeconds)
        {
            var result = new BakeResult { Frames = new FaceFrame[count], Route = route, DurationSeconds = durationSeconds };
            for (int i = 0; i < count; i++)
            {
                result.Frames[i] = new FaceFrame();
                result.Frames[i].CopyFrom(ref raw[i]);
            }
            return result;
        }
    }

    /// <summary>An eb_bake_config filled from BakeSettings, with the strings and arrays it points to in unmanaged memory
    /// until Dispose (the native core copies what it keeps, so one call's lifetime is enough).</summary>
    internal sealed unsafe class NativeBakeConfig : IDisposable
    {
        public NativeMethods.BakeConfig Config;
        readonly List<EmotionArgs> emotions = new List<EmotionArgs>();
        readonly List<IntPtr> blocks = new List<IntPtr>();

        public NativeBakeConfig(int sampleRate, int channels, BakeSettings s)
        {
            NativeMethods.eb_bake_config_init(ref Config);
            Config.SampleRate = (uint)sampleRate;
            Config.Channels = (uint)channels;
            Config.Fps = s.Fps;
            Config.Seed = (ulong)s.Seed;
            Config.MouthPreservation = s.MouthPreservation;
            Config.RecognizeWords = s.RecognizeWords ? 1 : 0;
            Config.TimeoutMs = (uint)Math.Max(0, s.TimeoutMs);
            try
            {
                Config.RigProfile = s.RigProfile == null ? IntPtr.Zero : Copy(NativeMethods.Utf8(s.RigProfile));
                Config.Transcript = s.Transcript == null ? IntPtr.Zero : Copy(NativeMethods.Utf8(s.Transcript));
                EmotionArgs initial = Emotion(s.Emotion, s.Tables);
                Config.EmotionNames = initial.Names;
                Config.EmotionValues = initial.Values;
                Config.EmotionCount = initial.Count;
                int keyCount = s.EmotionKeys == null ? 0 : s.EmotionKeys.Count;
                if (keyCount == 0) return;
                IntPtr keys = Block(sizeof(NativeMethods.EmotionKey) * keyCount);
                for (int i = 0; i < keyCount; i++)
                {
                    BakeEmotionKey key = s.EmotionKeys[i];
                    EmotionArgs args = Emotion(key.Emotion, s.Tables);
                    ((NativeMethods.EmotionKey*)keys)[i] = new NativeMethods.EmotionKey
                    {
                        TimeSeconds = key.TimeSeconds, TransitionSeconds = key.TransitionSeconds,
                        Names = args.Names, Values = args.Values, Count = args.Count,
                    };
                }
                Config.EmotionKeys = keys;
                Config.EmotionKeyCount = (uint)keyCount;
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (EmotionArgs args in emotions) args.Dispose();
            foreach (IntPtr block in blocks) Marshal.FreeHGlobal(block);
            emotions.Clear();
            blocks.Clear();
        }

        EmotionArgs Emotion(EmotionVector emotion, FaceTables tables)
        {
            var args = new EmotionArgs(emotion, tables);
            emotions.Add(args);
            return args;
        }

        IntPtr Block(int bytes)
        {
            IntPtr block = Marshal.AllocHGlobal(Math.Max(1, bytes));
            blocks.Add(block);
            return block;
        }

        IntPtr Copy(byte[] bytes)
        {
            IntPtr block = Block(bytes.Length);
            Marshal.Copy(bytes, 0, block, bytes.Length);
            return block;
        }
    }
}
