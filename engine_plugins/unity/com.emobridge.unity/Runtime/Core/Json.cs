// A small JSON reader for the shared tables and rig profiles. The core has no UnityEngine
// reference, and Unity's JsonUtility cannot read dictionaries or keep key order (rig profiles
// list shapes in output order), so the core parses JSON itself.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace EmoBridge
{
    /// <summary>A JSON object that keeps its keys in document order.</summary>
    public sealed class JsonObject : List<KeyValuePair<string, object>>
    {
        /// <summary>The value of <paramref name="key"/>, or null when absent.</summary>
        public object Get(string key)
        {
            foreach (var pair in this)
                if (pair.Key == key) return pair.Value;
            return null;
        }

        /// <summary>True when the object has <paramref name="key"/>.</summary>
        public bool Has(string key)
        {
            foreach (var pair in this)
                if (pair.Key == key) return true;
            return false;
        }
    }

    /// <summary>Parses JSON text into JsonObject, List&lt;object&gt;, double, string, bool or null.</summary>
    public static class Json
    {
        /// <summary>Parses a whole JSON document; throws FormatException with the offset on bad input.</summary>
        public static object Parse(string text)
        {
            int at = 0;
            object value = ReadValue(text, ref at);
            SkipSpace(text, ref at);
            if (at != text.Length) throw Error(text, at, "trailing characters");
            return value;
        }

        static object ReadValue(string s, ref int at)
        {
            SkipSpace(s, ref at);
            if (at >= s.Length) throw Error(s, at, "unexpected end");
            char c = s[at];
            if (c == '{') return ReadObject(s, ref at);
            if (c == '[') return ReadArray(s, ref at);
            if (c == '"') return ReadString(s, ref at);
            if (Word(s, ref at, "true")) return true;
            if (Word(s, ref at, "false")) return false;
            if (Word(s, ref at, "null")) return null;
            return ReadNumber(s, ref at);
        }

        static JsonObject ReadObject(string s, ref int at)
        {
            var obj = new JsonObject();
            at++;
            SkipSpace(s, ref at);
            if (at < s.Length && s[at] == '}') { at++; return obj; }
            while (true)
            {
                SkipSpace(s, ref at);
                if (at >= s.Length || s[at] != '"') throw Error(s, at, "expected a key");
                string key = ReadString(s, ref at);
                SkipSpace(s, ref at);
                if (at >= s.Length || s[at] != ':') throw Error(s, at, "expected ':'");
                at++;
                obj.Add(new KeyValuePair<string, object>(key, ReadValue(s, ref at)));
                SkipSpace(s, ref at);
                if (at < s.Length && s[at] == ',') { at++; continue; }
                if (at < s.Length && s[at] == '}') { at++; return obj; }
                throw Error(s, at, "expected ',' or '}'");
            }
        }

        static List<object> ReadArray(string s, ref int at)
        {
            var list = new List<object>();
            at++;
            SkipSpace(s, ref at);
            if (at < s.Length && s[at] == ']') { at++; return list; }
            while (true)
            {
                list.Add(ReadValue(s, ref at));
                SkipSpace(s, ref at);
                if (at < s.Length && s[at] == ',') { at++; continue; }
                if (at < s.Length && s[at] == ']') { at++; return list; }
                throw Error(s, at, "expected ',' or ']'");
            }
        }

        static string ReadString(string s, ref int at)
        {
            var sb = new StringBuilder();
            at++;
            while (at < s.Length)
            {
                char c = s[at++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (at >= s.Length) break;
                char e = s[at++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u':
                        if (at + 4 > s.Length) throw Error(s, at, "bad \\u escape");
                        sb.Append((char)int.Parse(s.Substring(at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        at += 4;
                        break;
                    default: sb.Append(e); break;
                }
            }
            throw Error(s, at, "unterminated string");
        }

        static double ReadNumber(string s, ref int at)
        {
            int start = at;
            while (at < s.Length && "+-0123456789.eE".IndexOf(s[at]) >= 0) at++;
            double value;
            if (at == start || !double.TryParse(s.Substring(start, at - start), NumberStyles.Float,
                                                CultureInfo.InvariantCulture, out value))
                throw Error(s, start, "expected a value");
            return value;
        }

        static bool Word(string s, ref int at, string word)
        {
            if (string.CompareOrdinal(s, at, word, 0, word.Length) != 0) return false;
            at += word.Length;
            return true;
        }

        static void SkipSpace(string s, ref int at)
        {
            while (at < s.Length && char.IsWhiteSpace(s[at])) at++;
        }

        static FormatException Error(string s, int at, string what)
        {
            return new FormatException("JSON: " + what + " at offset " + at);
        }
    }
}
