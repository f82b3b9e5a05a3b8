using UnityEngine;

namespace EmoBridge
{
    /// <summary>Lip sync for what an AudioSource plays. The clip is streamed to the sidecar a little
    /// ahead of the playhead and each rendered frame shows the face for the audio's own playback time
    /// (not for frame arrival), so there is no drift; seeks, loops and clip changes restart the stream.
    /// With <c>bakeWholeClip</c> the clip is baked whole instead, and baked again at each emotion change
    /// (KeyedBake), so a change lands where it is heard rather than up to the send-ahead later.
    /// The clip's Load Type must allow reading samples (Decompress On Load).</summary>
    [AddComponentMenu("EmoBridge/Audio Source Lip Sync")]
    [RequireComponent(typeof(AudioSource))]
    public sealed class AudioSourceLipSync : FaceStreamBehaviour
    {
        // Ahead enough to cover the model's lookahead (<= 80 ms) and the network; not much more: emotion
        // changes are stamped with the playhead's time (EmotionTime), but frames the sidecar has already
        // made cannot change, so a change lands at the playhead only where the sidecar has not got that far,
        // else at the first frame it makes after the change arrives: at most about this much later.
        [Tooltip("Seconds of audio sent ahead of the playhead")]
        [Range(0.2f, 5f)] [SerializeField] float lookaheadSeconds = 0.5f;
        [Tooltip("Bake the whole clip (and again at each emotion change) instead of streaming it: emotion changes land " +
                 "where they are heard; the face starts once the first bake is back (a few ms per second of audio)")]
        [SerializeField] bool bakeWholeClip;

        AudioSource source;
        AudioClip clip;
        ClipFeeder feeder;
        bool ended;
        readonly PlaybackClock clock = new PlaybackClock();
        readonly FrameTimeline timeline = new FrameTimeline(1024);
        readonly FaceFrame[] drained = NewFrames(256);
        readonly FaceFrame shown = new FaceFrame();
        float[] chunk = new float[0];

        /// <summary>How the last shown frame was found (Held = the sidecar is behind the audio).</summary>
        public SampleResult LastSample { get; private set; }

        KeyedBake baked;        // bakeWholeClip: the playing clip's bakes
        AudioClip bakedClip;
        float[] bakedSamples;
        BakeResult bakeShown;
        FrameTimeline bakedFrames;

        void Awake() { source = GetComponent<AudioSource>(); }

        System.Action step;  // cached: no delegate allocation per frame

        void Update() { Guarded(step ?? (step = Step)); }

        void Step()
        {
            AudioClip playing = source.clip;
            if (playing == null) return;
            double position = source.timeSamples / (double)playing.frequency;
            // Audio ignores Time.timeScale but follows the source's pitch.
            bool jumped = clock.Advance(position, Time.unscaledDeltaTime * source.pitch, source.isPlaying);
            if (bakeWholeClip)
            {
                ShowBaked(playing, jumped);  // a bake covers the whole clip: no restart at a seek or a loop
                return;
            }
            if (!source.isPlaying)
            {
                if (jumped) CloseStream();  // stopped (or seeked while paused): the face keeps its last pose
                if (Stream == null) return;
            }
            else if (playing != clip || jumped || Stream == null)
            {
                Restart(playing, position);
            }

            Feed();
            int n;
            while ((n = Stream.Drain(drained)) > 0)
                for (int i = 0; i < n; i++) timeline.Add(drained[i]);
            timeline.Trim(clock.Time);
            LastSample = timeline.Sample(clock.Time, shown);
            if (LastSample != SampleResult.Empty) face.Show(shown);
        }

        void Restart(AudioClip playing, double position)
        {
            clip = playing;
            OpenStream(clip.frequency, clip.channels);
            feeder = new ClipFeeder(clip.samples, clip.frequency);
            feeder.Restart((int)(position * clip.frequency));
            timeline.Reset(feeder.Position / (double)clip.frequency);
            ended = false;
            int block = clip.frequency / 10 * clip.channels;  // push in 100 ms blocks
            if (chunk.Length != block) chunk = new float[block];
        }

        void Feed()
        {
            int block = chunk.Length / clip.channels;
            int due;
            while ((due = feeder.Due(clock.Time, lookaheadSeconds, block)) > 0)
            {
                // GetData fills the whole block (wrapping at the clip's end); only `due` frames are pushed.
                clip.GetData(chunk, feeder.Position);
                if (!Stream.Push(chunk, 0, due)) return;  // the sidecar is behind: retry next frame
                feeder.Pushed(due);
            }
            if (feeder.Done && !ended)
            {
                Stream.EndAudio();
                ended = true;
            }
        }

        void ShowBaked(AudioClip playing, bool jumped)
        {
            if (playing != bakedClip)
            {
                bakedClip = playing;
                bakedSamples = EmoBridgeConnection.ClipSamples(playing);
                bakedFrames = null;
                StartBake();
            }
            else if (jumped)
            {
                StartBake();  // a seek or a loop: the keys were placed on the pass before it; start from the emotion now
            }
            System.Exception failed = baked.Error;
            if (failed != null)
            {
                Debug.LogError("EmoBridge: baking " + playing.name + " failed: " + failed.Message + "; disabling " +
                               GetType().Name, this);
                enabled = false;
                return;
            }
            BakeResult latest = baked.Latest;
            if (latest != null && latest != bakeShown) { bakeShown = latest; bakedFrames = latest.ToTimeline(); }
            if (bakedFrames == null) return;  // the clip's first bake is not back yet
            LastSample = bakedFrames.Sample(clock.Time, shown);
            if (LastSample != SampleResult.Empty) face.Show(shown);
        }

        void StartBake()
        {
            CloseBake();
            baked = new KeyedBake(connection.NextClient(), bakedSamples, bakedClip.frequency, bakedClip.channels,
                                  new BakeSettings { Seed = seed, Emotion = face.Emotion.Target, Tables = EmoBridgeAssets.Tables });
            baked.Start();
        }

        void CloseBake()
        {
            if (baked != null) baked.Dispose();  // cancels its bake in flight
            baked = null;
        }

        /// <summary>Closes the stream or the clip's bakes.</summary>
        protected override void OnDisable()
        {
            base.OnDisable();
            CloseBake();
            bakedClip = null;
        }

        /// <summary>With bakeWholeClip, a change becomes a key at the playhead and the clip is baked again;
        /// else it goes to the stream.</summary>
        protected override void SendEmotion(EmotionChange change)
        {
            if (!bakeWholeClip || baked == null)
            {
                base.SendEmotion(change);
                return;
            }
            try { baked.Change(change, clock.Time); }
            catch (EmoBridgeException e) { Debug.LogWarning("EmoBridge: " + e.Message, this); }
        }

        /// <summary>The playhead on the stream's audio timeline: an emotion change lands where it is heard
        /// (or as soon after as the sidecar can, see lookaheadSeconds).</summary>
        protected override double EmotionTime
        {
            get { return Stream != null && clip != null ? System.Math.Max(0.0, clock.Time - timeline.Origin) : double.NaN; }
        }

        /// <inheritdoc/>
        protected override void OnReopened()
        {
            base.OnReopened();
            clip = null;  // Update restarts at the current position
            bakedClip = null;  // and bakes again on the new clients
        }

        static FaceFrame[] NewFrames(int n)
        {
            var frames = new FaceFrame[n];
            for (int i = 0; i < n; i++) frames[i] = new FaceFrame();
            return frames;
        }
    }
}
