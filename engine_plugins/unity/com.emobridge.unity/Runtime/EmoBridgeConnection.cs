using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using UnityEngine;

namespace EmoBridge
{
    /// <summary>Overall state of the streams opened through a connection.</summary>
    public enum ConnectionState
    {
        /// <summary>No stream is open.</summary>
        Idle,
        /// <summary>A stream is waiting for the sidecar.</summary>
        Connecting,
        /// <summary>Every open stream is streaming (or has ended).</summary>
        Connected,
        /// <summary>The sidecar went away; the native core retries with backoff.</summary>
        Reconnecting,
        /// <summary>The sidecar refused a stream (see LastError).</summary>
        Failed,
    }

    /// <summary>One sidecar address for the scene. Lip-sync components open their streams through it; the
    /// native core reconnects them by itself when the sidecar restarts.</summary>
    [AddComponentMenu("EmoBridge/EmoBridge Connection")]
    [DisallowMultipleComponent]
    public sealed class EmoBridgeConnection : MonoBehaviour
    {
        [Tooltip("host:port of `emobridge serve`")]
        [SerializeField] string address = "127.0.0.1:50051";

        [Tooltip("connections the streams are spread over, round robin: match `emobridge serve --workers N`, " +
                 "whose workers each serve the streams of their own connections")]
        [SerializeField] int connections = 1;

        readonly List<EmoBridgeClient> clients = new List<EmoBridgeClient>();  // one connection each
        readonly List<FaceStream> streams = new List<FaceStream>();
        int opened;  // streams opened since the clients were made: the next one goes on clients[opened % count]

        /// <summary>Raised on the main thread when <see cref="State"/> changes.</summary>
        public event Action<ConnectionState> StateChanged;

        /// <summary>Raised after <see cref="Reconnect"/>: stream owners open new streams.</summary>
        public event Action Reopened;

        /// <summary>The aggregate state of the open streams.</summary>
        public ConnectionState State { get; private set; }

        /// <summary>Why the last stream failed or is reconnecting ("" if none).</summary>
        public string LastError { get; private set; }

        /// <summary>The sidecar address; setting it reconnects.</summary>
        public string Address
        {
            get { return address; }
            set { address = value; Reconnect(); }
        }

        /// <summary>Opens a stream on this connection (its clients are created on first use).</summary>
        public FaceStream OpenStream(StreamSettings settings)
        {
            settings.Tables = EmoBridgeAssets.Tables;
            FaceStream stream = NextClient().OpenStream(settings);
            streams.Add(stream);
            return stream;
        }

        /// <summary>Bakes <paramref name="clip"/> through the sidecar's Bake on a worker thread: every frame at
        /// once (EmoBridgeClient.Bake), e.g. a line with its transcript when it is loaded. Play the result with
        /// BakedFacePlayer.Play(BakeResult). The samples are read here, on the main thread, so the clip's Load
        /// Type must allow it (Decompress On Load). The task faults with EmoBridgeException naming the problem.</summary>
        public Task<BakeResult> BakeAsync(AudioClip clip, BakeSettings settings = null)
        {
            if (clip == null) throw new ArgumentNullException("clip");
            return BakeAsync(ClipSamples(clip), clip.frequency, clip.channels, settings);
        }

        /// <summary>As <see cref="BakeAsync(AudioClip, BakeSettings)"/> for interleaved samples already read.</summary>
        public Task<BakeResult> BakeAsync(float[] samples, int sampleRate, int channels, BakeSettings settings = null)
        {
            settings = settings ?? new BakeSettings();
            settings.Tables = EmoBridgeAssets.Tables;
            EmoBridgeClient client = NextClient();
            return Task.Run(() => client.Bake(samples, sampleRate, channels, settings));
        }

        /// <summary>Every sample of <paramref name="clip"/>, interleaved (main thread; Load Type Decompress On Load).</summary>
        public static float[] ClipSamples(AudioClip clip)
        {
            var samples = new float[clip.samples * clip.channels];
            clip.GetData(samples, 0);
            return samples;
        }

        /// <summary>A client of this connection (round robin over <c>connections</c>), created on first use; main
        /// thread. Bakes and streams may share it from any thread.</summary>
        public EmoBridgeClient NextClient()
        {
            // Lazy: streams retry until the sidecar is up.
            while (clients.Count < Math.Max(1, connections)) clients.Add(new EmoBridgeClient(address));
            return clients[opened++ % clients.Count];
        }

        /// <summary>Closes the clients and every stream, then asks their owners to open new ones.</summary>
        public void Reconnect()
        {
            CloseAll();
            if (Reopened != null) Reopened();
        }

        /// <summary>The connection the scene uses when a component has none assigned.</summary>
        public static EmoBridgeConnection Find(Component near)
        {
            var found = near.GetComponentInParent<EmoBridgeConnection>();
            return found != null ? found : FindObjectOfType<EmoBridgeConnection>();
        }

        void Update()
        {
            streams.RemoveAll(s => s.State == StreamState.Closed);
            var state = ConnectionState.Idle;
            foreach (FaceStream s in streams)
            {
                StreamState st = s.State;
                ConnectionState mine = st == StreamState.Failed ? ConnectionState.Failed
                                     : st == StreamState.Reconnecting ? ConnectionState.Reconnecting
                                     : st == StreamState.Connecting ? ConnectionState.Connecting
                                     : ConnectionState.Connected;
                if (Rank(mine) > Rank(state)) state = mine;  // the worst stream speaks for the connection
                if (st == StreamState.Failed || st == StreamState.Reconnecting) LastError = s.Error;
            }
            if (state == State) return;
            State = state;
            if (state == ConnectionState.Failed || state == ConnectionState.Reconnecting)
                Debug.LogWarning("EmoBridge: " + state + " (" + address + "): " + LastError, this);
            if (StateChanged != null) StateChanged(state);
        }

        static int Rank(ConnectionState s)
        {
            return s == ConnectionState.Failed ? 4 : s == ConnectionState.Reconnecting ? 3
                 : s == ConnectionState.Connecting ? 2 : s == ConnectionState.Connected ? 1 : 0;
        }

        void OnDestroy() { CloseAll(); }

        void CloseAll()
        {
            foreach (FaceStream s in streams) s.Dispose();
            streams.Clear();
            foreach (EmoBridgeClient c in clients) c.Dispose();
            clients.Clear();
            opened = 0;
        }
    }
}
