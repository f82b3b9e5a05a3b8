// Tests of the pure C# core against the Python SDK's results (no sidecar needed).
using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace EmoBridge.Tests
{
    [TestFixture]
    public class FaceTablesTests
    {
        [Test]
        public void ArkitNamesAndSpellings()
        {
            FaceTables t = TestData.Tables;
            Assert.AreEqual(52, t.ArkitNames.Count);
            Assert.AreEqual("eyeBlinkLeft", t.ArkitNames[0]);
            int jaw = t.IndexOfBlendshape("jawOpen");
            Assert.AreEqual(jaw, t.IndexOfBlendshape("JawOpen"));
            Assert.AreEqual(jaw, t.IndexOfBlendshape("blendShape.jaw_open"));
            Assert.AreEqual(t.IndexOfBlendshape("eyeBlinkLeft"), t.IndexOfBlendshape("eyeBlink_L"));
            Assert.AreEqual(t.IndexOfBlendshape("mouthSmileRight"), t.IndexOfBlendshape("MouthSmile_R"));
            Assert.AreEqual(-1, t.IndexOfBlendshape("notAShape"));
            CollectionAssert.AreEqual(new[] { "happy", "sad", "angry", "fear", "disgust", "surprise", "contempt" }, t.Emotions);
        }

        [Test]
        public void EmotionStringsMatchPython()
        {
            foreach (var pair in (JsonObject)TestData.Expected.Get("emotion_strings"))
                AssertVector(TestData.Floats(pair.Value), TestData.Tables.ParseEmotion(pair.Key), pair.Key);
        }

        [Test]
        public void ValenceArousalMatchesPython()
        {
            foreach (List<object> row in (List<object>)TestData.Expected.Get("valence_arousal"))
            {
                float v = (float)(double)row[0], a = (float)(double)row[1];
                AssertVector(TestData.Floats(row[2]), TestData.Tables.FromValenceArousal(v, a), v + "," + a);
            }
        }

        [Test]
        public void UnknownEmotionSaysWhatIsAccepted()
        {
            var e = Assert.Throws<ArgumentException>(() => TestData.Tables.Emotion("grumpy", 1f));
            StringAssert.Contains("happy", e.Message);
            StringAssert.Contains("joy", e.Message);
            Assert.Throws<ArgumentException>(() => TestData.Tables.Emotion("happy", 1.5f));
        }

        internal static void AssertVector(float[] expected, EmotionVector actual, string what)
        {
            Assert.AreEqual(expected.Length, actual.Count, what);
            for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], 1e-5, what + " [" + i + "]");
        }
    }

    [TestFixture]
    public class EmotionStateTests
    {
        [Test]
        public void SetRaisesChangedAndCuts()
        {
            var state = new EmotionState(TestData.Tables);
            EmotionChange seen = null;
            state.Changed += (s, c) => seen = c;
            state.Set("joy", 0.7f, 0f);
            Assert.AreEqual(0.7f, seen.Target[0], 1e-6);
            Assert.AreEqual(0f, seen.TransitionSeconds);
            Assert.AreEqual(0.7f, state.Current[0], 1e-6, "a 0 s transition is a cut");
            state.Set("sad", 0.5f);
            Assert.AreEqual(0f, state.Target[0], "Set replaces the target");
            Assert.AreEqual(EmotionState.DefaultTransitionSeconds, seen.TransitionSeconds);
        }

        [Test]
        public void BlendKeepsTheOthers()
        {
            var state = new EmotionState(TestData.Tables);
            state.Set("happy", 0.6f, 0f);
            state.Blend("surprise", 0.3f, 0f);
            Assert.AreEqual(0.6f, state.Target[0], 1e-6);
            Assert.AreEqual(0.3f, state.Target[5], 1e-6);
            state.Blend(TestData.Tables.Emotion("sad", 1f), 0.5f, 0f);
            Assert.AreEqual(0.3f, state.Target[0], 1e-6);
            Assert.AreEqual(0.5f, state.Target[1], 1e-6);
        }

        [Test]
        public void FollowsTheSidecarsDampedCurve()
        {
            // Same steps as make_expected.py: happy over 0.5 s, then sad=0.6 over 0.3 s mid-way.
            var state = new EmotionState(TestData.Tables);
            var expected = (List<object>)TestData.Expected.Get("damped");
            state.Set("happy", 1f, 0.5f);
            for (int i = 0; i < expected.Count; i++)
            {
                if (i == 60) state.Set("sad", 0.6f, 0.3f);
                FaceTablesTests.AssertVector(TestData.Floats(expected[i]), state.Step(1 / 60.0), "step " + i);
            }
        }

        [Test]
        public void ValenceArousalRoundTripHasTheRightSigns()
        {
            var state = new EmotionState(TestData.Tables);
            state.SetValenceArousal(0.8f, 0.45f, 0f);
            Assert.Greater(state.Valence, 0.3f);
            Assert.Greater(state.Arousal, 0.1f);
            state.Set("sad", 1f, 0f);
            Assert.Less(state.Valence, -0.3f);
            Assert.Less(state.Arousal, -0.1f);
            state.Neutral(0f);
            Assert.AreEqual(0f, state.Valence);
        }
    }

    [TestFixture]
    public class RigMapperTests
    {
        [Test]
        public void EveryProfileMatchesPythonRigProfileApply()
        {
            var frames = (List<object>)TestData.Expected.Get("frames");
            int checkedProfiles = 0;
            foreach (var pair in (JsonObject)TestData.Expected.Get("rig"))
            {
                string json = pair.Key == "custom" ? (string)TestData.Expected.Get("custom_profile") : TestData.Profile(pair.Key);
                RigMapper rig = RigMapper.Parse(json, TestData.Tables, pair.Key);
                var rows = (List<object>)pair.Value;
                var output = new float[rig.Count];
                for (int f = 0; f < frames.Count; f++)
                {
                    float[] want = TestData.Floats(rows[f]);
                    rig.Apply(TestData.Floats(frames[f]), output);
                    Assert.AreEqual(want.Length, rig.Count, pair.Key);
                    for (int j = 0; j < want.Length; j++)
                        Assert.AreEqual(want[j], output[j], 1e-6, pair.Key + " frame " + f + " shape " + rig.ShapeNames[j]);
                }
                checkedProfiles++;
            }
            Assert.AreEqual(5, checkedProfiles, "4 built-in profiles + the custom one");
        }

        [Test]
        public void IdentityIsArkit()
        {
            RigMapper arkit = RigMapper.Parse(TestData.Profile("arkit"), TestData.Tables);
            CollectionAssert.AreEqual(TestData.Tables.ArkitNames, arkit.ShapeNames);
            CollectionAssert.AreEqual(TestData.Tables.ArkitNames, RigMapper.Identity(TestData.Tables).ShapeNames);
        }

        [Test]
        public void BadProfilesNameTheShape()
        {
            var e = Assert.Throws<FormatException>(() => RigMapper.Parse("{\"shapes\": {\"X\": \"nope\"}}", TestData.Tables));
            StringAssert.Contains("'X'", e.Message);
            Assert.Throws<FormatException>(() => RigMapper.Parse("{\"shapes\": {\"X\": {\"from\": \"jawOpen\", \"gain\": \"2\"}}}", TestData.Tables));
            Assert.Throws<FormatException>(() => RigMapper.Parse("{\"shapes\": {\"X\": {\"from\": \"jawOpen\", \"combine\": \"avg\"}}}", TestData.Tables));
            Assert.Throws<FormatException>(() => RigMapper.Parse("{\"shapes\": {}}", TestData.Tables));
        }
    }

    [TestFixture]
    public class PlaybackSyncTests
    {
        const double Fps = 60;

        static FrameTimeline Ramp(double seconds, int capacity)
        {
            // Frame i carries Weights[0] = i / 1e5: sampling recovers the stream time it shows.
            var timeline = new FrameTimeline(capacity);
            timeline.Reset(0);
            var f = new FaceFrame { WeightCount = 52 };
            for (int i = 0; i < seconds * Fps; i++)
            {
                f.Index = i; f.Time = i / Fps; f.Weights[0] = (float)(i / 1e5);
                timeline.Add(f);
            }
            return timeline;
        }

        [Test]
        public void NoDriftOverTenMinutesOfJitteryFramesAndAFastAudioClock()
        {
            // Game frames of 8-33 ms; the audio device runs 0.2% fast against the game clock and reports
            // its position in 1024-sample steps at 48 kHz (as AudioSource.timeSamples does).
            var rng = new Random(1);
            var clock = new PlaybackClock();
            FrameTimeline timeline = Ramp(600, 36001);
            var shown = new FaceFrame();
            double audio = 0, worstEarly = 0, worstLate = 0, worstFrame = 0;
            clock.Advance(0, 0, true);
            while (audio < 599)
            {
                double dt = 0.008 + rng.NextDouble() * 0.025;
                audio += dt * 1.002;
                double reported = Math.Floor(audio * 48000 / 1024) * 1024 / 48000;
                Assert.IsFalse(clock.Advance(reported, dt, true), "no seek at " + audio);
                double error = clock.Time - audio;
                if (audio < 60) worstEarly = Math.Max(worstEarly, Math.Abs(error));
                if (audio > 540) worstLate = Math.Max(worstLate, Math.Abs(error));
                Assert.AreEqual(SampleResult.Exact, timeline.Sample(clock.Time, shown));
                worstFrame = Math.Max(worstFrame, Math.Abs(shown.Weights[0] * 1e5 / Fps - audio));
            }
            Console.WriteLine("clock error: first minute {0:0.0} ms, tenth minute {1:0.0} ms; shown frame vs audio {2:0.0} ms",
                              worstEarly * 1000, worstLate * 1000, worstFrame * 1000);
            Assert.Less(worstEarly, 0.03, "clock within 30 ms of the audio in the first minute");
            Assert.Less(worstLate, 0.03, "...and still in the tenth: no drift");
            Assert.Less(worstFrame, 0.03, "the frame shown is the frame of the audio playing");
        }

        [Test]
        public void SeekJumpsAndReportsIt()
        {
            var clock = new PlaybackClock();
            clock.Advance(1.0, 0, true);
            Assert.IsFalse(clock.Advance(1.016, 0.016, true));
            Assert.IsTrue(clock.Advance(30.0, 0.016, true), "forward seek");
            Assert.AreEqual(30.0, clock.Time, 1e-9);
            Assert.IsTrue(clock.Advance(2.0, 0.016, true), "backward seek / loop");
            Assert.AreEqual(2.0, clock.Time, 1e-9);
        }

        [Test]
        public void PauseHoldsAndResumesWithoutAJump()
        {
            var clock = new PlaybackClock();
            clock.Advance(5.0, 0, true);
            for (int i = 0; i < 120; i++) Assert.IsFalse(clock.Advance(5.0, 1 / 60.0, false));
            Assert.AreEqual(5.0, clock.Time, 1e-9, "paused: time holds");
            Assert.IsFalse(clock.Advance(5.016, 1 / 60.0, true), "resume is not a seek");
            Assert.AreEqual(5.0167, clock.Time, 0.002);
        }

        [Test]
        public void TimelineInterpolatesHoldsAndTrims()
        {
            FrameTimeline timeline = Ramp(2, 600);
            var shown = new FaceFrame();
            Assert.AreEqual(SampleResult.Exact, timeline.Sample(0.5 + 0.5 / Fps, shown));
            Assert.AreEqual(30.5 / 1e5, shown.Weights[0], 1e-9, "halfway between frames 30 and 31");
            Assert.AreEqual(SampleResult.Held, timeline.Sample(5.0, shown), "past the newest frame: hold it");
            Assert.AreEqual(119 / 1e5, shown.Weights[0], 1e-9);
            timeline.Trim(1.5, 0.5);
            Assert.AreEqual(SampleResult.Early, timeline.Sample(0.1, shown));
            Assert.LessOrEqual(timeline.Count, 62);

            timeline.Reset(10.0);  // a new stream after a seek to 10 s: its frame 0 plays at 10 s
            var f = new FaceFrame { WeightCount = 52 };
            f.Time = 0; f.Weights[0] = 1f; timeline.Add(f);
            f.Time = 1 / Fps; f.Weights[0] = 2f; timeline.Add(f);
            timeline.Sample(10.0 + 0.5 / Fps, shown);
            Assert.AreEqual(1.5f, shown.Weights[0], 1e-6);
        }

        [Test]
        public void FeederPushesUpToTheLookaheadAndStopsAtTheEnd()
        {
            var feeder = new ClipFeeder(48000 * 3, 48000);
            Assert.AreEqual(4800, feeder.Due(0, 1.0, 4800), "limited by the block");
            int total = 0, due;
            while ((due = feeder.Due(0, 1.0, 4800)) > 0) { feeder.Pushed(due); total += due; }
            Assert.AreEqual(48000, total, "one second ahead of a playhead at 0");
            while ((due = feeder.Due(10, 1.0, 4800)) > 0) feeder.Pushed(due);
            Assert.IsTrue(feeder.Done);
            feeder.Restart(48000 * 2);
            Assert.AreEqual(24000, feeder.Due(2.0, 0.5, 1 << 20));
        }

        [Test]
        public void SmoothingIsFrameRateIndependent()
        {
            float[] a = { 0f }, b = { 0f }, one = { 1f };
            for (int i = 0; i < 60; i++) WeightSmoother.Smooth(a, one, 1, 1 / 60f, 0.1f);
            for (int i = 0; i < 240; i++) WeightSmoother.Smooth(b, one, 1, 1 / 240f, 0.1f);
            Assert.AreEqual(a[0], b[0], 1e-4);
            Assert.AreEqual(1 - Math.Exp(-10), a[0], 1e-4);
        }

        [Test]
        public void BakedAnimationReordersNamesIntoCanonicalOrder()
        {
            double duration;
            FrameTimeline timeline = BakedAnimation.Parse((string)TestData.Expected.Get("animation"), TestData.Tables, out duration);
            Assert.AreEqual(6, timeline.Count);
            Assert.AreEqual(0.2, duration, 1e-9);
            var frames = (List<object>)TestData.Expected.Get("frames");
            for (int f = 0; f < 6; f++)
            {
                float[] want = TestData.Floats(frames[f]);
                for (int i = 0; i < 52; i++) Assert.AreEqual(want[i], timeline[f].Weights[i], 1e-6);
                Assert.AreEqual(f / 30.0, timeline[f].Time, 1e-9);
            }
            Assert.AreEqual(0.05f, timeline[5].Head.Yaw, 1e-6);
        }

        [Test]
        public void BakedFramesTurnTheEyesAsTheSidecarDoes()
        {
            double duration;
            FrameTimeline timeline = BakedAnimation.Parse((string)TestData.Expected.Get("animation"), TestData.Tables, out duration);
            var eyes = (List<object>)TestData.Expected.Get("eyes");
            bool moved = false;
            for (int f = 0; f < 6; f++)
            {
                float[] want = TestData.Floats(eyes[f]);
                FaceFrame got = timeline[f];
                float[] have = { got.LeftEye.Yaw, got.LeftEye.Pitch, got.LeftEye.Roll,
                                 got.RightEye.Yaw, got.RightEye.Pitch, got.RightEye.Roll };
                for (int i = 0; i < 6; i++) Assert.AreEqual(want[i], have[i], 1e-6);
                moved |= Math.Abs(have[0]) > 0.01f;
            }
            Assert.IsTrue(moved);
        }
    }
}
