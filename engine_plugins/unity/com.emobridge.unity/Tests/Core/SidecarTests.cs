// The core through the real native library (libemobridge) against a real sidecar started by
// Tests/run_mono_tests.sh (EMOBRIDGE_SIDECAR = host:port).
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using NUnit.Framework;

namespace EmoBridge.Tests
{
    [TestFixture]
    public class SidecarTests
    {
        static short[] hello;

        static short[] Hello()
        {
            if (hello != null) return hello;
            // examples/hello.wav: 16 kHz mono PCM16, 4 s; a plain 44-byte header.
            byte[] wav = File.ReadAllBytes(TestData.Env("EMOBRIDGE_HELLO_WAV"));
            Assert.AreEqual(16000, BitConverter.ToInt32(wav, 24));
            hello = new short[(wav.Length - 44) / 2];
            Buffer.BlockCopy(wav, 44, hello, 0, hello.Length * 2);
            return hello;
        }

        static EmoBridgeClient Connect() { return new EmoBridgeClient(TestData.Env("EMOBRIDGE_SIDECAR"), 10000); }

        /// <summary>Streams hello.wav in 20 ms blocks (calling <paramref name="atSecond"/> with the pushed
        /// seconds and the frames so far once per second), ends the audio and collects every frame.</summary>
        static List<FaceFrame> StreamHello(FaceStream stream, Action<int, List<FaceFrame>, Action> atSecond = null)
        {
            short[] pcm = Hello();
            var frames = new List<FaceFrame>();
            var buffer = new FaceFrame[64];
            for (int i = 0; i < buffer.Length; i++) buffer[i] = new FaceFrame();
            Action drain = () =>
            {
                int n;
                while ((n = stream.Drain(buffer)) > 0)
                    for (int i = 0; i < n; i++) { var f = new FaceFrame(); f.CopyFrom(buffer[i]); frames.Add(f); }
            };
            for (int at = 0; at < pcm.Length;)
            {
                if (at % 16000 == 0 && atSecond != null) atSecond(at / 16000, frames, drain);
                int n = Math.Min(320, pcm.Length - at);
                if (stream.Push(pcm, at, n)) at += n;
                else stream.Wait(20);
                drain();
            }
            stream.EndAudio();
            DateTime give_up = DateTime.UtcNow.AddSeconds(60);
            while (stream.State != StreamState.Ended)
            {
                Assert.AreNotEqual(StreamState.Failed, stream.State, stream.Error);
                Assert.Less(DateTime.UtcNow, give_up, "the stream did not end");
                stream.Wait(100);
                drain();
            }
            drain();
            return frames;
        }

        static float Mean(List<FaceFrame> frames, double from, double to, params int[] channels)
        {
            double sum = 0;
            int n = 0;
            foreach (FaceFrame f in frames)
                if (f.Time >= from && f.Time < to)
                    foreach (int c in channels) { sum += f.Weights[c]; n++; }
            return (float)(sum / n);
        }

        [Test]
        public void AbiAndStructLayoutsMatchTheLibrary()
        {
            EmoBridgeClient.CheckAbi();
            Assert.IsNotEmpty(EmoBridgeClient.NativeVersion);
            var config = new NativeMethods.StreamConfig();
            NativeMethods.eb_stream_config_init(ref config);
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeMethods.StreamConfig)), (int)config.StructSize, "eb_stream_config size");
            Assert.AreEqual(16000u, config.SampleRate);
            Assert.AreEqual(60.0, config.Fps);
            Assert.AreEqual(-1f, config.MouthPreservation);
            Assert.AreEqual(1, config.Reconnect);
            Assert.AreEqual(2000u, config.ReconnectMaxMs, "the last scalar field before the pointers lines up");
            Assert.AreEqual(344, Marshal.SizeOf(typeof(NativeMethods.Frame)), "eb_frame: 8+8+4+4+64*4+3*12+7*4");
            Assert.AreEqual(96, Marshal.SizeOf(typeof(NativeMethods.StreamStats)));
            var bake = new NativeMethods.BakeConfig();
            NativeMethods.eb_bake_config_init(ref bake);
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeMethods.BakeConfig)), (int)bake.StructSize, "eb_bake_config size");
            Assert.AreEqual(600000u, bake.TimeoutMs, "the last scalar field before the emotion pointers lines up");
            Assert.AreEqual(-1f, bake.MouthPreservation);
            Assert.AreEqual(40, Marshal.SizeOf(typeof(NativeMethods.EmotionKey)), "eb_emotion_key: 8+4(+4)+8+8+4(+4)");
            Assert.AreEqual(56, Marshal.SizeOf(typeof(NativeMethods.BakeInfo)), "eb_bake_info: 4(+4)+8+16, ABI 5: +8+8+8");
            Assert.AreEqual(64, Marshal.SizeOf(typeof(NativeMethods.ClipStatus)), "eb_clip_status: 4x4+8+4+4+4(+4)+8+16");
        }

        static EmotionVector Vector(string name, float intensity)
        {
            var values = new float[TestData.Tables.Emotions.Count];
            values[TestData.Tables.Emotions.IndexOf(name)] = intensity;
            return new EmotionVector(values);
        }

        [Test]
        public void BakeFollowsEmotionKeysOnTheClipsTimeline()
        {
            // happy 0.6 from the start, angry 0.8 from 1 s over 0.3 s, neutral at once from 2 s (given out of
            // order): exact on the clip's timeline, which a stream cannot promise for frames it has already made.
            FaceTables t = TestData.Tables;
            int happy = t.Emotions.IndexOf("happy"), angry = t.Emotions.IndexOf("angry"), jaw = t.IndexOfBlendshape("jawOpen");
            var keys = new[]
            {
                new BakeEmotionKey { TimeSeconds = 2.0 },
                new BakeEmotionKey { TimeSeconds = 1.0, TransitionSeconds = 0.3f, Emotion = Vector("angry", 0.8f) },
            };
            string transcript = File.ReadAllText(Path.ChangeExtension(TestData.Env("EMOBRIDGE_HELLO_WAV"), ".txt"));
            BakeResult keyed, plain, aligned;
            using (EmoBridgeClient client = Connect())
            {
                keyed = client.Bake(Hello(), 16000, 1, new BakeSettings { Seed = 7, Tables = t, Emotion = Vector("happy", 0.6f), EmotionKeys = keys });
                plain = client.Bake(Hello(), 16000, 1, new BakeSettings { Seed = 7, Tables = t, Emotion = Vector("happy", 0.6f) });
                aligned = client.Bake(Hello(), 16000, 1, new BakeSettings { Seed = 7, Transcript = transcript + " zorblax" });
            }
            Assert.AreEqual(240, keyed.Frames.Length, "4 s at 60 fps");
            Assert.AreEqual("model", keyed.Route);
            Assert.AreEqual("transcript", aligned.Route);
            var meta = (JsonObject)Json.Parse(aligned.MetaJson);
            CollectionAssert.AreEqual(new List<object> { "zorblax" }, (List<object>)meta.Get("unknown_words"), "the bake's metadata (ABI 5)");
            Assert.AreEqual(7.0, (double)((JsonObject)Json.Parse(keyed.MetaJson)).Get("seed"));
            Assert.AreEqual(4.0, keyed.DurationSeconds, 1e-3);
            Console.WriteLine("bake keys: happy/angry at 0.83 s {0:0.00}/{1:0.00}, 1.83 s {2:0.00}/{3:0.00}, 2.5 s {4:0.00}/{5:0.00}",
                keyed.Frames[50].Emotion[happy], keyed.Frames[50].Emotion[angry], keyed.Frames[110].Emotion[happy],
                keyed.Frames[110].Emotion[angry], keyed.Frames[150].Emotion[happy], keyed.Frames[150].Emotion[angry]);
            Assert.AreEqual(0.6f, keyed.Frames[50].Emotion[happy], 0.01f);
            Assert.AreEqual(0.8f, keyed.Frames[110].Emotion[angry], 0.05f);
            Assert.Less(keyed.Frames[110].Emotion[happy], 0.05f);
            Assert.AreEqual(0f, keyed.Frames[150].Emotion[angry], 0.01f);
            for (int f = 0; f < 55; f++)
                for (int w = 0; w < 52; w++) Assert.AreEqual(plain.Frames[f].Weights[w], keyed.Frames[f].Weights[w], "before the first key");
            // The timeline a BakedFacePlayer samples gives the frames back at their times.
            var sampled = new FaceFrame();
            keyed.ToTimeline().Sample(1.0, sampled);
            Assert.AreEqual(keyed.Frames[60].Weights[jaw], sampled.Weights[jaw], 1e-6);
        }

        [Test]
        public void KeyedBakeLandsEachChangeWhereItWasMade()
        {
            // Gameplay sets happy at 1.0 s of the clip and then sad at 2.5 s, each while the clip plays: every change
            // is baked in as a key at its time, and each newer bake keeps the frames before its change.
            FaceTables t = TestData.Tables;
            int happy = t.Emotions.IndexOf("happy"), sad = t.Emotions.IndexOf("sad");
            var emotion = new EmotionState(t);
            using (EmoBridgeClient client = Connect())
            {
                float[] audio = Array.ConvertAll(Hello(), x => x / 32768f);
                var track = new KeyedBake(client, audio, 16000, 1, new BakeSettings { Seed = 7, Tables = t, Emotion = emotion.Target });
                Assert.IsNull(track.Latest);
                track.Start().Wait();
                BakeResult neutral = track.Latest;
                double playhead = 1.0;
                var pending = new List<Task>();
                emotion.Changed += (sender, change) => pending.Add(track.Change(change, playhead));
                emotion.Set("happy", 1f, 0.3f);
                playhead = 2.5;
                emotion.Set("sad", 1f, 0f);
                Task.WaitAll(pending.ToArray());
                BakeResult both = track.Latest;
                Assert.IsNull(track.Error);
                Assert.AreEqual(240, both.Frames.Length);
                Assert.AreEqual(0f, both.Frames[60].Emotion[happy], "neutral up to 1.0 s");
                Assert.Greater(both.Frames[61].Emotion[happy], 0f, "the blend starts at 1.0 s");
                Assert.AreEqual(1f, both.Frames[149].Emotion[happy], 1e-3, "happy until 2.5 s");
                Assert.AreEqual(1f, both.Frames[151].Emotion[sad], 1e-3, "sad at once from 2.5 s");
                for (int f = 0; f < 55; f++)
                    for (int w = 0; w < 52; w++) Assert.AreEqual(neutral.Frames[f].Weights[w], both.Frames[f].Weights[w], "no seam before 1 s");

                // A script blending every frame: 30 changes in a row cost a bake per round trip, and the last one wins.
                int before = track.Bakes;
                pending.Clear();
                for (int i = 1; i <= 30; i++)
                {
                    playhead = 3.0 + i / 60.0;
                    emotion.Set("happy", i / 30f, 0f);
                }
                Task.WaitAll(pending.ToArray());
                Console.WriteLine("30 changes in a row: {0} bakes", track.Bakes - before);
                Assert.LessOrEqual(track.Bakes - before, 2, "one in flight, then one for all the rest");
                Assert.AreEqual(1f, track.Latest.Frames[239].Emotion[happy], 1e-3, "the last change is in");
                Assert.AreEqual("model", track.Latest.Route, "eb_clip_status lines up");
                Assert.AreEqual(4.0, track.Latest.DurationSeconds, 1e-3);

                // A valence/arousal target goes to the clip as the point; the sidecar's mapping equals the C# one.
                pending.Clear();
                playhead = 3.6;
                emotion.SetValenceArousal(-0.8f, 0.6f, 0f);
                Task.WaitAll(pending.ToArray());
                for (int e = 0; e < t.Emotions.Count; e++)
                    Assert.AreEqual(emotion.Target[e], track.Latest.Frames[239].Emotion[e], 1e-4, "valence/arousal mapped by the sidecar");
                Assert.AreEqual(1f, track.Latest.Frames[215].Emotion[happy], 1e-3, "before 3.6 s still the last change");

                // A change at a negative clip time is taken at 0 s; Dispose keeps the last bake read and refuses changes.
                track.Change(new EmotionChange(null, 0f), -1.0).Wait();
                Assert.IsNull(track.Error);
                Assert.AreEqual(0f, track.Latest.Frames[0].Emotion[happy], "neutral from 0 s");
                // 200 changes at once all finish (one watcher thread waits for them), and Dispose finishes any left.
                var many = new List<Task>();
                for (int i = 0; i < 200; i++) many.Add(track.Change(new EmotionChange(null, 0f), 3.9 + i * 1e-4));
                Assert.IsTrue(Task.WaitAll(many.ToArray(), 30000), "every change's task finishes");
                Task leftOver = track.Change(new EmotionChange(null, 0f), 3.95);
                track.Dispose();
                Assert.IsTrue(leftOver.Wait(5000), "Dispose finishes the tasks still waiting");
                Assert.IsNotNull(track.Latest);
                Assert.Throws<ObjectDisposedException>(() => track.Change(new EmotionChange(null, 0f), 1.0));
            }
        }

        [Test]
        public void KeyedBakeTasksFinishWhenTheirClientCloses()
        {
            // A connection reset closes the client under its clips: their tasks finish instead of hanging, and further
            // changes say the clip was closed.
            EmoBridgeClient client = Connect();
            float[] audio = Array.ConvertAll(Hello(), x => x / 32768f);
            var track = new KeyedBake(client, audio, 16000, 1, new BakeSettings { Seed = 7, Tables = TestData.Tables });
            Task first = track.Start();
            client.Dispose();
            Assert.IsTrue(first.Wait(5000), "the task finishes");
            var closed = Assert.Throws<EmoBridgeException>(() => track.Change(new EmotionChange(null, 0f), 1.0));
            Assert.AreEqual(NativeMethods.ErrClosed, closed.Code);
        }

        [Test]
        public void KeyedBakeRetriesWhileNoSidecarAnswers()
        {
            // A sidecar that is down (or restarting) is not an error yet: the bake is retried as a stream reconnects.
            using (var client = new EmoBridgeClient("127.0.0.1:1"))  // nothing listens there; the client connects lazily
            {
                var track = new KeyedBake(client, new float[16000], 16000, 1, new BakeSettings { Tables = TestData.Tables, TimeoutMs = 2000 });
                Task first = track.Start();
                System.Threading.Thread.Sleep(1000);
                Assert.IsNull(track.Error, "retried, not failed");
                Assert.GreaterOrEqual(track.Bakes, 2);
                Assert.IsFalse(first.IsCompleted);
                track.Dispose();
                Assert.IsTrue(first.Wait(5000), "Dispose finishes the task");
            }
        }

        [Test]
        public void GetInfoDescribesTheSidecar()
        {
            JsonObject info;
            using (EmoBridgeClient client = Connect()) info = (JsonObject)Json.Parse(client.GetInfoJson());
            var emotions = (List<object>)info.Get("emotion_names");
            CollectionAssert.AreEqual(TestData.Tables.Emotions, emotions.ConvertAll(e => (string)e), "the same basis as face_tables.json");
            CollectionAssert.Contains((List<object>)info.Get("rig_profiles"), "metahuman_arkit");
            Assert.AreEqual(80.0, (double)info.Get("lookahead_ms"));
            Assert.Greater((double)((JsonObject)info.Get("limits")).Get("max_bake_seconds"), 0.0);
            var gone = Assert.Throws<EmoBridgeException>(() => { using (var c = new EmoBridgeClient("127.0.0.1:1")) c.GetInfoJson(300); });
            Assert.AreEqual(-4, gone.Code, gone.Message);
        }

        [Test]
        public void BakeMisuseNamesTheProblem()
        {
            using (EmoBridgeClient client = Connect())
            {
                var bad = Assert.Throws<EmoBridgeException>(() => client.Bake(Hello(), 16000, 1, new BakeSettings
                {
                    Tables = TestData.Tables, EmotionKeys = new[] { new BakeEmotionKey { TimeSeconds = -1 } },
                }));
                Assert.AreEqual(-1, bad.Code, bad.Message);
                StringAssert.Contains("emotion_keys[0].time_seconds", bad.Message);
                Assert.Throws<ArgumentException>(() => client.Bake(new short[3], 16000, 2));
                Assert.Throws<ArgumentException>(() => client.Bake(Hello(), 16000, 1, new BakeSettings { Emotion = Vector("sad", 1f) }),
                                                 "an emotion without the tables naming it");
                Assert.Throws<ArgumentNullException>(() => client.Bake((float[])null, 16000, 1));
                var rate = Assert.Throws<EmoBridgeException>(() => client.Bake(Hello(), 7000, 1));
                StringAssert.Contains("sample_rate", rate.Message);
            }
        }

        [Test]
        public void HelloWavStreamsToFramesThroughTheNativeLibrary()
        {
            using (EmoBridgeClient client = Connect())
            using (FaceStream stream = client.OpenStream(new StreamSettings { FrameQueueCapacity = 1024, Seed = 3, Tables = TestData.Tables }))
            {
                List<FaceFrame> frames = StreamHello(stream);
                Assert.AreEqual(240, frames.Count, "4 s at 60 fps");
                for (int i = 0; i < frames.Count; i++)
                {
                    Assert.AreEqual(i, frames[i].Index);
                    Assert.AreEqual(i / 60.0, frames[i].Time, 1e-9);
                    Assert.AreEqual(52, frames[i].WeightCount);
                }
                int jaw = TestData.Tables.IndexOfBlendshape("jawOpen");
                float maxJaw = 0;
                foreach (FaceFrame f in frames) maxJaw = Math.Max(maxJaw, f.Weights[jaw]);
                Assert.Greater(maxJaw, 0.1f, "the mouth opens for speech");
                int reconnects; long received, dropped; double fps;
                stream.GetStats(out reconnects, out received, out dropped, out fps);
                Assert.AreEqual(240, received);
                Assert.AreEqual(0, dropped);
                Assert.AreEqual(60.0, fps);
                Assert.AreEqual("", stream.Error);
            }
        }

        [Test]
        public void EmotionStateChangesArriveInFrames()
        {
            // Two streams of the same audio and seed: one neutral, one where gameplay sets happy at 1 s of the
            // audio. The change is made before any audio is pushed and stamped with its audio time, so it
            // lands at frame 60 exactly, however far ahead of it it was sent.
            FaceTables t = TestData.Tables;
            int[] smile = { t.IndexOfBlendshape("mouthSmileLeft"), t.IndexOfBlendshape("mouthSmileRight") };
            List<FaceFrame> neutral, happy;
            using (EmoBridgeClient client = Connect())
            {
                using (FaceStream stream = client.OpenStream(new StreamSettings { FrameQueueCapacity = 1024, Tables = t }))
                    neutral = StreamHello(stream);
                var emotion = new EmotionState(t);
                using (FaceStream stream = client.OpenStream(new StreamSettings { FrameQueueCapacity = 1024, Tables = t, Emotion = emotion.Target }))
                {
                    emotion.Changed += (s, change) => stream.Send(change, 1.0);
                    happy = StreamHello(stream, (second, sofar, drain) =>
                    {
                        if (second == 0) emotion.Set("happy", 1f, 0.3f);
                    });
                }
            }
            Assert.AreEqual(neutral.Count, happy.Count);
            Assert.AreEqual(0f, happy[60].Emotion[0], "neutral up to the change's time (frame 60 = 1.0 s)");
            Assert.Greater(happy[61].Emotion[0], 0f, "the blend starts at 1.0 s");
            Assert.AreEqual(1f, happy[happy.Count - 1].Emotion[0], 1e-3, "happy in effect at the end");
            Assert.AreEqual(Mean(neutral, 0, 0.75, smile), Mean(happy, 0, 0.75, smile), 1e-4, "identical before the change");
            float gain = Mean(happy, 1.6, 4, smile) - Mean(neutral, 1.6, 4, smile);
            Console.WriteLine("mouthSmile L/R mean 1.6-4 s: neutral {0:0.000}, happy {1:0.000}", Mean(neutral, 1.6, 4, smile), Mean(happy, 1.6, 4, smile));
            Assert.Greater(gain, 0.2f, "happy raises mouthSmile");
            for (int i = 1; i < happy.Count; i++)
                Assert.Less(Math.Abs(happy[i].Emotion[0] - happy[i - 1].Emotion[0]), 0.1f, "the blend never pops");
        }

        [Test]
        public void ValenceArousalIsSentAsThePointAndMappedByTheSidecar()
        {
            // Negative valence: sent as the point (eb_stream_set_valence_arousal), mapped by the sidecar; the
            // frames from its time on equal Python's emotion_from_valence_arousal(-0.8, 0.6).
            FaceTables t = TestData.Tables;
            float[] expected = null;
            foreach (List<object> row in (List<object>)TestData.Expected.Get("valence_arousal"))
                if ((double)row[0] == -0.8 && (double)row[1] == 0.6) expected = TestData.Floats(row[2]);
            Assert.IsNotNull(expected, "make_expected.py lists (-0.8, 0.6)");
            var emotion = new EmotionState(t);
            List<FaceFrame> frames;
            using (EmoBridgeClient client = Connect())
            using (FaceStream stream = client.OpenStream(new StreamSettings { FrameQueueCapacity = 1024, Tables = t }))
            {
                emotion.Changed += (s, change) => stream.Send(change, 2.0);
                frames = StreamHello(stream, (second, sofar, drain) =>
                {
                    if (second == 0) emotion.SetValenceArousal(-0.8f, 0.6f, 0f);
                });
            }
            Assert.IsTrue(emotion.LastChange.HasValenceArousal);
            Assert.AreEqual(-0.8f, emotion.LastChange.Valence);
            Assert.AreEqual(240, frames.Count);
            for (int e = 0; e < expected.Length; e++)
            {
                Assert.AreEqual(0f, frames[119].Emotion[e], "neutral before 2.0 s");
                Assert.AreEqual(expected[e], emotion.Target[e], 1e-5, "the local mapping (display only) agrees");
                for (int f = 120; f < frames.Count; f++) Assert.AreEqual(expected[e], frames[f].Emotion[e], 1e-4, "frame " + f);
            }
            Console.WriteLine("valence -0.8 arousal 0.6 at 2.0 s -> frame 120 emotion [{0}]", string.Join(" ",
                Array.ConvertAll(frames[120].Emotion, x => x.ToString("0.0000"))));
        }

        [Test]
        public void RigMapperEqualsTheSidecarsOwnRigMapping()
        {
            // The same stream twice: ARKit frames mapped here by RigMapper, and ict_facekit frames mapped
            // by the sidecar (its rig_profile option). Both implement the same profile file.
            FaceTables t = TestData.Tables;
            RigMapper rig = RigMapper.Parse(TestData.Profile("ict_facekit"), t, "ict_facekit");
            List<FaceFrame> arkit, server;
            using (EmoBridgeClient client = Connect())
            {
                using (FaceStream s = client.OpenStream(new StreamSettings { FrameQueueCapacity = 1024, Seed = 5, Tables = t }))
                    arkit = StreamHello(s);
                using (FaceStream s = client.OpenStream(new StreamSettings { FrameQueueCapacity = 1024, Seed = 5, Tables = t, RigProfile = "ict_facekit" }))
                    server = StreamHello(s);
            }
            Assert.AreEqual(arkit.Count, server.Count);
            var mapped = new float[rig.Count];
            for (int f = 0; f < arkit.Count; f++)
            {
                Assert.AreEqual(rig.Count, server[f].WeightCount);
                rig.Apply(arkit[f].Weights, mapped);
                for (int j = 0; j < rig.Count; j++) Assert.AreEqual(server[f].Weights[j], mapped[j], 1e-5, rig.ShapeNames[j]);
            }
        }

        [Test]
        public void MisuseThrowsInsteadOfCrashing()
        {
            var e = Assert.Throws<EmoBridgeException>(() => new EmoBridgeClient("127.0.0.1:1", 200));
            Assert.AreEqual(-4, e.Code, e.Message);
            FaceStream stream;
            using (EmoBridgeClient client = Connect())
            {
                stream = client.OpenStream(new StreamSettings { Tables = TestData.Tables });
                Assert.Throws<ArgumentException>(() => stream.SetEmotion(new EmotionVector(new float[3]), 0f));
                var bad = Assert.Throws<EmoBridgeException>(() => stream.SetValenceArousal(-1.5f, 0f, 0f));
                Assert.AreEqual(-1, bad.Code, bad.Message);
                Assert.Throws<EmoBridgeException>(() => stream.SetEmotion(EmotionVector.Neutral(7), 0f, double.PositiveInfinity));
                Assert.Throws<ArgumentOutOfRangeException>(() => stream.Push(new short[10], 5, 10));
            }
            // Closing the client closed its stream: calls now fail cleanly, disposing again is harmless.
            Assert.AreEqual(StreamState.Closed, stream.State);
            var closed = Assert.Throws<EmoBridgeException>(() => stream.EndAudio());
            Assert.AreEqual(-3, closed.Code, closed.Message);
            stream.Dispose();
            stream.Dispose();
        }
    }
}
