using System.Collections.Generic;
using UnityEngine;

namespace EmoBridge
{
    /// <summary>The shared tables and built-in rig profiles shipped in Resources/EmoBridge (copies of
    /// sdk_python/emobridge/face_tables.json and rig/profiles/*.json), loaded once.</summary>
    public static class EmoBridgeAssets
    {
        static FaceTables tables;
        static readonly Dictionary<string, RigMapper> profiles = new Dictionary<string, RigMapper>();

        /// <summary>ARKit names and the emotion space.</summary>
        public static FaceTables Tables
        {
            get
            {
                if (tables == null) tables = FaceTables.Parse(Load("EmoBridge/face_tables").text);
                return tables;
            }
        }

        /// <summary>A built-in rig profile by file name (arkit, ict_facekit, vrm_perfect_sync,
        /// metahuman_arkit), or a custom profile when <paramref name="custom"/> is set.</summary>
        public static RigMapper Rig(string builtIn, TextAsset custom = null)
        {
            if (custom != null) return RigMapper.Parse(custom.text, Tables, custom.name);
            string key = string.IsNullOrEmpty(builtIn) ? "arkit" : builtIn;
            RigMapper rig;
            if (!profiles.TryGetValue(key, out rig))
                profiles[key] = rig = RigMapper.Parse(Load("EmoBridge/RigProfiles/" + key).text, Tables, key);
            return rig;
        }

        static TextAsset Load(string path)
        {
            var asset = Resources.Load<TextAsset>(path);
            if (asset == null) throw new System.IO.FileNotFoundException("EmoBridge: Resources/" + path + ".json is missing from the package");
            return asset;
        }
    }
}
