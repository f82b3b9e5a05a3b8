// The continuous emotion that gameplay scripts set. The sidecar does the authoritative blend
// (critically damped, per frame, together with the lip sync); this class holds the target, tells
// streams about changes, and follows the same curve locally so scripts can read where the face is.
// A valence/arousal target is sent to the sidecar as the point itself (the sidecar's mapping is the
// reference); it is also mapped here, with the same tables, only for Target/Current/Valence/Arousal.
using System;
using System.Globalization;
using System.Text;

namespace EmoBridge
{
    /// <summary>Intensities in 0..1 over the emotion basis (FaceTables.Emotions order); zero = neutral.
    /// Immutable.</summary>
    public sealed class EmotionVector : IEquatable<EmotionVector>
    {
        readonly float[] values;

        /// <summary>Wraps a copy of <paramref name="values"/> (one per basis emotion), clipped to 0..1.</summary>
        public EmotionVector(float[] values)
        {
            this.values = new float[values.Length];
            for (int i = 0; i < values.Length; i++) this.values[i] = Math.Max(0f, Math.Min(1f, values[i]));
        }

        /// <summary>The neutral vector for a basis of <paramref name="count"/> emotions.</summary>
        public static EmotionVector Neutral(int count) { return new EmotionVector(new float[count]); }

        /// <summary>Number of basis emotions.</summary>
        public int Count { get { return values.Length; } }

        /// <summary>Intensity of basis emotion <paramref name="index"/>.</summary>
        public float this[int index] { get { return values[index]; } }

        /// <summary>A copy of the intensities.</summary>
        public float[] ToArray() { return (float[])values.Clone(); }

        /// <summary>(1 - t) a + t b.</summary>
        public static EmotionVector Lerp(EmotionVector a, EmotionVector b, float t)
        {
            var r = new float[a.Count];
            for (int i = 0; i < r.Length; i++) r[i] = a[i] + (b[i] - a[i]) * t;
            return new EmotionVector(r);
        }

        /// <summary>Largest per-emotion difference.</summary>
        public static float Distance(EmotionVector a, EmotionVector b)
        {
            float d = 0f;
            for (int i = 0; i < a.Count; i++) d = Math.Max(d, Math.Abs(a[i] - b[i]));
            return d;
        }

        /// <inheritdoc/>
        public bool Equals(EmotionVector other)
        {
            return other != null && other.Count == Count && Distance(this, other) == 0f;
        }

        /// <inheritdoc/>
        public override bool Equals(object obj) { return Equals(obj as EmotionVector); }

        /// <inheritdoc/>
        public override int GetHashCode()
        {
            int h = 17;
            foreach (float v in values) h = h * 31 + v.GetHashCode();
            return h;
        }

        /// <summary>"happy=0.7,surprise=0.2" with the basis names (the form ParseEmotion reads).</summary>
        public string ToString(FaceTables tables)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < values.Length; i++)
                if (values[i] > 1e-4f)
                    sb.Append(sb.Length > 0 ? "," : "").Append(tables.Emotions[i]).Append('=')
                      .Append(values[i].ToString("0.###", CultureInfo.InvariantCulture));
            return sb.Length > 0 ? sb.ToString() : "neutral";
        }
    }

    /// <summary>Arguments of <see cref="EmotionState.Changed"/>.</summary>
    public sealed class EmotionChange : EventArgs
    {
        /// <summary>The new target.</summary>
        public EmotionVector Target { get; private set; }
        /// <summary>Seconds to blend to it (0 = a cut).</summary>
        public float TransitionSeconds { get; private set; }
        /// <summary>True when the target was set as a (valence, arousal) point: streams send the point
        /// (<see cref="Valence"/>, <see cref="Arousal"/>) and the sidecar maps it; <see cref="Target"/> is
        /// the same point mapped locally.</summary>
        public bool HasValenceArousal { get; private set; }
        /// <summary>Valence in -1..1 (when <see cref="HasValenceArousal"/>).</summary>
        public float Valence { get; private set; }
        /// <summary>Arousal in -1..1 (when <see cref="HasValenceArousal"/>).</summary>
        public float Arousal { get; private set; }

        internal EmotionChange(EmotionVector target, float transitionSeconds)
        {
            Target = target;
            TransitionSeconds = transitionSeconds;
        }

        internal EmotionChange(EmotionVector target, float transitionSeconds, float valence, float arousal)
            : this(target, transitionSeconds)
        {
            HasValenceArousal = true;
            Valence = valence;
            Arousal = arousal;
        }
    }

    /// <summary>The emotion a character should show: a target vector that scripts set or blend, and the
    /// value in effect following it with a critically damped response (the sidecar's curve).</summary>
    public sealed class EmotionState
    {
        // (1 + x) e^-x = 0.1: a transition of T seconds covers 90% of a step (as the sidecar's DampedEmotion).
        const double NinetyPercent = 3.889720169867429;

        readonly FaceTables tables;
        double[] value, velocity;
        double omega = double.PositiveInfinity;

        /// <summary>Default transition when a caller passes a negative time (the sidecar's default).</summary>
        public const float DefaultTransitionSeconds = 0.3f;

        /// <summary>Raised when the target changes (streams forward it to the sidecar).</summary>
        public event EventHandler<EmotionChange> Changed;

        /// <summary>The emotion being blended towards.</summary>
        public EmotionVector Target { get; private set; }

        /// <summary>The emotion in effect now (advanced by <see cref="Step"/>).</summary>
        public EmotionVector Current { get; private set; }

        /// <summary>The change that set <see cref="Target"/> (null before any): a stream opened later sends
        /// it again, so a valence/arousal target reaches the sidecar as the point.</summary>
        public EmotionChange LastChange { get; private set; }

        /// <summary>Tables that name the basis.</summary>
        public FaceTables Tables { get { return tables; } }

        /// <summary>Starts neutral.</summary>
        public EmotionState(FaceTables tables)
        {
            this.tables = tables;
            value = new double[tables.Emotions.Count];
            velocity = new double[value.Length];
            Target = Current = EmotionVector.Neutral(value.Length);
        }

        /// <summary>Replaces the target with one emotion, e.g. Set("happy", 0.7f, 0.5f). Names are basis
        /// names or aliases ("joy", "anger", ...); "neutral" clears.</summary>
        public void Set(string name, float intensity, float transitionSeconds = DefaultTransitionSeconds)
        {
            SetTarget(tables.Emotion(name, intensity), transitionSeconds);
        }

        /// <summary>Changes one emotion and keeps the others (mixing, e.g. happy 0.6 + surprise 0.3).</summary>
        public void Blend(string name, float intensity, float transitionSeconds = DefaultTransitionSeconds)
        {
            EmotionVector one = tables.Emotion(name, 1f);
            var t = Target.ToArray();
            for (int i = 0; i < t.Length; i++)
                if (one[i] > 0f) t[i] = one[i] * intensity;
            SetTarget(new EmotionVector(t), transitionSeconds);
        }

        /// <summary>Moves the target a fraction <paramref name="weight"/> (0..1) of the way to
        /// <paramref name="other"/>.</summary>
        public void Blend(EmotionVector other, float weight, float transitionSeconds = DefaultTransitionSeconds)
        {
            SetTarget(EmotionVector.Lerp(Target, other, Math.Max(0f, Math.Min(1f, weight))), transitionSeconds);
        }

        /// <summary>Target from a (valence, arousal) point in -1..1. Streams send the point and the sidecar maps
        /// it; <see cref="Target"/> holds the same mapping done here (for scripts and <see cref="Current"/>).</summary>
        public void SetValenceArousal(float valence, float arousal, float transitionSeconds = DefaultTransitionSeconds)
        {
            EmotionVector target = tables.FromValenceArousal(valence, arousal);  // also rejects values outside -1..1
            Apply(target, transitionSeconds, (t, s) => new EmotionChange(t, s, valence, arousal));
        }

        /// <summary>Back to neutral.</summary>
        public void Neutral(float transitionSeconds = DefaultTransitionSeconds)
        {
            SetTarget(EmotionVector.Neutral(value.Length), transitionSeconds);
        }

        /// <summary>Approximate valence (-1..1) of the emotion in effect.</summary>
        public float Valence { get { float v, a; tables.ValenceArousalOf(Current, out v, out a); return v; } }

        /// <summary>Approximate arousal (-1..1) of the emotion in effect.</summary>
        public float Arousal { get { float v, a; tables.ValenceArousalOf(Current, out v, out a); return a; } }

        /// <summary>Sets the target; a negative transition uses the default, 0 cuts.</summary>
        public void SetTarget(EmotionVector target, float transitionSeconds = DefaultTransitionSeconds)
        {
            Apply(target, transitionSeconds, (t, s) => new EmotionChange(t, s));
        }

        void Apply(EmotionVector target, float transitionSeconds, Func<EmotionVector, float, EmotionChange> change)
        {
            if (target == null || target.Count != value.Length)
                throw new ArgumentException("emotion vector must have " + value.Length + " values");
            if (float.IsNaN(transitionSeconds) || float.IsInfinity(transitionSeconds))
                throw new ArgumentException("transition time must be a finite number of seconds");
            if (transitionSeconds < 0f) transitionSeconds = DefaultTransitionSeconds;
            Target = target;
            if (transitionSeconds == 0f)
            {
                for (int i = 0; i < value.Length; i++) { value[i] = target[i]; velocity[i] = 0; }
                omega = double.PositiveInfinity;
                Current = target;
            }
            else
            {
                omega = NinetyPercent / transitionSeconds;
            }
            LastChange = change(target, transitionSeconds);
            var handler = Changed;
            if (handler != null) handler(this, LastChange);
        }

        /// <summary>Advances the local follower by <paramref name="dt"/> seconds (exact closed form, so
        /// the result does not depend on the frame rate) and returns <see cref="Current"/>.</summary>
        public EmotionVector Step(double dt)
        {
            var current = new float[value.Length];
            for (int i = 0; i < value.Length; i++)
            {
                if (double.IsPositiveInfinity(omega))
                {
                    value[i] = Target[i];
                    velocity[i] = 0;
                }
                else
                {
                    double err = value[i] - Target[i];
                    double decay = Math.Exp(-omega * dt);
                    double tmp = (velocity[i] + omega * err) * dt;
                    value[i] = Target[i] + (err + tmp) * decay;
                    velocity[i] = (velocity[i] - omega * tmp) * decay;
                }
                current[i] = (float)value[i];
            }
            Current = new EmotionVector(current);
            return Current;
        }
    }
}
