// P/Invoke declarations of engine_plugins/native/include/emobridge.h (EB_ABI_VERSION 5).
// The structs mirror the C layout field by field (checked at run time by the tests: the library's
// eb_stream_config_init and eb_bake_config_init write sizeof of their structs into struct_size). Handles are opaque ids
// in the C ABI, so closing a stale one is harmless; SafeHandles make sure each is closed once.
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

[assembly: InternalsVisibleTo("EmoBridge.Core.Tests")]

namespace EmoBridge
{
    internal static unsafe class NativeMethods
    {
        // Unity resolves "emobridge" to Plugins/x86_64/libemobridge.so, emobridge.dll or emobridge.bundle;
        // mono finds libemobridge.so on LD_LIBRARY_PATH.
        const string Lib = "emobridge";

        // 2: eb_stream_set_emotion_at and eb_stream_set_valence_arousal; 3: bakes; 4: emotion keys in a bake, GetInfo;
        // 5: clips (a bake baked again at every emotion change). A library with a higher ABI also serves these.
        public const uint AbiVersion = 5;
        public const int MaxWeights = 64;
        public const int NumEmotions = 7;

        public const int Ok = 0, NoFrame = 1;
        public const int ErrInvalidArgument = -1, ErrInvalidHandle = -2, ErrClosed = -3, ErrUnavailable = -4,
                         ErrQueueFull = -5, ErrState = -6, ErrInternal = -7;

        [StructLayout(LayoutKind.Sequential)]
        public struct Rotation
        {
            public float Yaw, Pitch, Roll;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct Frame
        {
            public ulong Index;
            public double TimeSeconds;
            public uint WeightCount;
            public uint Connection;
            public fixed float Weights[MaxWeights];
            public Rotation Head, LeftEye, RightEye;
            public fixed float Emotion[NumEmotions];
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct StreamConfig
        {
            public uint StructSize, SampleRate, Channels, FrameQueueCapacity;
            public double Fps;
            public ulong Seed;
            public float MouthPreservation, StyleEnergy, StyleSmoothness;
            public uint AudioQueueMs;
            public int Reconnect;
            public uint ReconnectInitialMs, ReconnectMaxMs;
            public IntPtr RigProfile;      // const char*
            public IntPtr EmotionNames;    // const char* const*
            public IntPtr EmotionValues;   // const float*
            public uint EmotionCount;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct StreamStats
        {
            public uint StructSize;
            public int State;
            public uint Reconnects, FramesQueued;
            public ulong FramesReceived, FramesDropped, AudioFramesAccepted, AudioFramesRejected;
            public double Fps;
            public fixed byte StreamId[40];
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct EmotionKey
        {
            public double TimeSeconds;
            public float TransitionSeconds;
            public IntPtr Names;           // const char* const*
            public IntPtr Values;          // const float*
            public uint Count;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct BakeConfig
        {
            public uint StructSize, SampleRate, Channels;
            public double Fps;
            public ulong Seed;
            public float MouthPreservation, StyleEnergy, StyleSmoothness;
            public IntPtr RigProfile;      // const char*
            public IntPtr Transcript;      // const char*
            public int RecognizeWords;
            public uint TimeoutMs;
            public IntPtr EmotionNames;    // const char* const*
            public IntPtr EmotionValues;   // const float*
            public uint EmotionCount;
            public IntPtr EmotionKeys;     // const eb_emotion_key*
            public uint EmotionKeyCount;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct BakeInfo
        {
            public uint StructSize;
            public double DurationSeconds;
            public fixed byte Route[16];
            public IntPtr MetaJson;               // ABI 5
            public UIntPtr MetaJsonCapacity, MetaJsonLength;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct ClipStatus
        {
            public uint StructSize;
            public uint Changes, ChangesBaked, BakesStarted;
            public ulong Version;
            public int Baking, LastResult;
            public uint FrameCount;
            public double DurationSeconds;
            public fixed byte Route[16];
        }

        [DllImport(Lib)] public static extern IntPtr eb_version();
        [DllImport(Lib)] public static extern uint eb_abi_version();
        [DllImport(Lib)] public static extern IntPtr eb_last_error();
        [DllImport(Lib)] public static extern IntPtr eb_result_name(int result);
        [DllImport(Lib)] public static extern IntPtr eb_state_name(int state);

        [DllImport(Lib)] public static extern int eb_client_connect(byte[] addressUtf8, uint connectTimeoutMs, out IntPtr client);
        [DllImport(Lib)] public static extern int eb_client_close(IntPtr client);
        [DllImport(Lib)] public static extern int eb_client_get_info(ClientHandle client, uint timeoutMs, byte[] buffer, UIntPtr capacity, out UIntPtr length);

        [DllImport(Lib)] public static extern void eb_stream_config_init(ref StreamConfig config);
        [DllImport(Lib)] public static extern int eb_stream_open(ClientHandle client, ref StreamConfig config, out IntPtr stream);
        [DllImport(Lib)] public static extern int eb_stream_push_s16(StreamHandle stream, short* samples, UIntPtr frameCount);
        [DllImport(Lib)] public static extern int eb_stream_push_f32(StreamHandle stream, float* samples, UIntPtr frameCount);
        [DllImport(Lib)] public static extern int eb_stream_set_emotion(StreamHandle stream, IntPtr* names, float* values, uint count, float transitionSeconds);
        [DllImport(Lib)] public static extern int eb_stream_set_emotion_at(StreamHandle stream, IntPtr* names, float* values, uint count, float transitionSeconds, double timeSeconds);
        [DllImport(Lib)] public static extern int eb_stream_set_valence_arousal(StreamHandle stream, float valence, float arousal, float transitionSeconds, double timeSeconds);
        [DllImport(Lib)] public static extern int eb_stream_end_audio(StreamHandle stream);
        [DllImport(Lib)] public static extern int eb_stream_poll_latest(StreamHandle stream, out Frame frame);
        [DllImport(Lib)] public static extern int eb_stream_drain(StreamHandle stream, Frame* frames, UIntPtr capacity, out UIntPtr count);
        [DllImport(Lib)] public static extern int eb_stream_wait(StreamHandle stream, uint timeoutMs);
        [DllImport(Lib)] public static extern int eb_stream_get_state(StreamHandle stream, out int state);
        [DllImport(Lib)] public static extern int eb_stream_get_stats(StreamHandle stream, ref StreamStats stats);
        [DllImport(Lib)] public static extern int eb_stream_get_error(StreamHandle stream, byte[] buffer, UIntPtr capacity, out UIntPtr length);
        [DllImport(Lib)] public static extern int eb_stream_close(IntPtr stream);

        [DllImport(Lib)] public static extern void eb_bake_config_init(ref BakeConfig config);
        [DllImport(Lib)] public static extern UIntPtr eb_bake_max_frames(UIntPtr frameCount, uint sampleRate, double fps);
        [DllImport(Lib)] public static extern int eb_bake_s16(ClientHandle client, ref BakeConfig config, short* samples, UIntPtr frameCount,
                                                              Frame* frames, UIntPtr capacity, out UIntPtr count, ref BakeInfo info);
        [DllImport(Lib)] public static extern int eb_bake_f32(ClientHandle client, ref BakeConfig config, float* samples, UIntPtr frameCount,
                                                              Frame* frames, UIntPtr capacity, out UIntPtr count, ref BakeInfo info);

        [DllImport(Lib)] public static extern int eb_clip_open_s16(ClientHandle client, ref BakeConfig config, short* samples, UIntPtr frameCount, out IntPtr clip);
        [DllImport(Lib)] public static extern int eb_clip_open_f32(ClientHandle client, ref BakeConfig config, float* samples, UIntPtr frameCount, out IntPtr clip);
        [DllImport(Lib)] public static extern int eb_clip_set_emotion_at(ClipHandle clip, IntPtr* names, float* values, uint count, float transitionSeconds, double timeSeconds);
        [DllImport(Lib)] public static extern int eb_clip_set_valence_arousal(ClipHandle clip, float valence, float arousal, float transitionSeconds, double timeSeconds);
        [DllImport(Lib)] public static extern int eb_clip_sample(ClipHandle clip, double timeSeconds, out Frame frame);
        [DllImport(Lib)] public static extern int eb_clip_frames(ClipHandle clip, Frame* frames, UIntPtr capacity, out UIntPtr count, out ulong version);
        [DllImport(Lib)] public static extern int eb_clip_wait(ClipHandle clip, uint changes, uint timeoutMs);
        [DllImport(Lib)] public static extern int eb_clip_get_status(ClipHandle clip, ref ClipStatus status);
        [DllImport(Lib)] public static extern int eb_clip_get_error(ClipHandle clip, byte[] buffer, UIntPtr capacity, out UIntPtr length);
        [DllImport(Lib)] public static extern int eb_clip_close(IntPtr clip);

        /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/> for a const char* parameter.</summary>
        public static byte[] Utf8(string s)
        {
            return Encoding.UTF8.GetBytes((s ?? "") + "\0");
        }

        /// <summary>The C string at <paramref name="p"/> (UTF-8), "" for NULL.</summary>
        public static string String(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>The NUL-terminated UTF-8 text a native call wrote into <paramref name="buffer"/>.</summary>
        public static string String(byte[] buffer)
        {
            int n = Array.IndexOf(buffer, (byte)0);
            return Encoding.UTF8.GetString(buffer, 0, n < 0 ? buffer.Length : n);
        }

        /// <summary>The NUL-terminated text in a fixed char[] field of a native struct (e.g. a route).</summary>
        public static string String(byte* field, int capacity)
        {
            int n = 0;
            while (n < capacity && field[n] != 0) n++;
            return new string((sbyte*)field, 0, n);
        }

        /// <summary>Throws EmoBridgeException for a negative result, with eb_last_error() (read on this
        /// thread right after the failing call, as the ABI asks).</summary>
        public static int Check(int result, string what)
        {
            if (result < 0)
                throw new EmoBridgeException(result, what + ": " + String(eb_result_name(result)) + ": " + String(eb_last_error()));
            return result;
        }
    }

    /// <summary>An eb_client*; released with eb_client_close.</summary>
    internal sealed class ClientHandle : SafeHandle
    {
        public ClientHandle(IntPtr handle) : base(IntPtr.Zero, true) { SetHandle(handle); }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { NativeMethods.eb_client_close(handle); return true; }
    }

    /// <summary>An eb_stream*; released with eb_stream_close (EB_ERR_CLOSED after its client closed is fine).</summary>
    internal sealed class StreamHandle : SafeHandle
    {
        public StreamHandle(IntPtr handle) : base(IntPtr.Zero, true) { SetHandle(handle); }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { NativeMethods.eb_stream_close(handle); return true; }
    }

    /// <summary>An eb_clip*; released with eb_clip_close (EB_ERR_CLOSED after its client closed is fine).</summary>
    internal sealed class ClipHandle : SafeHandle
    {
        public ClipHandle(IntPtr handle) : base(IntPtr.Zero, true) { SetHandle(handle); }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { NativeMethods.eb_clip_close(handle); return true; }
    }

    /// <summary>A failed native call: <see cref="Code"/> is the eb_result (EB_ERR_*), the message says
    /// what to fix.</summary>
    public sealed class EmoBridgeException : Exception
    {
        /// <summary>The negative eb_result code.</summary>
        public int Code { get; private set; }

        /// <summary>Creates the exception.</summary>
        public EmoBridgeException(int code, string message) : base(message) { Code = code; }
    }
}
