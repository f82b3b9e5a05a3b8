// The animation JSON (the lingua franca of bake and export: fps, blendshape_names, frames,
// optional head_rotation) as a FrameTimeline, so baked clips play through the same sampling,
// rig mapping and smoothing as live streams; eye rotations come from the eyeLook weights as the sidecar's do.
using System;
using System.Collections.Generic;

namespace EmoBridge
{
    /// <summary>A baked animation loaded from animation JSON.</summary>
    public static class BakedAnimation
    {
        /// <summary>Parses animation JSON into a timeline of ARKit frames (canonical order; names in any
        /// ARKit spelling are reordered, unknown ones ignored).</summary>
        public static FrameTimeline Parse(string json, FaceTables tables, out double durationSeconds)
        {
            var doc = Json.Parse(json) as JsonObject;
            if (doc == null) throw new FormatException("animation JSON: expected an object");
            double fps = doc.Get("fps") is double ? (double)doc.Get("fps") : 0;
            var names = doc.Get("blendshape_names") as List<object>;
            var frames = doc.Get("frames") as List<object>;
            if (fps <= 0 || names == null || frames == null)
                throw new FormatException("animation JSON: needs 'fps', 'blendshape_names' and 'frames'");
            var columns = new int[names.Count];
            for (int i = 0; i < columns.Length; i++) columns[i] = tables.IndexOfBlendshape(names[i] as string ?? "");
            var head = doc.Get("head_rotation") as List<object>;

            var timeline = new FrameTimeline(Math.Max(1, frames.Count));
            timeline.Reset(0);
            var frame = new FaceFrame { WeightCount = tables.ArkitNames.Count };
            for (int f = 0; f < frames.Count; f++)
            {
                var row = (List<object>)frames[f];
                Array.Clear(frame.Weights, 0, frame.Weights.Length);
                for (int i = 0; i < columns.Length && i < row.Count; i++)
                    if (columns[i] >= 0) frame.Weights[columns[i]] = (float)(double)row[i];
                tables.EyeRotations(frame.Weights, out frame.LeftEye, out frame.RightEye);  // as a live stream's
                frame.Index = f;
                frame.Time = f / fps;
                if (head != null && f < head.Count)
                {
                    var r = (List<object>)head[f];
                    frame.Head = new FaceRotation { Yaw = (float)(double)r[0], Pitch = (float)(double)r[1], Roll = (float)(double)r[2] };
                }
                timeline.Add(frame);
            }
            durationSeconds = frames.Count / fps;
            return timeline;
        }
    }
}
