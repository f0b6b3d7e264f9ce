using System.Globalization;
using System.Text.Json;
using Jepa.Training.Evaluation;

namespace Jepa.Cli.Support;

/// <summary>The 2-D map of <c>jepa plot --embeddings</c>: the embeddings of a <c>jepa embed</c> file on their first two
/// principal components, one colour per view, each example's Text and Code joined.</summary>
public static class EmbeddingMap
{
    /// <summary>One embedding of the file.</summary>
    /// <param name="Index">The example's index (its line number when the file has none).</param>
    /// <param name="View">"text", "code", or another name the file gives.</param>
    /// <param name="Vector">The embedding.</param>
    public sealed record Entry(int Index, string View, float[] Vector);

    /// <summary>Reads <paramref name="path"/>: JSON lines each with an <c>"embedding"</c> array of numbers, and optionally
    /// <c>"view"</c> and <c>"index"</c>.</summary>
    /// <exception cref="InvalidDataException">A line is not such an object, or the embeddings differ in length; the message says file:line.</exception>
    public static IReadOnlyList<Entry> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Embeddings file '{path}' does not exist.", path);
        var entries = JsonlObjects.Read(path, (r, lineNo) =>
        {
            if (!r.TryGetProperty("embedding", out var e) || e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
                throw new InvalidDataException($"{path}:{lineNo}: expected a non-empty \"embedding\" array.");
            var v = new float[e.GetArrayLength()];
            int i = 0;
            foreach (var x in e.EnumerateArray())
            {
                if (x.ValueKind != JsonValueKind.Number || !float.IsFinite(x.GetSingle()))
                    throw new InvalidDataException($"{path}:{lineNo}: embedding element {i} is not a finite number.");
                v[i++] = x.GetSingle();
            }
            string view = r.TryGetProperty("view", out var vw) && vw.ValueKind == JsonValueKind.String ? vw.GetString()! : "text";
            int index = r.TryGetProperty("index", out var ix) && ix.ValueKind == JsonValueKind.Number && ix.TryGetInt32(out int n) ? n : lineNo - 1;
            return (Line: lineNo, Entry: new Entry(index, view, v));
        });
        foreach (var (line, entry) in entries)
            if (entry.Vector.Length != entries[0].Entry.Vector.Length)
                throw new InvalidDataException($"{path}:{line}: an embedding of {entry.Vector.Length} values, where the first's has {entries[0].Entry.Vector.Length}.");
        if (entries.Count < 2) throw new InvalidDataException($"{path}: a map needs at least two embeddings, found {entries.Count}.");
        return entries.Select(e => e.Entry).ToList();
    }

    /// <summary>Writes the map of <paramref name="path"/>'s embeddings to <paramref name="outPath"/> and says so.</summary>
    public static int Plot(string path, string outPath, CliContext context)
    {
        var entries = Read(path);
        var pca = Pca.Project(entries.Select(e => e.Vector).ToList());
        var views = entries.Select(e => e.View).Distinct().ToList();
        var positions = new Dictionary<(string View, int Index), (int Series, int Point)>();
        var points = views.Select(_ => new List<(double, double)>()).ToList();
        for (int i = 0; i < entries.Count; i++)
        {
            int s = views.IndexOf(entries[i].View);
            positions[(entries[i].View, entries[i].Index)] = (s, points[s].Count);
            points[s].Add((pca.Coordinates[i][0], pca.Coordinates[i][1]));
        }
        var links = positions.Where(p => p.Key.View == "text" && positions.ContainsKey(("code", p.Key.Index)))
            .Select(p => (p.Value, positions[("code", p.Key.Index)])).ToList();
        var series = views.Select((v, i) => new ScatterSeries($"{v} ({points[i].Count})", SvgPlot.Color(i), points[i])).ToList();
        var inv = CultureInfo.InvariantCulture;
        string pc1 = string.Create(inv, $"PC1 ({100 * pca.Explained(0):F1} % of the variance)");
        string pc2 = string.Create(inv, $"PC2 ({100 * pca.Explained(1):F1} %)");
        string svg = SvgPlot.RenderScatter($"embeddings of {Path.GetFileName(path)}: first two principal components", pc1, pc2, series,
            links.Count > 0 ? links : null);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        Jepa.Core.AtomicFile.WriteAllText(outPath, svg);
        var spreads = views.Select(v =>
        {
            var rows = entries.Where(e => e.View == v).Select(e => e.Vector).ToList();
            return rows.Count < 2 ? double.NaN
                : Jepa.Training.Training.CollapseMonitor.Measure(rows.SelectMany(r => r).ToArray(), rows.Count, rows[0].Length).Spread;
        }).ToList();
        context.Out.WriteLine(string.Create(inv,
            $"wrote {outPath} ({entries.Count} embeddings: {string.Join(", ", views.Select((v, i) => $"{points[i].Count} {v}"))}; {links.Count} pairs joined; PC1 {100 * pca.Explained(0):F1} %, PC2 {100 * pca.Explained(1):F1} % of the variance; spread {string.Join(", ", views.Select((v, i) => $"{v} {spreads[i]:F2}"))})"));
        if (links.Count >= 2)
        {
            // the pairs, Text then Code, in the file's order of Text embeddings
            var byKey = entries.ToDictionary(e => (e.View, e.Index));
            var pairs = entries.Where(e => e.View == "text" && byKey.ContainsKey(("code", e.Index))).ToList();
            int n = pairs.Count, d = pairs[0].Vector.Length;
            float[] text = pairs.SelectMany(e => e.Vector).ToArray(), code = pairs.SelectMany(e => byKey[("code", e.Index)].Vector).ToArray();
            var m = Jepa.Training.Training.CollapseMonitor.PairGap(text, code, n, d);
            var mc = Jepa.Training.Training.CollapseMonitor.CentredPairGap(text, code, n, d);
            var top1 = Jepa.Training.Training.CollapseMonitor.RetrievalTop1(text, code, n, d);
            context.Out.WriteLine(string.Create(inv,
                $"pairs: matched-minus-mismatched cosine {m:F3}, after centring each view {mc:F3}; Text→Code retrieval top-1 (centred) {100 * top1:F1} % of {n} (chance {100.0 / n:F2} %)"));
        }
        return ExitCodes.Ok;
    }
}
