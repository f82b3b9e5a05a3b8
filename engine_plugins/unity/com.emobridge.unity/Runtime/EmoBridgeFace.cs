using System.Collections.Generic;
using UnityEngine;

namespace EmoBridge
{
    /// <summary>Drives a SkinnedMeshRenderer's blendshapes (and optionally head and eye bones) from ARKit
    /// frames through a rig profile, and holds the character's <see cref="Emotion"/>. Frames come from a
    /// lip-sync component or a BakedFacePlayer on the same character.</summary>
    [AddComponentMenu("EmoBridge/EmoBridge Face")]
    [DisallowMultipleComponent]
    public sealed class EmoBridgeFace : MonoBehaviour
    {
        [Tooltip("The face mesh whose blendshapes are driven")]
        [SerializeField] SkinnedMeshRenderer faceRenderer;
        [Tooltip("Built-in rig profile: arkit, ict_facekit, vrm_perfect_sync, metahuman_arkit")]
        [SerializeField] string rigProfile = "arkit";
        [Tooltip("Your own rig profile JSON (overrides the built-in one)")]
        [SerializeField] TextAsset customRigProfile;
        [Tooltip("Scales every weight (Unity blendshape weights are 0-100; 1 = full range)")]
        [Range(0f, 1f)] [SerializeField] float intensity = 1f;
        [Tooltip("Seconds of exponential smoothing of what is shown (0 = none)")]
        [Range(0f, 0.2f)] [SerializeField] float smoothingSeconds = 0.03f;
        [Tooltip("Emotion at start, e.g. happy=0.3 (empty = neutral)")]
        [SerializeField] string startEmotion = "";
        [SerializeField] Transform headBone;
        [SerializeField] Transform leftEyeBone;
        [SerializeField] Transform rightEyeBone;
        [Tooltip("Scales head motion (0 = blendshapes only)")]
        [Range(0f, 1f)] [SerializeField] float headMotion = 1f;

        RigMapper rig;
        EmotionState emotion;
        int[] shapeIndices;               // rig shape -> blendshape index on the mesh (-1 = absent)
        float[] target, shown;            // rig values: latest frame, and what is on screen
        readonly FaceFrame latest = new FaceFrame();
        bool hasFrame;
        BoneDriver head, leftEye, rightEye;

        /// <summary>The character's emotion: gameplay scripts call Emotion.Set("happy", 0.7f, 0.5f).
        /// Lip-sync components send its changes to the sidecar.</summary>
        public EmotionState Emotion
        {
            get
            {
                if (emotion == null)
                {
                    emotion = new EmotionState(EmoBridgeAssets.Tables);
                    if (!string.IsNullOrEmpty(startEmotion)) emotion.SetTarget(EmoBridgeAssets.Tables.ParseEmotion(startEmotion), 0f);
                }
                return emotion;
            }
        }

        /// <summary>The rig profile in use.</summary>
        public RigMapper Rig
        {
            get
            {
                if (rig == null) rig = EmoBridgeAssets.Rig(rigProfile, customRigProfile);
                return rig;
            }
        }

        /// <summary>Shows an ARKit frame (52 weights in 0..1, head and eye rotations) from the next LateUpdate.</summary>
        public void Show(FaceFrame frame)
        {
            latest.CopyFrom(frame);
            hasFrame = true;
        }

        void Awake()
        {
            if (faceRenderer == null) faceRenderer = GetComponentInChildren<SkinnedMeshRenderer>();
            BindMesh();
            head = new BoneDriver(headBone, transform);
            leftEye = new BoneDriver(leftEyeBone, transform);
            rightEye = new BoneDriver(rightEyeBone, transform);
        }

        void BindMesh()
        {
            target = new float[Rig.Count];
            shown = new float[Rig.Count];
            shapeIndices = new int[Rig.Count];
            if (faceRenderer == null || faceRenderer.sharedMesh == null)
            {
                Debug.LogError("EmoBridge: EmoBridgeFace needs a SkinnedMeshRenderer with a mesh", this);
                enabled = false;
                return;
            }
            var missing = new List<string>();
            for (int i = 0; i < shapeIndices.Length; i++)
            {
                shapeIndices[i] = faceRenderer.sharedMesh.GetBlendShapeIndex(Rig.ShapeNames[i]);
                if (shapeIndices[i] < 0) missing.Add(Rig.ShapeNames[i]);
            }
            if (missing.Count == shapeIndices.Length)
                Debug.LogError("EmoBridge: the mesh has none of the shapes of rig profile '" + Rig.Name + "'; pick the profile that matches its blendshape names", this);
            else if (missing.Count > 0)
                Debug.Log("EmoBridge: mesh lacks " + missing.Count + " shapes of '" + Rig.Name + "' (not driven): " + string.Join(", ", missing.ToArray()), this);
        }

        void Update()
        {
            Emotion.Step(Time.deltaTime);
        }

        // LateUpdate: after the Animator, so the face wins over body animation on the same mesh.
        void LateUpdate()
        {
            if (!hasFrame) return;
            Rig.Apply(latest.Weights, target);
            WeightSmoother.Smooth(shown, target, shown.Length, Time.deltaTime, smoothingSeconds);
            for (int i = 0; i < shapeIndices.Length; i++)
                if (shapeIndices[i] >= 0) faceRenderer.SetBlendShapeWeight(shapeIndices[i], shown[i] * 100f * intensity);
            head.Apply(latest.Head, headMotion);
            leftEye.Apply(latest.LeftEye, 1f);
            rightEye.Apply(latest.RightEye, 1f);
        }

        /// <summary>Rotates one bone by a sidecar rotation given in the character's axes (this object's
        /// frame: y up, z forward), on top of the bone's rest pose so body animation still composes.</summary>
        struct BoneDriver
        {
            readonly Transform bone;
            readonly Quaternion restLocal, restInCharacter;

            public BoneDriver(Transform bone, Transform character)
            {
                this.bone = bone;
                restLocal = bone != null ? bone.localRotation : Quaternion.identity;
                restInCharacter = bone != null ? Quaternion.Inverse(character.rotation) * bone.rotation : Quaternion.identity;
            }

            public void Apply(FaceRotation r, float scale)
            {
                if (bone == null) return;
                float x, y, z;
                FaceRotations.ToUnityEuler(r, scale, out x, out y, out z);
                Quaternion delta = Quaternion.Euler(x, y, z);
                bone.localRotation = restLocal * (Quaternion.Inverse(restInCharacter) * delta * restInCharacter);
            }
        }
    }
}
