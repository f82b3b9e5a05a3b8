using UnityEngine;

namespace EmoBridge
{
    /// <summary>Live lip sync from a microphone (avatars, VTubers): the mic is streamed in 20 ms blocks and
    /// the newest frame is shown as soon as it arrives (lowest latency; nothing to sync against).</summary>
    [AddComponentMenu("EmoBridge/Microphone Lip Sync")]
    public sealed class MicrophoneLipSync : FaceStreamBehaviour
    {
        [Tooltip("Microphone device name (empty = the default device)")]
        [SerializeField] string device = "";
        [Tooltip("Requested capture rate in Hz (16000 needs no resampling)")]
        [SerializeField] int sampleRate = 16000;

        AudioClip mic;
        int readPosition;
        float[] block = new float[0];
        readonly FaceFrame latest = new FaceFrame();

        /// <summary>The devices Unity can record from.</summary>
        public static string[] Devices { get { return Microphone.devices; } }

        /// <inheritdoc/>
        protected override void OnEnable()
        {
            base.OnEnable();
            if (!enabled) return;
            string name = string.IsNullOrEmpty(device) ? null : device;
            mic = Microphone.Start(name, true, 1, sampleRate);  // a 1 s ring that Unity keeps filling
            if (mic == null)
            {
                Debug.LogError("EmoBridge: no microphone '" + device + "'", this);
                enabled = false;
                return;
            }
            block = new float[mic.frequency / 50 * mic.channels];
            readPosition = 0;
            OpenStream(mic.frequency, mic.channels);
        }

        /// <inheritdoc/>
        protected override void OnDisable()
        {
            base.OnDisable();
            if (mic != null) Microphone.End(string.IsNullOrEmpty(device) ? null : device);
            mic = null;
        }

        System.Action step;  // cached: no delegate allocation per frame

        void Update() { Guarded(step ?? (step = Step)); }

        void Step()
        {
            if (mic == null) return;
            if (Stream == null) OpenStream(mic.frequency, mic.channels);
            int frames = block.Length / mic.channels;
            int written = Microphone.GetPosition(string.IsNullOrEmpty(device) ? null : device);
            while ((written - readPosition + mic.samples) % mic.samples >= frames)
            {
                mic.GetData(block, readPosition);
                if (!Stream.Push(block, 0, frames)) break;  // the sidecar is behind: this block is retried next frame
                readPosition = (readPosition + frames) % mic.samples;
            }
            if (Stream.PollLatest(latest)) face.Show(latest);
        }
    }
}
