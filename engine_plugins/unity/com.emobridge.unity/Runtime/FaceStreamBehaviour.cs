using System;
using UnityEngine;

namespace EmoBridge
{
    /// <summary>Shared plumbing of the lip-sync components: opens a stream on the connection with the
    /// face's emotion, forwards emotion changes to it, and reopens after a Reconnect.</summary>
    public abstract class FaceStreamBehaviour : MonoBehaviour
    {
        [Tooltip("Sidecar connection (default: the one in the parents, else the scene's)")]
        [SerializeField] protected EmoBridgeConnection connection;
        [Tooltip("Face to drive (default: the one on this object or its parents)")]
        [SerializeField] protected EmoBridgeFace face;
        [Tooltip("Seed of blinks, gaze and head motion")]
        [SerializeField] protected int seed;

        /// <summary>The open stream, or null.</summary>
        protected FaceStream Stream { get; private set; }

        /// <summary>The face being driven.</summary>
        public EmoBridgeFace Face { get { return face; } }

        /// <summary>Finds the connection and face when not assigned.</summary>
        protected virtual void OnEnable()
        {
            if (face == null) face = GetComponentInParent<EmoBridgeFace>();
            if (connection == null) connection = EmoBridgeConnection.Find(this);
            if (face == null || connection == null)
            {
                Debug.LogError("EmoBridge: " + GetType().Name + " needs an EmoBridgeFace and an EmoBridgeConnection", this);
                enabled = false;
                return;
            }
            face.Emotion.Changed += OnEmotionChanged;
            connection.Reopened += OnReopened;
        }

        /// <summary>Closes the stream.</summary>
        protected virtual void OnDisable()
        {
            if (face != null) face.Emotion.Changed -= OnEmotionChanged;
            if (connection != null) connection.Reopened -= OnReopened;
            CloseStream();
        }

        /// <summary>Opens a new stream for audio at <paramref name="sampleRate"/> Hz, starting from the
        /// face's current emotion target.</summary>
        protected FaceStream OpenStream(int sampleRate, int channels)
        {
            CloseStream();
            Stream = connection.OpenStream(new StreamSettings
            {
                SampleRate = sampleRate, Channels = channels, Seed = seed, Emotion = face.Emotion.Target,
                FrameQueueCapacity = 1024,
            });
            // A valence/arousal target goes to the sidecar as the point (its mapping is the reference), as a
            // cut before any audio: the same as starting from it.
            EmotionChange last = face.Emotion.LastChange;
            if (last != null && last.HasValenceArousal) Stream.SetValenceArousal(last.Valence, last.Arousal, 0f);
            return Stream;
        }

        /// <summary>Closes the stream if one is open.</summary>
        protected void CloseStream()
        {
            if (Stream != null) Stream.Dispose();
            Stream = null;
        }

        /// <summary>Runs one frame of streaming; a native error (e.g. a stream the sidecar refused) is logged
        /// once and stops this component instead of throwing every frame.</summary>
        protected void Guarded(Action step)
        {
            try { step(); }
            catch (EmoBridgeException e)
            {
                string why = Stream != null ? Stream.Error : "";
                Debug.LogError("EmoBridge: " + e.Message + (why.Length > 0 ? " (" + why + ")" : "") + "; disabling " + GetType().Name, this);
                enabled = false;
            }
        }

        /// <summary>The connection was reset: the old stream is gone.</summary>
        protected virtual void OnReopened() { Stream = null; }

        /// <summary>Where an emotion change made now belongs on the stream's audio timeline (seconds since
        /// its first sample), or NaN for "the next frame the sidecar makes" (live input: no playback to aim at).</summary>
        protected virtual double EmotionTime { get { return double.NaN; } }

        void OnEmotionChanged(object sender, EmotionChange change) { SendEmotion(change); }

        /// <summary>Passes a change of the face's emotion on: to the open stream, stamped with <see cref="EmotionTime"/>.</summary>
        protected virtual void SendEmotion(EmotionChange change)
        {
            if (Stream == null) return;
            try { Stream.Send(change, EmotionTime); }
            catch (EmoBridgeException e) { Debug.LogWarning("EmoBridge: " + e.Message, this); }
        }
    }
}
