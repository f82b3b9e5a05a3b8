using UnityEngine;

namespace EmoBridge
{
    /// <summary>Plays a baked animation JSON (from `emobridge bake`) or a bake made at run time
    /// (EmoBridgeClient.Bake) on an EmoBridgeFace, optionally locked to an AudioSource's playback time.
    /// Playing needs no sidecar. For baked AnimationClips (.anim) use an Animator or Timeline instead: they
    /// animate the blendshapes directly.</summary>
    [AddComponentMenu("EmoBridge/Baked Face Player")]
    public sealed class BakedFacePlayer : MonoBehaviour
    {
        [SerializeField] EmoBridgeFace face;
        [Tooltip("Animation JSON from `emobridge bake` (import it with a .json extension)")]
        [SerializeField] TextAsset animationJson;
        [Tooltip("Optional: follow this source's playback time (start the audio to start the face)")]
        [SerializeField] AudioSource audioSource;
        [SerializeField] bool playOnEnable = true;
        [SerializeField] bool loop;

        FrameTimeline timeline;
        double duration, time;
        bool playing;
        readonly PlaybackClock clock = new PlaybackClock();
        readonly FaceFrame shown = new FaceFrame();

        /// <summary>True while playing.</summary>
        public bool IsPlaying { get { return playing; } }

        /// <summary>Starts playing <paramref name="animation"/> (or the assigned one) from the start.</summary>
        public void Play(TextAsset animation = null)
        {
            if (animation != null) animationJson = animation;
            if (animationJson == null) return;
            double seconds;
            Play(BakedAnimation.Parse(animationJson.text, EmoBridgeAssets.Tables, out seconds), seconds);
        }

        /// <summary>Starts playing a bake made at run time (EmoBridgeClient.Bake, e.g. a line with its
        /// transcript, baked on a worker thread when it is loaded) from the start.</summary>
        public void Play(BakeResult bake) { Play(bake.ToTimeline(), bake.DurationSeconds); }

        void Play(FrameTimeline frames, double seconds)
        {
            timeline = frames;
            duration = seconds;
            time = 0;
            clock.Reset();
            playing = true;
        }

        /// <summary>Stops (the face keeps its last pose).</summary>
        public void Stop() { playing = false; }

        void OnEnable()
        {
            if (face == null) face = GetComponentInParent<EmoBridgeFace>();
            if (playOnEnable) Play();
        }

        void Update()
        {
            if (!playing || timeline == null || face == null) return;
            if (audioSource != null && audioSource.clip != null)
            {
                clock.Advance(audioSource.timeSamples / (double)audioSource.clip.frequency,
                              Time.unscaledDeltaTime * audioSource.pitch, audioSource.isPlaying);
                time = clock.Time;
            }
            else
            {
                time += Time.deltaTime;
                if (time > duration) { if (loop) time %= duration; else playing = false; }
            }
            timeline.Sample(time, shown);
            face.Show(shown);
        }
    }
}
