using EmoBridge;
using UnityEngine;

namespace EmoBridge.Samples
{
    /// <summary>Mic avatar sample: a small on-screen panel with the connection state and one button per
    /// emotion, for a live avatar driven by MicrophoneLipSync.</summary>
    public sealed class AvatarMoodPanel : MonoBehaviour
    {
        [SerializeField] EmoBridgeFace face;
        [SerializeField] EmoBridgeConnection connection;
        [Range(0f, 1f)] [SerializeField] float intensity = 0.8f;

        void OnEnable()
        {
            if (face == null) face = GetComponentInParent<EmoBridgeFace>();
            if (connection == null) connection = EmoBridgeConnection.Find(this);
        }

        void OnGUI()
        {
            GUILayout.Label("Sidecar: " + (connection != null ? connection.State.ToString() : "none"));
            GUILayout.Label("Valence " + face.Emotion.Valence.ToString("0.00") + "  arousal " + face.Emotion.Arousal.ToString("0.00"));
            foreach (string name in face.Emotion.Tables.Emotions)
                if (GUILayout.Button(name)) face.Emotion.Set(name, intensity, 0.3f);
            if (GUILayout.Button("neutral")) face.Emotion.Neutral(0.3f);
        }
    }
}
