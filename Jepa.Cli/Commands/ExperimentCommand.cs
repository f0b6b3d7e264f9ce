using Jepa.Core;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Jepa.Cli.Experiments;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training.Training;

namespace Jepa.Cli.Commands;

/// <summary>
/// <c>jepa experiment</c>: trains a grid of configurations × seeds with <c>jepa train</c> (in process, one run after
/// another, each logging to its own file), then tabulates each metric's mean ± std over seeds per configuration.
/// Resumable: finished runs are skipped, interrupted ones continued.
/// </summary>
public sealed class ExperimentCommand : ICommand
{
    /// <summary>The copy of the spec kept in the experiment folder (what <c>--report</c> reads without <c>--spec</c>).</summary>
    public const string SpecCopy = "experiment.json";

    /// <inheritdoc />
    public OptionTable Options { get; } = new("experiment", "--spec FILE.json --out DIR [--only NAMES] [--dry-run]  |  --out DIR --report",
        """
        Trains every configuration of a spec with every seed, one 'jepa train' run after another, each in
        DIR/runs/<config>-s<seed> with its output in train.log there, and one line per run here. Then writes
        DIR/results.json, results.md and results.svg: per configuration the mean ± sample std over seeds of each
        metric of the runs' summary.json (and, where runs wrote curve.jsonl, of each evaluation during training,
        in curves.svg). The spec (JSON): {"name": "x", "base": {train options}, "seeds": [1, 2, 3],
        "configs": [{"name": "baseline", "lambda": 0}, {"name": "jepa", "lambda": 1}]}; a config's options override
        the base's (null unsets one); relative paths resolve against the spec's folder. Every run's options are
        checked before anything trains. Run it again to continue: finished runs are skipped, interrupted ones
        resumed from their checkpoint, others started anew. Ctrl+C stops after the current run saves a checkpoint.
        """,
        [
            new("spec", "FILE.json", "the experiment spec"),
            new("out", "DIR", "the experiment folder (created; reused to continue)"),
            new("only", "NAMES", "train only these configs (comma-separated); the results still cover every config", "all"),
            OptionSpec.Flag("dry-run", "list the runs and their 'jepa train' command lines without training"),
            OptionSpec.Flag("report", "tabulate the finished runs again without training (the spec defaults to DIR/experiment.json)"),
        ]);

    /// <inheritdoc />
    public string Summary => "train a grid of configs × seeds and tabulate mean ± std";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context)
    {
        string outDir = args.Required("out");
        bool report = args.Flag("report"), dryRun = args.Flag("dry-run");
        if (report && dryRun) throw new UsageException("give either --report or --dry-run, not both.");
        var only = args.String("only")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (report && only is not null) throw new UsageException("--only chooses runs to train; --report tabulates every config.");
        var train = CliApp.Commands.Single(c => c.Options.Command == "train").Options;
        string? specPath = args.String("spec");
        if (specPath is null && !report) throw new UsageException("'jepa experiment' needs --spec FILE.json (or --report). Run 'jepa experiment --help'.");
        if (specPath is null)
        {
            specPath = Path.Combine(outDir, SpecCopy);
            if (!File.Exists(specPath)) throw new FileNotFoundException($"'{outDir}' holds no experiment ({specPath} is missing); give --spec FILE.json.", specPath);
        }
        var spec = ExperimentSpec.Read(specPath, train);
        if (report) return Report(spec, outDir, train, context);

        var runs = ExperimentPlan.Build(spec, outDir, only, train);
        foreach (var run in runs.Where(r => r.State != RunState.New)) ExperimentPlan.CheckUnchanged(run, train);
        if (dryRun)
        {
            foreach (var run in runs) context.Out.WriteLine($"{run.Name}  ({StateText(run)})  jepa {ExperimentPlan.CommandLine(CommandOf(run))}");
            int left = runs.Count(r => r.State != RunState.Finished);
            context.Out.WriteLine($"{runs.Count} runs, {left} to train; folder {Path.Combine(outDir, ExperimentPlan.RunsFolder)}");
            return ExitCodes.Ok;
        }

        Directory.CreateDirectory(Path.Combine(outDir, ExperimentPlan.RunsFolder));
        AtomicFile.WriteAllText(Path.Combine(outDir, SpecCopy), spec.ToJson());
        string again = "jepa " + ExperimentPlan.CommandLine(["experiment", "--spec", specPath, "--out", outDir,
            .. only is null ? Array.Empty<string>() : ["--only", string.Join(',', only)]]);
        var clock = Stopwatch.StartNew();
        int trained = 0, skipped = 0;
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            string head = $"[{i + 1}/{runs.Count}] {run.Name}";
            if (run.State == RunState.Finished)
            {
                context.Error.WriteLine($"{head}  finished earlier, skipped  {Describe(RunResult.Read(run))}");
                skipped++;
                continue;
            }
            if (trained > 0 && context.Cancellation.IsCancellationRequested) return Interrupted(context, again);
            bool resume = run.State == RunState.Resume;
            context.Error.Write($"{head}  {(resume ? "resuming" : "training")} … ");
            context.Error.Flush();
            var watch = Stopwatch.StartNew();
            int code = Train(run, context.Cancellation);
            string took = TrainProgress.Duration(watch.Elapsed.TotalSeconds);
            if (code == ExitCodes.Interrupted)
            {
                context.Error.WriteLine($"interrupted after {took}; checkpoint saved");
                return Interrupted(context, again);
            }
            if (code != ExitCodes.Ok)
            {
                context.Error.WriteLine($"failed after {took}");
                string log = run.PathOf(ExperimentRun.LogFile);
                context.Error.WriteLine($"jepa experiment: run '{run.Name}' failed (exit {code}): {LastLine(log)} (log: {log})");
                return ExitCodes.Failure;
            }
            context.Error.WriteLine($"done in {took}  {Describe(RunResult.Read(run))}");
            trained++;
        }
        context.Error.WriteLine($"{runs.Count} runs: {trained} trained, {skipped} finished earlier; {TrainProgress.Duration(clock.Elapsed.TotalSeconds)}");
        return Report(spec, outDir, train, context);
    }

    /// <summary>Runs <c>jepa train</c> for <paramref name="run"/> through the command line's own dispatch, its output in the run's log.</summary>
    private static int Train(ExperimentRun run, CancellationToken cancellation)
    {
        var argv = CommandOf(run);
        if (run.State == RunState.New)
        {
            if (Directory.Exists(run.Directory)) Directory.Delete(run.Directory, recursive: true);
            Directory.CreateDirectory(run.Directory);
            AtomicFile.WriteAllText(run.PathOf(ExperimentRun.ArgumentsFile), JsonSerializer.Serialize(run.Arguments) + "\n");
        }
        using var file = new StreamWriter(run.PathOf(ExperimentRun.LogFile), append: true, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        using var log = TextWriter.Synchronized(file);
        log.WriteLine($"$ jepa {ExperimentPlan.CommandLine(argv)}");
        return CliApp.Run([.. argv], new CliContext(log, log, ErrorIsTerminal: false, cancellation));
    }

    /// <summary>The command line a run would get now: a new run's own, or <c>train --resume DIR</c> (with its device) to continue one.</summary>
    private static IReadOnlyList<string> CommandOf(ExperimentRun run)
    {
        if (run.State != RunState.Resume) return run.TrainArguments;
        int d = run.Arguments.ToList().LastIndexOf("--device");
        return d >= 0 && d + 1 < run.Arguments.Count
            ? ["train", "--resume", run.Directory, "--device", run.Arguments[d + 1]]
            : ["train", "--resume", run.Directory];
    }

    private static string StateText(ExperimentRun run) => run.State switch
    {
        RunState.Finished => "finished",
        RunState.Resume => "resume",
        _ => Directory.Exists(run.Directory) ? "restart" : "new",
    };

    private static int Interrupted(CliContext context, string again)
    {
        context.Error.WriteLine($"Interrupted; finished runs are kept. Continue with: {again}");
        return ExitCodes.Interrupted;
    }

    private static int Report(ExperimentSpec spec, string outDir, OptionTable train, CliContext context)
    {
        var report = ExperimentReport.Build(spec, ExperimentPlan.Build(spec, outDir, null, train, check: false));
        Directory.CreateDirectory(outDir);
        var written = report.Write(outDir);
        context.Out.Write(ExperimentMarkdown.Table(report));
        context.Out.WriteLine($"results in {string.Join(", ", written)}");
        return ExitCodes.Ok;
    }

    private static string Describe(RunResult? result) =>
        result is null || result.Metrics.Count == 0 ? "no evaluation"
            : string.Join("  ", result.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {100 * m.Value:F1} %")));

    private static string LastLine(string path) =>
        File.Exists(path) ? File.ReadLines(path).LastOrDefault(l => !string.IsNullOrWhiteSpace(l)) ?? "(empty log)" : "(no log)";
}
