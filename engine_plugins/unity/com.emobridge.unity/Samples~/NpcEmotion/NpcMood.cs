using System.Collections;
using EmoBridge;
using UnityEngine;

namespace EmoBridge.Samples
{
    /// <summary>NPC sample: the NPC talks (an AudioSource with AudioSourceLipSync) while gameplay code
    /// changes its mood. Every few seconds it walks through a small story of emotions, showing Set,
    /// Blend and valence/arousal; the face blends smoothly and the lip sync continues.</summary>
    public sealed class NpcMood : MonoBehaviour
    {
        [SerializeField] EmoBridgeFace face;
        [SerializeField] float secondsPerMood = 3f;

        IEnumerator Start()
        {
            if (face == null) face = GetComponentInParent<EmoBridgeFace>();
            face.Emotion.Changed += (sender, change) =>
                Debug.Log("NPC mood -> " + change.Target.ToString(face.Emotion.Tables) + " over " + change.TransitionSeconds + " s");
            var wait = new WaitForSeconds(secondsPerMood);
            while (true)
            {
                face.Emotion.Set("happy", 0.7f, 0.5f);           // greets the player
                yield return wait;
                face.Emotion.Blend("surprise", 0.4f, 0.3f);      // ...and is surprised, still smiling
                yield return wait;
                face.Emotion.Set("anger", 0.8f, 0.8f);           // an alias of angry
                yield return wait;
                face.Emotion.SetValenceArousal(-0.6f, -0.4f, 1f); // deflated: sad-ish, low energy
                yield return wait;
                face.Emotion.Neutral(1f);
                yield return wait;
            }
        }
    }
}
