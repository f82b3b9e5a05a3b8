// Rig profiles: how ARKit-52 weights become one rig's blendshape values. The profiles are the JSON
// files of sdk_python/emobridge/rig/profiles (shipped here as copies, see FaceTables.cs); the
// semantics are emobridge.rig.profile.RigProfile.apply, which the tests compare against:
//   value = clamp(combine(sources) * gain + offset, min, max); combine = mean | max | sum.
using System;
using System.Collections.Generic;

namespace EmoBridge
{
    /// <summary>A parsed rig profile that maps ARKit frames to a rig's shapes (rename, split, combine,
    /// gain, offset, clamp).</summary>
    public sealed class RigMapper
    {
        enum Combine { Mean, Max, Sum }

        sealed class Shape
        {
            public string Name;
            public int[] Sources;
            public Combine Combine;
            public double Gain = 1, Offset = 0, Min = 0, Max = 1;
        }

        readonly Shape[] shapes;

        /// <summary>The profile's display name.</summary>
        public string Name { get; private set; }

        /// <summary>The rig's shape names, in output order.</summary>
        public IList<string> ShapeNames
        {
            get { return Array.AsReadOnly(Array.ConvertAll(shapes, s => s.Name)); }
        }

        /// <summary>Number of output values.</summary>
        public int Count { get { return shapes.Length; } }

        RigMapper(string name, Shape[] shapes)
        {
            Name = name;
            this.shapes = shapes;
        }

        /// <summary>Parses a profile JSON document; throws FormatException naming the shape at fault.</summary>
        public static RigMapper Parse(string json, FaceTables tables, string origin = "rig profile")
        {
            var doc = Json.Parse(json) as JsonObject;
            var shapeDoc = doc == null ? null : doc.Get("shapes") as JsonObject;
            if (shapeDoc == null || shapeDoc.Count == 0)
                throw new FormatException(origin + ": needs an object with a non-empty 'shapes' object");
            var shapes = new List<Shape>();
            foreach (var pair in shapeDoc) shapes.Add(ParseShape(pair.Key, pair.Value, tables, origin));
            object name = doc.Get("name");
            return new RigMapper(name as string ?? origin, shapes.ToArray());
        }

        /// <summary>The identity profile: the 52 ARKit names in canonical order.</summary>
        public static RigMapper Identity(FaceTables tables)
        {
            var shapes = new Shape[tables.ArkitNames.Count];
            for (int i = 0; i < shapes.Length; i++)
                shapes[i] = new Shape { Name = tables.ArkitNames[i], Sources = new[] { i } };
            return new RigMapper("ARKit 52", shapes);
        }

        /// <summary>Maps one ARKit frame (52 weights, canonical order, 0..1) into
        /// <paramref name="output"/>[0..Count).</summary>
        public void Apply(float[] arkit, float[] output)
        {
            if (output.Length < shapes.Length) throw new ArgumentException("output needs " + shapes.Length + " values");
            for (int j = 0; j < shapes.Length; j++)
            {
                Shape s = shapes[j];
                double v = s.Combine == Combine.Max ? double.NegativeInfinity : 0.0;
                foreach (int i in s.Sources)
                    v = s.Combine == Combine.Max ? Math.Max(v, arkit[i]) : v + arkit[i];
                if (s.Combine == Combine.Mean) v /= s.Sources.Length;
                v = v * s.Gain + s.Offset;
                output[j] = (float)Math.Max(s.Min, Math.Min(s.Max, v));
            }
        }

        static Shape ParseShape(string name, object spec, FaceTables tables, string origin)
        {
            string where = origin + ": shape '" + name + "'";
            if (spec is string)
            {
                var single = new JsonObject();
                single.Add(new KeyValuePair<string, object>("from", spec));
                spec = single;
            }
            var obj = spec as JsonObject;
            if (obj == null || !obj.Has("from"))
                throw new FormatException(where + " must be an ARKit name or an object with 'from'");
            foreach (var pair in obj)
                if (Array.IndexOf(new[] { "from", "combine", "gain", "offset", "min", "max" }, pair.Key) < 0)
                    throw new FormatException(where + " has unknown key '" + pair.Key + "'");
            object from = obj.Get("from");
            var names = from is List<object> ? (List<object>)from : new List<object> { from };
            if (names.Count == 0) throw new FormatException(where + ": 'from' must be an ARKit name or a non-empty list");
            var shape = new Shape { Name = name, Sources = new int[names.Count] };
            for (int k = 0; k < names.Count; k++)
            {
                int index = names[k] is string ? tables.IndexOfBlendshape((string)names[k]) : -1;
                if (index < 0) throw new FormatException(where + ": unknown ARKit name '" + names[k] + "'");
                shape.Sources[k] = index;
            }
            string combine = obj.Get("combine") as string ?? "mean";
            if (combine == "mean") shape.Combine = Combine.Mean;
            else if (combine == "max") shape.Combine = Combine.Max;
            else if (combine == "sum") shape.Combine = Combine.Sum;
            else throw new FormatException(where + ": 'combine' must be mean, max or sum, got '" + combine + "'");
            shape.Gain = Number(obj, "gain", 1, where);
            shape.Offset = Number(obj, "offset", 0, where);
            shape.Min = Number(obj, "min", 0, where);
            shape.Max = Number(obj, "max", 1, where);
            if (shape.Min > shape.Max) throw new FormatException(where + ": 'min' is above 'max'");
            return shape;
        }

        static double Number(JsonObject obj, string key, double fallback, string where)
        {
            if (!obj.Has(key)) return fallback;
            object v = obj.Get(key);
            if (!(v is double) || double.IsNaN((double)v) || double.IsInfinity((double)v))
                throw new FormatException(where + ": '" + key + "' must be a number");
            return (double)v;
        }
    }
}
