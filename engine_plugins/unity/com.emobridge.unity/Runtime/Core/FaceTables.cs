// The shared face tables (ARKit names, emotion basis, aliases, valence/arousal) read at run time from
// face_tables.json, the one source every language uses. The package ships a copy in
// Runtime/Resources/EmoBridge/ made by Tools~/sync_shared_data.py; CI fails when the copy drifts.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace EmoBridge
{
    /// <summary>ARKit blendshape names and the emotion space, parsed from face_tables.json.</summary>
    public sealed class FaceTables
    {
        readonly string[] arkitNames;
        readonly Dictionary<string, int> arkitByKey = new Dictionary<string, int>();
        readonly string[] emotions;
        readonly Dictionary<string, float[]> aliases = new Dictionary<string, float[]>();
        readonly double[][] valenceArousal;
        readonly int[] eyeLook;  // eyeLook Out, In, Up, Down of the left eye, then of the right
        readonly float eyeYawPerWeight, eyePitchPerWeight;

        /// <summary>The 52 ARKit names in canonical (Live Link Face) order.</summary>
        public IList<string> ArkitNames { get { return Array.AsReadOnly(arkitNames); } }

        /// <summary>The emotion basis (happy, sad, ...) in the order of every emotion vector.</summary>
        public IList<string> Emotions { get { return Array.AsReadOnly(emotions); } }

        FaceTables(JsonObject doc)
        {
            arkitNames = Strings(doc.Get("arkit_names"), "arkit_names");
            for (int i = 0; i < arkitNames.Length; i++) arkitByKey[BlendshapeKey(arkitNames[i])] = i;
            emotions = Strings(doc.Get("emotions"), "emotions");
            var aliasDoc = doc.Get("emotion_aliases") as JsonObject;
            if (aliasDoc != null)
                foreach (var pair in aliasDoc)
                {
                    var shares = new float[emotions.Length];
                    foreach (var share in (JsonObject)pair.Value)
                        shares[IndexOfBasis(share.Key)] = (float)(double)share.Value;
                    aliases[pair.Key] = shares;
                }
            var va = (JsonObject)doc.Get("emotion_valence_arousal");
            valenceArousal = new double[emotions.Length][];
            for (int i = 0; i < emotions.Length; i++)
            {
                var point = (List<object>)va.Get(emotions[i]);
                valenceArousal[i] = new[] { (double)point[0], (double)point[1] };
            }
            var degrees = (JsonObject)doc.Get("eye_look_degrees");
            eyeYawPerWeight = (float)((double)degrees.Get("horizontal") * Math.PI / 180);
            eyePitchPerWeight = (float)((double)degrees.Get("vertical") * Math.PI / 180);
            eyeLook = new int[8];
            string[] looks = { "Out", "In", "Up", "Down" };
            for (int i = 0; i < 8; i++) eyeLook[i] = IndexOfBlendshape("eyeLook" + looks[i % 4] + (i < 4 ? "Left" : "Right"));
        }

        /// <summary>Parses the text of face_tables.json.</summary>
        public static FaceTables Parse(string json)
        {
            var doc = Json.Parse(json) as JsonObject;
            if (doc == null) throw new FormatException("face_tables.json: expected an object");
            return new FaceTables(doc);
        }

        // ---- blendshape names -------------------------------------------------------------------

        /// <summary>Index in canonical order of any ARKit spelling (eyeBlink_L, EyeBlinkLeft,
        /// eye_blink_left, blendShape.eyeBlinkLeft), or -1 when it is not an ARKit name.</summary>
        public int IndexOfBlendshape(string name)
        {
            int index;
            return arkitByKey.TryGetValue(BlendshapeKey(name), out index) ? index : -1;
        }

        // Same normalisation as emobridge.rig.canonical_name: last '.'-part, _L/_R -> left/right, a-z only.
        static string BlendshapeKey(string name)
        {
            string s = name.Substring(name.LastIndexOf('.') + 1).Trim();
            if (s.EndsWith("_L", StringComparison.Ordinal)) s = s.Substring(0, s.Length - 2) + "left";
            else if (s.EndsWith("_R", StringComparison.Ordinal)) s = s.Substring(0, s.Length - 2) + "right";
            var sb = new StringBuilder(s.Length);
            foreach (char c in s.ToLowerInvariant())
                if (c >= 'a' && c <= 'z') sb.Append(c);
            return sb.ToString();
        }

        // ---- eyes -----------------------------------------------------------------------------------

        /// <summary>The gaze of a frame's eyeLook weights (canonical ARKit order) as eye rotations, as the
        /// sidecar sends them (emobridge.rig.eyes): radians, yaw towards the face's own left, pitch down;
        /// face_tables.json eye_look_degrees gives the angle at a weight of 1.</summary>
        public void EyeRotations(float[] arkit, out FaceRotation left, out FaceRotation right)
        {
            // The left eye turns to the face's left when it looks out, the right eye when it looks in.
            left = new FaceRotation { Yaw = (arkit[eyeLook[0]] - arkit[eyeLook[1]]) * eyeYawPerWeight,
                                      Pitch = (arkit[eyeLook[3]] - arkit[eyeLook[2]]) * eyePitchPerWeight };
            right = new FaceRotation { Yaw = (arkit[eyeLook[5]] - arkit[eyeLook[4]]) * eyeYawPerWeight,
                                       Pitch = (arkit[eyeLook[7]] - arkit[eyeLook[6]]) * eyePitchPerWeight };
        }

        // ---- emotions -----------------------------------------------------------------------------

        /// <summary>The vector of one named emotion (basis name or alias, any case; "neutral" = zero)
        /// at <paramref name="intensity"/> in 0..1. Throws ArgumentException naming what is accepted.</summary>
        public EmotionVector Emotion(string name, float intensity)
        {
            if (float.IsNaN(intensity) || intensity < 0f || intensity > 1f)
                throw new ArgumentException("emotion '" + name + "': intensity must be in 0..1, got " + intensity);
            var values = new float[emotions.Length];
            float[] shares = SharesOf(name);
            for (int i = 0; i < values.Length; i++) values[i] = Math.Min(1f, shares[i] * intensity);
            return new EmotionVector(values);
        }

        /// <summary>"happy=0.7,surprise=0.2" (a bare name means 1; empty or "neutral" = zero), summed
        /// and clipped to 1 per basis emotion like the sidecar's --emotion option.</summary>
        public EmotionVector ParseEmotion(string text)
        {
            var sum = new float[emotions.Length];
            foreach (string part in (text ?? "").Split(','))
            {
                string item = part.Trim();
                if (item.Length == 0) continue;
                int eq = item.IndexOf('=');
                string name = eq < 0 ? item : item.Substring(0, eq).Trim();
                float value = 1f;
                if (eq >= 0 && !float.TryParse(item.Substring(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out value))
                    throw new ArgumentException("emotion '" + name + "': '" + item.Substring(eq + 1) + "' is not a number (write name=0.7)");
                EmotionVector one = Emotion(name, value);
                for (int i = 0; i < sum.Length; i++) sum[i] += one[i];
            }
            for (int i = 0; i < sum.Length; i++) sum[i] = Math.Min(1f, sum[i]);
            return new EmotionVector(sum);
        }

        /// <summary>A (valence, arousal) point in [-1, 1]^2 on the basis, exactly as the sidecar maps it:
        /// the point's direction shares its strength (distance, capped at 1) among the emotions it points
        /// towards with weights cos(angle)^4.</summary>
        public EmotionVector FromValenceArousal(float valence, float arousal)
        {
            if (!(valence >= -1f && valence <= 1f && arousal >= -1f && arousal <= 1f))
                throw new ArgumentException("valence and arousal must be in -1..1");
            double length = Math.Sqrt((double)valence * valence + (double)arousal * arousal);
            var values = new float[emotions.Length];
            if (length < 1e-6) return new EmotionVector(values);
            double strength = Math.Min(1.0, length), total = 0;
            var weights = new double[emotions.Length];
            for (int i = 0; i < emotions.Length; i++)
            {
                double[] p = valenceArousal[i];
                double cos = (valence * p[0] + arousal * p[1]) / (length * Math.Sqrt(p[0] * p[0] + p[1] * p[1]));
                weights[i] = Math.Pow(Math.Max(0.0, cos), 4);
                total += weights[i];
            }
            for (int i = 0; i < values.Length; i++) values[i] = (float)(strength * weights[i] / total);
            return new EmotionVector(values);
        }

        /// <summary>Approximate (valence, arousal) of a vector: the intensity-weighted sum of each basis
        /// emotion's circumplex position, clipped to -1..1 (neutral is (0, 0)).</summary>
        public void ValenceArousalOf(EmotionVector emotion, out float valence, out float arousal)
        {
            double v = 0, a = 0;
            for (int i = 0; i < emotions.Length; i++)
            {
                v += emotion[i] * valenceArousal[i][0];
                a += emotion[i] * valenceArousal[i][1];
            }
            valence = (float)Math.Max(-1.0, Math.Min(1.0, v));
            arousal = (float)Math.Max(-1.0, Math.Min(1.0, a));
        }

        float[] SharesOf(string name)
        {
            string key = (name ?? "").Trim().ToLowerInvariant().Replace("-", "").Replace("_", "").Replace(" ", "");
            var shares = new float[emotions.Length];
            int basis = Array.IndexOf(emotions, key);
            if (basis >= 0) { shares[basis] = 1f; return shares; }
            float[] alias;
            if (aliases.TryGetValue(key, out alias)) return alias;
            if (key == "neutral" || key == "none" || key == "calm") return shares;
            var known = new List<string>(aliases.Keys);
            known.Sort(StringComparer.Ordinal);
            throw new ArgumentException("unknown emotion '" + name + "'; known: " + string.Join(", ", emotions) +
                                        " (aliases: " + string.Join(", ", known.ToArray()) + "; or neutral)");
        }

        int IndexOfBasis(string name)
        {
            int i = Array.IndexOf(emotions, name);
            if (i < 0) throw new FormatException("face_tables.json: alias names unknown emotion '" + name + "'");
            return i;
        }

        static string[] Strings(object value, string what)
        {
            var list = value as List<object>;
            if (list == null) throw new FormatException("face_tables.json: '" + what + "' must be a list");
            return list.ConvertAll(x => (string)x).ToArray();
        }
    }
}
