using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using UnityEditor;
using UnityEngine;

namespace EmoBridge.Editor
{
    /// <summary>Window > EmoBridge > Bake Clips: bakes the selected AudioClips to AnimationClips (.anim)
    /// through the sidecar's Bake call (`emobridge bake --server ADDRESS`; empty address = the same bake in
    /// the CLI's own process), then `emobridge export unity-anim` (the export tools' .anim writer), and
    /// imports them next to the audio.</summary>
    public sealed class BakeWindow : EditorWindow
    {
        const string ExecutableKey = "EmoBridge.Executable";
        const string ServerKey = "EmoBridge.BakeServer";

        [SerializeField] List<AudioClip> clips = new List<AudioClip>();
        [SerializeField] TextAsset transcript;
        [SerializeField] string emotion = "";
        [SerializeField] TextAsset emotionTrack;
        [SerializeField] string rigProfile = "arkit";
        [SerializeField] string rendererPath = "Face";
        [SerializeField] int fps = 60;
        [SerializeField] bool recognizeWords;
        Vector2 scroll;

        [MenuItem("Window/EmoBridge/Bake Clips")]
        static void Open() { GetWindow<BakeWindow>("EmoBridge Bake"); }

        void OnGUI()
        {
            string exe = EditorPrefs.GetString(ExecutableKey, "emobridge");
            string newExe = EditorGUILayout.TextField("emobridge CLI", exe);
            if (newExe != exe) EditorPrefs.SetString(ExecutableKey, newExe);
            string server = EditorPrefs.GetString(ServerKey, "localhost:50051");
            string newServer = EditorGUILayout.TextField("Sidecar (empty = local)", server);
            if (newServer != server) EditorPrefs.SetString(ServerKey, newServer);

            if (GUILayout.Button("Use selected AudioClips"))
            {
                clips.Clear();
                foreach (Object o in Selection.objects)
                    if (o is AudioClip) clips.Add((AudioClip)o);
            }
            scroll = EditorGUILayout.BeginScrollView(scroll, GUILayout.Height(120));
            foreach (AudioClip clip in clips) EditorGUILayout.LabelField(clip != null ? clip.name : "(missing)");
            EditorGUILayout.EndScrollView();

            transcript = (TextAsset)EditorGUILayout.ObjectField("Transcript (one clip)", transcript, typeof(TextAsset), false);
            emotion = EditorGUILayout.TextField("Emotion (happy=0.7)", emotion);
            emotionTrack = (TextAsset)EditorGUILayout.ObjectField("Emotion track JSON", emotionTrack, typeof(TextAsset), false);
            rigProfile = EditorGUILayout.TextField("Rig profile", rigProfile);
            rendererPath = EditorGUILayout.TextField("Renderer path", rendererPath);
            fps = EditorGUILayout.IntField("FPS", fps);
            // Clips without a transcript: also recognise the words and seal the lips on their p/b/m
            // (better lip closure on real voices; about 8x real time instead of hundreds).
            recognizeWords = EditorGUILayout.Toggle("Recognise words (slower)", recognizeWords);

            using (new EditorGUI.DisabledScope(clips.Count == 0))
                if (GUILayout.Button("Bake " + clips.Count + " clip(s)")) BakeAll(newExe, newServer);
        }

        void BakeAll(string exe, string server)
        {
            int done = 0;
            var failures = new List<string>();
            try
            {
                for (int i = 0; i < clips.Count; i++)
                {
                    AudioClip clip = clips[i];
                    if (clip == null) continue;
                    if (EditorUtility.DisplayCancelableProgressBar("EmoBridge bake", clip.name + " (" + (i + 1) + "/" + clips.Count + ")",
                                                                  i / (float)clips.Count))
                        break;
                    string error = Bake(exe, server, clip);
                    if (error == null) done++;
                    else failures.Add(clip.name + ": " + error);
                }
            }
            finally
            {
                EditorUtility.ClearProgressBar();
                AssetDatabase.Refresh();
            }
            foreach (string f in failures) UnityEngine.Debug.LogError("EmoBridge bake failed: " + f);
            UnityEngine.Debug.Log("EmoBridge: baked " + done + " of " + clips.Count + " clip(s)");
        }

        /// <summary>Bakes one clip next to its asset; returns null or what went wrong.</summary>
        string Bake(string exe, string server, AudioClip clip)
        {
            string audio = Path.GetFullPath(AssetDatabase.GetAssetPath(clip));
            string stem = Path.Combine(Path.GetDirectoryName(audio), Path.GetFileNameWithoutExtension(audio));
            string json = Path.Combine(Path.GetTempPath(), "emobridge-" + clip.name + ".json");
            var bake = new List<string> { "bake", audio, "-o", json, "--fps", fps.ToString() };
            if (!string.IsNullOrEmpty(server)) { bake.Add("--server"); bake.Add(server); }
            if (transcript != null && clips.Count == 1) { bake.Add("--text"); bake.Add(transcript.text); }
            if (emotionTrack != null) { bake.Add("--emotion-track"); bake.Add(Path.GetFullPath(AssetDatabase.GetAssetPath(emotionTrack))); }
            else if (!string.IsNullOrEmpty(emotion)) { bake.Add("--emotion"); bake.Add(emotion); }
            if (recognizeWords) bake.Add("--recognize");
            string error = Run(exe, bake);
            if (error != null) return error;
            return Run(exe, new List<string> { "export", "unity-anim", json, "-o", stem + ".anim", "--rig", rigProfile,
                                               "--renderer-path", rendererPath });
        }

        static string Run(string exe, List<string> args)
        {
            var info = new ProcessStartInfo(exe)
            {
                UseShellExecute = false, RedirectStandardError = true, CreateNoWindow = true,  // stdout stays unread: no pipe to fill
            };
            var quoted = new List<string>();
            foreach (string a in args) quoted.Add("\"" + a.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"");
            info.Arguments = string.Join(" ", quoted.ToArray());
            try
            {
                using (Process p = Process.Start(info))
                {
                    string err = p.StandardError.ReadToEnd();
                    p.WaitForExit();
                    return p.ExitCode == 0 ? null : err.Trim();
                }
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return "cannot run '" + exe + "' (" + e.Message + "); set the path of .venv/bin/emobridge in the window";
            }
        }
    }
}
