// Where the mono test run finds its inputs (set by Tests/run_mono_tests.sh).
using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace EmoBridge.Tests
{
    static class TestData
    {
        static FaceTables tables;
        static JsonObject expected;

        /// <summary>The package root (EMOBRIDGE_PACKAGE).</summary>
        public static string Package { get { return Env("EMOBRIDGE_PACKAGE"); } }

        /// <summary>The package's copy of face_tables.json.</summary>
        public static FaceTables Tables
        {
            get
            {
                if (tables == null) tables = FaceTables.Parse(File.ReadAllText(Path.Combine(Package, "Runtime/Resources/EmoBridge/face_tables.json")));
                return tables;
            }
        }

        /// <summary>Values computed by the Python SDK (Tests/make_expected.py).</summary>
        public static JsonObject Expected
        {
            get
            {
                if (expected == null) expected = (JsonObject)Json.Parse(File.ReadAllText(Env("EMOBRIDGE_EXPECTED")));
                return expected;
            }
        }

        public static string Profile(string name)
        {
            return File.ReadAllText(Path.Combine(Package, "Runtime/Resources/EmoBridge/RigProfiles/" + name + ".json"));
        }

        public static float[] Floats(object list)
        {
            return ((List<object>)list).ConvertAll(x => (float)(double)x).ToArray();
        }

        public static string Env(string name)
        {
            string value = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(value)) Assert.Ignore(name + " is not set (run Tests/run_mono_tests.sh)");
            return value;
        }
    }
}
