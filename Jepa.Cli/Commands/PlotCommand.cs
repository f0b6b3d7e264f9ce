using System.Text.Json;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training.Training;

namespace Jepa.Cli.Commands;

/// <summary><c>jepa plot</c>: loss and cosine curves of a run, or a 2-D map of embeddings, as an SVG.</summary>
public sealed class PlotCommand : ICommand
{
    /// <inheritdoc />
    public OptionTable Options { get; } = new("plot", "RUN_DIR [--out FILE.svg]  |  --embeddings FILE.jsonl [--out FILE.svg]",
        """
        Draws the curves of a training run from RUN_DIR/metrics.jsonl as an SVG with three panels against the step:
        the losses (next-token, JEPA, and SIGReg / VICReg when on), the cosine between predicted and target
        embeddings, and the collapse monitor: the spread of each view's unit embeddings (1 ≈ distinct directions,
        0 = collapsed) and the matched-minus-mismatched pair cosine (> 0 when embeddings carry the pair's content).
        With --embeddings, draws instead the embeddings written by 'jepa embed --views both' on their first two
        principal components (PCA in float64), Text and Code views in two colours and each example's pair joined by
        a line: aligned views sit close to their partner. The map is centred and scaled to fit, so a direction every
        embedding shares (the collapse the training monitor reports) does not show in it; the command prints each
        view's spread beside it (about 1 for distinct directions, 0 collapsed).
        """,
        [
            new("out", "FILE.svg", "where the SVG goes", "RUN_DIR/metrics.svg, or the embeddings file with .svg"),
            new("embeddings", "FILE.jsonl", "embeddings from 'jepa embed' to map in two dimensions"),
        ],
        [("RUN_DIR", "a 'jepa train' run folder (or a metrics.jsonl file)")]);

    /// <inheritdoc />
    public string Summary => "plot a run's loss and cosine curves as SVG";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        if (args.String("embeddings") is { } embeddings)
        {
            if (args.Positionals.Count > 0) throw new UsageException("give either RUN_DIR or --embeddings FILE, not both.");
            return EmbeddingMap.Plot(embeddings, args.String("out") ?? Path.ChangeExtension(embeddings, ".svg"), context);
        }
        if (args.Positionals.Count == 0) throw new UsageException("'jepa plot' needs RUN_DIR or --embeddings FILE. Run 'jepa plot --help'.");
        string run = args.Positionals[0];
        string metrics = File.Exists(run) ? run : new RunDirectory(run).MetricsPath;
        if (!File.Exists(metrics))
            throw new FileNotFoundException(Directory.Exists(run) ? $"'{run}' has no {RunDirectory.MetricsFile}." : $"Run folder '{run}' does not exist.", metrics);
        string outPath = args.String("out") ?? Path.Combine(File.Exists(run) ? Path.GetDirectoryName(Path.GetFullPath(run))! : run, "metrics.svg");

        var lm = new List<(double, double)>();
        var jepa = new List<(double, double)>();
        var cos = new List<(double, double)>();
        var sig = new List<(double, double)>();
        var vic = new List<(double, double)>();
        var gap = new List<(double, double)>();
        var textSpread = new List<(double, double)>();
        var codeSpread = new List<(double, double)>();
        JsonlObjects.Read(metrics, (r, lineNo) =>
        {
            if (!r.TryGetProperty("step", out var s) || s.ValueKind != JsonValueKind.Number)
                throw new InvalidDataException($"{metrics}:{lineNo}: expected an object with a numeric \"step\".");
            double step = s.GetDouble();
            Add(lm, r, "lm_loss", step);
            Add(jepa, r, "jepa_loss", step);
            Add(cos, r, "cosine", step);
            Add(sig, r, "sigreg", step);
            Add(vic, r, "vicreg", step);
            Add(gap, r, "pair_gap", step);
            Add(textSpread, r, "text_spread", step);
            Add(codeSpread, r, "code_spread", step);
            return step;
        });
        if (lm.Count == 0) throw new InvalidDataException($"{metrics}: no steps to plot.");
        string svg = SvgPlot.Render($"training run: {Path.GetFileName(Path.GetFullPath(run).TrimEnd(Path.DirectorySeparatorChar))}", "step",
        [
            new PlotPanel("losses", "loss", [new PlotSeries("lm loss", "#1f77b4", lm), new PlotSeries("jepa loss", "#ff7f0e", jepa),
                new PlotSeries("sigreg", "#9467bd", sig), new PlotSeries("vicreg", "#8c564b", vic)]),
            new PlotPanel("cosine between predicted and target embeddings", "cosine", [new PlotSeries("cosine", "#2ca02c", cos)]),
            new PlotPanel("collapse monitor", "value", [new PlotSeries("matched − mismatched cosine", "#d62728", gap),
                new PlotSeries("Text spread", "#17becf", textSpread), new PlotSeries("Code spread", "#bcbd22", codeSpread)]),
        ]);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(outPath, svg);
        context.Out.WriteLine($"wrote {outPath} ({lm.Count} steps)");
        return ExitCodes.Ok;
    }

    private static void Add(List<(double, double)> list, JsonElement row, string name, double step)
    {
        if (row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number) list.Add((step, v.GetDouble()));
    }
}
