using Jepa.Core;
using System.Text.Json.Nodes;

namespace Jepa.Training.Training;

/// <summary>A run's step-keyed JSONL logs (<c>metrics.jsonl</c>, the accuracy curve): one JSON object per line with a <c>"step"</c>.</summary>
public static class StepLog
{
    /// <summary>
    /// Drops the lines of steps after <paramref name="step"/> (written after the checkpoint a run resumes or reloads from) and a
    /// torn last line (a kill or a full disk mid-write), which would otherwise merge with the next line appended. Rewrites the
    /// file atomically, and only when something is dropped.
    /// </summary>
    public static void Trim(string path, int step)
    {
        if (!File.Exists(path)) return;
        string text = File.ReadAllText(path);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var keep = lines.Where(l => StepOf(l) is { } s && s <= step).ToArray();
        if (keep.Length != lines.Length || (text.Length > 0 && !text.EndsWith('\n')))
            AtomicFile.WriteAllText(path, keep.Length == 0 ? "" : string.Join("\n", keep) + "\n");
    }

    private static int? StepOf(string line)
    {
        try { return (int?)JsonNode.Parse(line)?["step"]; }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException) { return null; }
    }
}
