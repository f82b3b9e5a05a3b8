// Managed wrappers over the C ABI: a client per sidecar address and its face streams. No threads
// of their own: the native core runs one thread per stream, these calls only queue and copy.
using System;
using System.Runtime.InteropServices;

namespace EmoBridge
{
    /// <summary>Stream states (EB_STATE_*).</summary>
    public enum StreamState
    {
        /// <summary>Opening the first connection.</summary>
        Connecting = 0,
        /// <summary>The sidecar accepted the stream.</summary>
        Streaming = 1,
        /// <summary>The connection was lost; retrying with backoff.</summary>
        Reconnecting = 2,
        /// <summary>Every frame has arrived after EndAudio.</summary>
        Ended = 3,
        /// <summary>The sidecar refused the stream (see FaceStream.Error).</summary>
        Failed = 4,
        /// <summary>Closed by the caller.</summary>
        Closed = 5,
    }

    /// <summary>A rotation in radians, applied as Ry(yaw) Rx(pitch) Rz(roll).</summary>
    public struct FaceRotation
    {
        /// <summary>Radians.</summary>
        public float Yaw, Pitch, Roll;
    }

    /// <summary>One animation frame, reusable (copy into it instead of allocating per frame).</summary>
    public sealed class FaceFrame
    {
        /// <summary>Frame number from 0 at 1/fps on the stream's audio timeline.</summary>
        public long Index;
        /// <summary>Index / fps: seconds since the first audio sample pushed.</summary>
        public double Time;
        /// <summary>Which connection made it (0 first, +1 per reconnect).</summary>
        public int Connection;
        /// <summary>Valid entries in <see cref="Weights"/> (52 for ARKit).</summary>
        public int WeightCount;
        /// <summary>Blendshape weights in 0..1, canonical ARKit order.</summary>
        public readonly float[] Weights = new float[NativeMethods.MaxWeights];
        /// <summary>Head relative to the rest pose; eyes relative to the head.</summary>
        public FaceRotation Head, LeftEye, RightEye;
        /// <summary>Emotion in effect for this frame (FaceTables.Emotions order).</summary>
        public readonly float[] Emotion = new float[NativeMethods.NumEmotions];

        /// <summary>Copies every field of <paramref name="other"/> into this frame.</summary>
        public void CopyFrom(FaceFrame other)
        {
            Index = other.Index; Time = other.Time; Connection = other.Connection; WeightCount = other.WeightCount;
            Array.Copy(other.Weights, Weights, Weights.Length);
            Array.Copy(other.Emotion, Emotion, Emotion.Length);
            Head = other.Head; LeftEye = other.LeftEye; RightEye = other.RightEye;
        }

        internal unsafe void CopyFrom(ref NativeMethods.Frame f)
        {
            Index = (long)f.Index; Time = f.TimeSeconds; Connection = (int)f.Connection;
            WeightCount = (int)Math.Min(f.WeightCount, (uint)NativeMethods.MaxWeights);
            fixed (float* w = f.Weights) for (int i = 0; i < Weights.Length; i++) Weights[i] = w[i];
            fixed (float* e = f.Emotion) for (int i = 0; i < Emotion.Length; i++) Emotion[i] = e[i];
            Head = Rot(f.Head); LeftEye = Rot(f.LeftEye); RightEye = Rot(f.RightEye);
        }

        static FaceRotation Rot(NativeMethods.Rotation r) { return new FaceRotation { Yaw = r.Yaw, Pitch = r.Pitch, Roll = r.Roll }; }
    }

    /// <summary>How to open a stream (defaults are the native core's).</summary>
    public sealed class StreamSettings
    {
        /// <summary>Hz of the audio you push (any rate 8000..192000; others than the sidecar's are resampled).</summary>
        public int SampleRate = 16000;
        /// <summary>Interleaved channels of the audio you push (the sidecar mixes to mono).</summary>
        public int Channels = 1;
        /// <summary>Frame rate, up to 240.</summary>
        public double Fps = 60;
        /// <summary>Seed of blinks, gaze and head motion.</summary>
        public long Seed;
        /// <summary>0..1; negative = the sidecar's default.</summary>
        public float MouthPreservation = -1f;
        /// <summary>Frames kept until drained.</summary>
        public int FrameQueueCapacity = 256;
        /// <summary>Audio buffered towards the sidecar before Push refuses more.</summary>
        public int AudioQueueMs = 10000;
        /// <summary>Reconnect automatically when the sidecar goes away.</summary>
        public bool Reconnect = true;
        /// <summary>null = ARKit-52 frames (map them with a RigMapper); else a sidecar rig profile name
        /// (GetInfo lists them), which makes the sidecar send that rig's values instead.</summary>
        public string RigProfile;
        /// <summary>Initial emotion (null = neutral); names come from <see cref="Tables"/>.</summary>
        public EmotionVector Emotion;
        /// <summary>Tables naming the emotion basis (needed with <see cref="Emotion"/>).</summary>
        public FaceTables Tables;
    }

    /// <summary>A connection to one sidecar address. Dispose closes it and every stream it opened. Bakes: FaceBake.cs.</summary>
    public sealed partial class EmoBridgeClient : IDisposable
    {
        readonly ClientHandle handle;

        /// <summary>The "host:port" this client talks to.</summary>
        public string Address { get; private set; }

        /// <summary>Creates a client. With <paramref name="connectTimeoutMs"/> &gt; 0 waits for the sidecar
        /// and throws EmoBridgeException (EB_ERR_UNAVAILABLE) when it does not answer; 0 connects lazily
        /// (streams then retry until the sidecar is up).</summary>
        public EmoBridgeClient(string address, int connectTimeoutMs = 0)
        {
            CheckAbi();
            IntPtr raw;
            NativeMethods.Check(NativeMethods.eb_client_connect(NativeMethods.Utf8(address), (uint)Math.Max(0, connectTimeoutMs), out raw),
                                "connect to " + address);
            handle = new ClientHandle(raw);
            Address = address;
        }

        /// <summary>Version string of the native library.</summary>
        public static string NativeVersion { get { return NativeMethods.String(NativeMethods.eb_version()); } }

        /// <summary>Throws when the loaded library is older than these bindings (the ABI only grows, so a
        /// newer library has every function they call).</summary>
        public static void CheckAbi()
        {
            uint abi = NativeMethods.eb_abi_version();
            if (abi < NativeMethods.AbiVersion)
                throw new EmoBridgeException(NativeMethods.ErrInternal, "libemobridge has ABI " + abi + ", these bindings need " + NativeMethods.AbiVersion);
        }

        /// <summary>Opens a face stream (returns at once; it connects in the background).</summary>
        public unsafe FaceStream OpenStream(StreamSettings settings)
        {
            var config = new NativeMethods.StreamConfig();
            NativeMethods.eb_stream_config_init(ref config);
            config.SampleRate = (uint)settings.SampleRate;
            config.Channels = (uint)settings.Channels;
            config.Fps = settings.Fps;
            config.Seed = (ulong)settings.Seed;
            config.MouthPreservation = settings.MouthPreservation;
            config.FrameQueueCapacity = (uint)settings.FrameQueueCapacity;
            config.AudioQueueMs = (uint)settings.AudioQueueMs;
            config.Reconnect = settings.Reconnect ? 1 : 0;
            byte[] rig = settings.RigProfile == null ? null : NativeMethods.Utf8(settings.RigProfile);
            using (var names = new EmotionArgs(settings.Emotion, settings.Tables))
            fixed (byte* rigName = rig)
            {
                config.RigProfile = (IntPtr)rigName;
                config.EmotionNames = names.Names;
                config.EmotionValues = names.Values;
                config.EmotionCount = names.Count;
                IntPtr raw;
                NativeMethods.Check(NativeMethods.eb_stream_open(handle, ref config, out raw), "open stream");
                return new FaceStream(new StreamHandle(raw), settings);
            }
        }

        /// <summary>What the sidecar serves, as its GetInfo reply in JSON (parse it with Json.Parse): model name and
        /// version, device, emotion names and aliases, rig profiles, lookahead_ms and limits. Blocks up to
        /// <paramref name="timeoutMs"/>; throws EmoBridgeException (EB_ERR_UNAVAILABLE) when no sidecar answers.</summary>
        public string GetInfoJson(int timeoutMs = 5000)
        {
            UIntPtr length;
            NativeMethods.Check(NativeMethods.eb_client_get_info(handle, (uint)timeoutMs, null, UIntPtr.Zero, out length), "get info");
            var buffer = new byte[(int)length + 1];
            NativeMethods.Check(NativeMethods.eb_client_get_info(handle, (uint)timeoutMs, buffer, (UIntPtr)buffer.Length, out length), "get info");
            return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
        }

        /// <summary>Closes the client and its streams.</summary>
        public void Dispose() { handle.Dispose(); }
    }

    /// <summary>One Animate stream: push audio and emotion in, take frames out.</summary>
    public sealed class FaceStream : IDisposable
    {
        readonly StreamHandle handle;
        readonly FaceTables tables;
        NativeMethods.Frame[] drainBuffer = new NativeMethods.Frame[0];

        internal FaceStream(StreamHandle handle, StreamSettings settings)
        {
            this.handle = handle;
            tables = settings.Tables;
            SampleRate = settings.SampleRate;
            Channels = settings.Channels;
        }

        /// <summary>Hz of the pushed audio.</summary>
        public int SampleRate { get; private set; }
        /// <summary>Interleaved channels of the pushed audio.</summary>
        public int Channels { get; private set; }

        /// <summary>Queues <paramref name="frameCount"/> sample frames from samples[offset..] (interleaved,
        /// -1..1). Returns false when the outbound queue is full (nothing queued: retry later).</summary>
        public unsafe bool Push(float[] samples, int offset, int frameCount)
        {
            if (offset < 0 || frameCount < 0 || offset + frameCount * Channels > samples.Length)
                throw new ArgumentOutOfRangeException("frameCount");
            if (frameCount == 0) return true;
            fixed (float* p = &samples[offset])
                return Queued(NativeMethods.eb_stream_push_f32(handle, p, (UIntPtr)frameCount));
        }

        /// <summary>As <see cref="Push(float[], int, int)"/> for 16-bit samples.</summary>
        public unsafe bool Push(short[] samples, int offset, int frameCount)
        {
            if (offset < 0 || frameCount < 0 || offset + frameCount * Channels > samples.Length)
                throw new ArgumentOutOfRangeException("frameCount");
            if (frameCount == 0) return true;
            fixed (short* p = &samples[offset])
                return Queued(NativeMethods.eb_stream_push_s16(handle, p, (UIntPtr)frameCount));
        }

        static bool Queued(int result)
        {
            if (result == NativeMethods.ErrQueueFull) return false;
            NativeMethods.Check(result, "push audio");
            return true;
        }

        /// <summary>Sets the target emotion, blended over <paramref name="transitionSeconds"/> (negative = the
        /// sidecar's default). <paramref name="timeSeconds"/> is when the blend starts on the stream's audio
        /// timeline (seconds since the first sample pushed); NaN (the default), a negative time or a time
        /// the sidecar has already made frames for = from the next frame it makes.</summary>
        public void SetEmotion(EmotionVector emotion, float transitionSeconds, double timeSeconds = double.NaN)
        {
            using (var args = new EmotionArgs(emotion, tables))
                unsafe
                {
                    NativeMethods.Check(NativeMethods.eb_stream_set_emotion_at(handle, (IntPtr*)args.Names, (float*)args.Values, args.Count,
                                                                               transitionSeconds, timeSeconds), "set emotion");
                }
        }

        /// <summary>Sets the target emotion to a (valence, arousal) point in -1..1, which the sidecar maps onto
        /// the basis (its mapping is the reference; frames carry the result). Times as <see cref="SetEmotion"/>.</summary>
        public void SetValenceArousal(float valence, float arousal, float transitionSeconds, double timeSeconds = double.NaN)
        {
            NativeMethods.Check(NativeMethods.eb_stream_set_valence_arousal(handle, valence, arousal, transitionSeconds, timeSeconds),
                                "set valence/arousal");
        }

        /// <summary>Sends an <see cref="EmotionState.Changed"/> change: as the valence/arousal point it was set
        /// from when it was one, else as its target vector. Times as <see cref="SetEmotion"/>.</summary>
        public void Send(EmotionChange change, double timeSeconds = double.NaN)
        {
            if (change.HasValenceArousal) SetValenceArousal(change.Valence, change.Arousal, change.TransitionSeconds, timeSeconds);
            else SetEmotion(change.Target, change.TransitionSeconds, timeSeconds);
        }

        /// <summary>No more audio: the remaining frames arrive, then the state becomes Ended.</summary>
        public void EndAudio() { NativeMethods.Check(NativeMethods.eb_stream_end_audio(handle), "end audio"); }

        /// <summary>Copies the newest frame into <paramref name="frame"/> (older queued ones are
        /// discarded). False when nothing arrived since the last poll or drain.</summary>
        public bool PollLatest(FaceFrame frame)
        {
            NativeMethods.Frame raw;
            if (NativeMethods.Check(NativeMethods.eb_stream_poll_latest(handle, out raw), "poll") == NativeMethods.NoFrame) return false;
            frame.CopyFrom(ref raw);
            return true;
        }

        /// <summary>Moves queued frames, oldest first, into frames[0..n) and returns n.</summary>
        public unsafe int Drain(FaceFrame[] frames)
        {
            if (drainBuffer.Length < frames.Length) drainBuffer = new NativeMethods.Frame[frames.Length];
            UIntPtr count;
            fixed (NativeMethods.Frame* p = drainBuffer)
                NativeMethods.Check(NativeMethods.eb_stream_drain(handle, p, (UIntPtr)frames.Length, out count), "drain");
            int n = (int)count;
            for (int i = 0; i < n; i++) frames[i].CopyFrom(ref drainBuffer[i]);
            return n;
        }

        /// <summary>Blocks up to <paramref name="timeoutMs"/> for a frame or the end (tools and tests only).</summary>
        public bool Wait(int timeoutMs)
        {
            return NativeMethods.Check(NativeMethods.eb_stream_wait(handle, (uint)timeoutMs), "wait") == NativeMethods.Ok;
        }

        /// <summary>Current state; Closed once disposed.</summary>
        public StreamState State
        {
            get
            {
                int state;
                int rc = NativeMethods.eb_stream_get_state(handle, out state);
                if (rc == NativeMethods.ErrClosed || handle.IsClosed) return StreamState.Closed;
                NativeMethods.Check(rc, "state");
                return (StreamState)state;
            }
        }

        /// <summary>Reconnects so far, frames received/dropped and the confirmed fps.</summary>
        public void GetStats(out int reconnects, out long framesReceived, out long framesDropped, out double fps)
        {
            var stats = new NativeMethods.StreamStats();
            stats.StructSize = (uint)Marshal.SizeOf(typeof(NativeMethods.StreamStats));
            NativeMethods.Check(NativeMethods.eb_stream_get_stats(handle, ref stats), "stats");
            reconnects = (int)stats.Reconnects;
            framesReceived = (long)stats.FramesReceived;
            framesDropped = (long)stats.FramesDropped;
            fps = stats.Fps;
        }

        /// <summary>The stream's latest error ("" if none), e.g. why it is reconnecting or failed.</summary>
        public string Error
        {
            get
            {
                var buffer = new byte[1024];
                UIntPtr length;
                int rc = NativeMethods.eb_stream_get_error(handle, buffer, (UIntPtr)buffer.Length, out length);
                if (rc == NativeMethods.ErrClosed || handle.IsClosed) return "";
                NativeMethods.Check(rc, "error");
                return NativeMethods.String(buffer);
            }
        }

        /// <summary>Cancels the stream and frees it.</summary>
        public void Dispose() { handle.Dispose(); }
    }

    /// <summary>An emotion vector as the parallel native arrays eb_* take (basis names + values),
    /// pinned in unmanaged memory for the duration of one call.</summary>
    internal sealed class EmotionArgs : IDisposable
    {
        public IntPtr Names, Values;
        public uint Count;
        readonly IntPtr[] strings = new IntPtr[0];

        public EmotionArgs(EmotionVector emotion, FaceTables tables)
        {
            if (emotion == null) return;
            if (tables == null) throw new ArgumentException("an emotion needs the FaceTables that name its basis");
            if (emotion.Count != tables.Emotions.Count)
                throw new ArgumentException("emotion vector has " + emotion.Count + " values, the basis " + tables.Emotions.Count);
            Count = (uint)emotion.Count;
            strings = new IntPtr[emotion.Count];
            Names = Marshal.AllocHGlobal(IntPtr.Size * emotion.Count);
            Values = Marshal.AllocHGlobal(sizeof(float) * emotion.Count);
            for (int i = 0; i < emotion.Count; i++)
            {
                byte[] utf8 = NativeMethods.Utf8(tables.Emotions[i]);
                strings[i] = Marshal.AllocHGlobal(utf8.Length);
                Marshal.Copy(utf8, 0, strings[i], utf8.Length);
                Marshal.WriteIntPtr(Names, i * IntPtr.Size, strings[i]);
            }
            Marshal.Copy(emotion.ToArray(), 0, Values, emotion.Count);
        }

        public void Dispose()
        {
            foreach (IntPtr s in strings) Marshal.FreeHGlobal(s);
            if (Names != IntPtr.Zero) Marshal.FreeHGlobal(Names);
            if (Values != IntPtr.Zero) Marshal.FreeHGlobal(Values);
            Names = Values = IntPtr.Zero;
        }
    }
}

namespace EmoBridge
{
    /// <summary>Converting the sidecar's head/eye rotations into an engine's axes.</summary>
    public static class FaceRotations
    {
        /// <summary>Euler angles in degrees for Unity's left-handed frame (y up, +z forward out of the
        /// face, Quaternion.Euler order: z, x, y — the same Ry Rx Rz composition as the sidecar's).
        /// The sidecar is right-handed: +yaw turns to the face's own left, +pitch tips the chin down,
        /// +roll tilts the top of the head to the face's right; mirroring x flips yaw and roll.</summary>
        public static void ToUnityEuler(FaceRotation r, float scale, out float x, out float y, out float z)
        {
            const float Deg = (float)(180.0 / Math.PI);
            x = r.Pitch * Deg * scale;
            y = -r.Yaw * Deg * scale;
            z = -r.Roll * Deg * scale;
        }
    }
}
