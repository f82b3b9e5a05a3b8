using EmoBridge;
using UnityEngine;

namespace EmoBridge.Samples
{
    /// <summary>Subtitled-line sample: an NPC line baked through the sidecar when it starts, with its subtitle as
    /// the transcript (the lips follow the words force-aligned to the audio: the most exact lip sync), and an
    /// emotion change placed on the line's timeline. BakedFacePlayer then plays it locked to the audio.</summary>
    public sealed class SubtitledLine : MonoBehaviour
    {
        [SerializeField] EmoBridgeConnection connection;
        [Tooltip("Its Audio Source must be the one below, so the face follows the audio's playback time")]
        [SerializeField] BakedFacePlayer player;
        [SerializeField] AudioSource audioSource;
        [Tooltip("Load Type: Decompress On Load")]
        [SerializeField] AudioClip line;
        [SerializeField] string subtitle = "Put the map back, Pam.";
        [Tooltip("Seconds into the line where the NPC turns angry (negative: never)")]
        [SerializeField] float angryAt = 1.2f;

        async void Start()
        {
            if (connection == null) connection = EmoBridgeConnection.Find(this);
            var settings = new BakeSettings { Transcript = subtitle };
            if (angryAt >= 0)
                settings.EmotionKeys = new[]
                {
                    new BakeEmotionKey { TimeSeconds = angryAt, TransitionSeconds = 0.3f,
                                         Emotion = EmoBridgeAssets.Tables.ParseEmotion("angry=0.8") },
                };
            BakeResult bake;
            try { bake = await connection.BakeAsync(line, settings); }  // on a worker thread; Start goes on meanwhile
            catch (EmoBridgeException e) { Debug.LogError("EmoBridge: " + e.Message, this); return; }
            Debug.Log("EmoBridge: baked " + line.name + ": " + bake.Frames.Length + " frames by the " + bake.Route + " route");
            audioSource.clip = line;
            player.Play(bake);
            audioSource.Play();
        }
    }
}
