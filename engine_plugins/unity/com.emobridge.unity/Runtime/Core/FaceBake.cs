// Bakes: a whole clip in one Bake call through the native core (C ABI 3, emotion keys ABI 4). Every frame
// comes back at once, so a line can be baked when it is loaded and played in sync with its audio:
// with its transcript (the most exact lip sync), with recognised words, or by the model alone, and with
// emotion changes placed on the clip's timeline exactly (a stream can only apply what it has not made yet).
using System;
using System.Collections.Generic;
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

        internal BakeSettings WithKeys(IList<BakeEmotionKey> keys)
        {
            var copy = (BakeSettings)MemberwiseClone();
            copy.EmotionKeys = keys;
            return copy;
        }
    }

    /// <summary>A clip baked whole and baked again whenever its emotion changes. Each change becomes an emotion key
    /// at the clip time it was made, so it lands where it is heard: a stream can only change frames it has not
    /// made yet, which is up to its send-ahead later. Frames before a change are the same in every bake (the model
    /// looks 80 ms ahead at most), so swapping to the newer bake mid-playback shows no seam. One bake is in flight
    /// at a time: changes made meanwhile are all taken by the next one, so a script that blends every frame costs
    /// a bake per round trip, not per frame. A bake costs the sidecar about 1/500 of the clip's length.</summary>
    public sealed class KeyedBake
    {
        readonly EmoBridgeClient client;
        readonly float[] samples;
        readonly int sampleRate, channels;
        readonly BakeSettings settings;
        readonly List<BakeEmotionKey> keys = new List<BakeEmotionKey>();
        readonly object gate = new object();
        bool baking;                          // a bake is in flight
        TaskCompletionSource<bool> queued;    // the bake that starts when it is back: changes made meanwhile
        BakeResult latest;
        Exception error;

        /// <summary>Bakes <paramref name="samples"/> (interleaved, -1..1) through <paramref name="client"/>;
        /// <paramref name="settings"/> holds everything but the keys. Nothing is sent before <see cref="Start"/>.</summary>
        public KeyedBake(EmoBridgeClient client, float[] samples, int sampleRate, int channels, BakeSettings settings)
        {
            this.client = client;
            this.samples = samples;
            this.sampleRate = sampleRate;
            this.channels = channels;
            this.settings = settings;
        }

        /// <summary>The newest finished bake (null until the first one is back). Read it every frame.</summary>
        public BakeResult Latest { get { lock (gate) return latest; } }

        /// <summary>Why the newest bake failed (null when it did not).</summary>
        public Exception Error { get { lock (gate) return error; } }

        /// <summary>Bakes started so far.</summary>
        public int Bakes { get; private set; }

        /// <summary>Starts the first bake; the task completes when it is back.</summary>
        public Task Start() { lock (gate) return Request(); }

        /// <summary>Adds <paramref name="change"/> as a key at <paramref name="clipSeconds"/> and bakes again; the
        /// task completes when a bake with this key is back.</summary>
        public Task Change(EmotionChange change, double clipSeconds)
        {
            lock (gate)
            {
                keys.Add(new BakeEmotionKey
                {
                    TimeSeconds = Math.Max(0.0, clipSeconds), TransitionSeconds = change.TransitionSeconds, Emotion = change.Target,
                });
                return Request();
            }
        }

        Task Request()  // under gate
        {
            if (baking) return (queued ?? (queued = new TaskCompletionSource<bool>())).Task;
            baking = true;
            var done = new TaskCompletionSource<bool>();
            Launch(settings.WithKeys(keys.ToArray()), done);
            return done.Task;
        }

        void Launch(BakeSettings these, TaskCompletionSource<bool> done)  // under gate
        {
            Bakes++;
            Task.Run(() => client.Bake(samples, sampleRate, channels, these)).ContinueWith(back =>
            {
                TaskCompletionSource<bool> next;
                lock (gate)
                {
                    error = back.IsFaulted ? back.Exception.GetBaseException() : null;
                    if (!back.IsFaulted) latest = back.Result;
                    next = queued;
                    queued = null;
                    if (next != null) Launch(settings.WithKeys(keys.ToArray()), next);
                    else baking = false;
                }
                done.SetResult(true);
            });
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
            var config = new NativeMethods.BakeConfig();
            NativeMethods.eb_bake_config_init(ref config);
            config.SampleRate = (uint)sampleRate;
            config.Channels = (uint)channels;
            config.Fps = s.Fps;
            config.Seed = (ulong)s.Seed;
            config.MouthPreservation = s.MouthPreservation;
            config.RecognizeWords = s.RecognizeWords ? 1 : 0;
            config.TimeoutMs = (uint)Math.Max(0, s.TimeoutMs);
            int keyCount = s.EmotionKeys == null ? 0 : s.EmotionKeys.Count;
            var keys = new NativeMethods.EmotionKey[Math.Max(1, keyCount)];
            var keyArgs = new List<EmotionArgs>();
            byte[] rig = s.RigProfile == null ? null : NativeMethods.Utf8(s.RigProfile);
            byte[] transcript = s.Transcript == null ? null : NativeMethods.Utf8(s.Transcript);
            var raw = new NativeMethods.Frame[(int)NativeMethods.eb_bake_max_frames((UIntPtr)frameCount, (uint)sampleRate, s.Fps)];
            var info = new NativeMethods.BakeInfo { StructSize = (uint)sizeof(NativeMethods.BakeInfo) };
            UIntPtr count;
            int rc;
            try
            {
                for (int i = 0; i < keyCount; i++)
                {
                    BakeEmotionKey key = s.EmotionKeys[i];
                    var args = new EmotionArgs(key.Emotion, s.Tables);
                    keyArgs.Add(args);
                    keys[i] = new NativeMethods.EmotionKey
                    {
                        TimeSeconds = key.TimeSeconds, TransitionSeconds = key.TransitionSeconds,
                        Names = args.Names, Values = args.Values, Count = args.Count,
                    };
                }
                using (var initial = new EmotionArgs(s.Emotion, s.Tables))
                fixed (byte* rigName = rig)
                fixed (byte* text = transcript)
                fixed (NativeMethods.EmotionKey* keyArray = keys)
                fixed (NativeMethods.Frame* output = raw)
                {
                    config.RigProfile = (IntPtr)rigName;
                    config.Transcript = (IntPtr)text;
                    config.EmotionNames = initial.Names;
                    config.EmotionValues = initial.Values;
                    config.EmotionCount = initial.Count;
                    config.EmotionKeys = (IntPtr)keyArray;
                    config.EmotionKeyCount = (uint)keyCount;
                    rc = f32 ? NativeMethods.eb_bake_f32(handle, ref config, (float*)samples, (UIntPtr)frameCount, output, (UIntPtr)raw.Length, out count, ref info)
                             : NativeMethods.eb_bake_s16(handle, ref config, (short*)samples, (UIntPtr)frameCount, output, (UIntPtr)raw.Length, out count, ref info);
                }
            }
            finally
            {
                foreach (EmotionArgs args in keyArgs) args.Dispose();
            }
            NativeMethods.Check(rc, "bake");
            var result = new BakeResult { Frames = new FaceFrame[(int)count], DurationSeconds = info.DurationSeconds };
            for (int i = 0; i < result.Frames.Length; i++)
            {
                result.Frames[i] = new FaceFrame();
                result.Frames[i].CopyFrom(ref raw[i]);
            }
            int n = 0;
            while (n < 16 && info.Route[n] != 0) n++;
            result.Route = new string((sbyte*)info.Route, 0, n);
            return result;
        }
    }
}
