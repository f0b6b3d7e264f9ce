using System.Text.Json;
using System.Xml.Linq;
using Jepa.RegexTask;

namespace Jepa.Tests.Cli;

/// <summary>
/// <c>jepa experiment</c>: a tiny grid trains and is tabulated, a second invocation retrains nothing, an interrupted run is
/// resumed, and a bad spec is one line before anything trains.
/// </summary>
public sealed class CliExperimentTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-exp-").FullName;

    public CliExperimentTests()
    {
        File.WriteAllText(P("tiny.json"), CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(P("pairs.jsonl"), 8, seed: 6);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(string name) => Path.Combine(_root, name);

    /// <summary>A spec with tiny runs (2 steps, 2 examples evaluated) in the test folder, paths relative to it.</summary>
    private string Spec(string name, string configs, string seeds = "[1, 2]", string extraBase = "")
    {
        string path = P(name);
        File.WriteAllText(path, $$"""
            {"name": "{{Path.GetFileNameWithoutExtension(name)}}",
             "base": {"data": "pairs.jsonl", "eval_data": "pairs.jsonl", "eval-count": 2, "metric": "regex", "steps": 2,
                      "config": "tiny.json", "device": "cpu"{{extraBase}}},
             "seeds": {{seeds}},
             "configs": {{configs}}}
            """);
        return path;
    }

    [Fact]
    public void GridTrainsTabulatesAndIsNotRetrained()
    {
        string spec = Spec("grid.json", """[{"name": "baseline", "lambda": 0}, {"name": "jepa", "lambda": 1, "predictors": 1}]""");
        string dir = P("grid");
        var dry = CliRunner.Run("experiment", "--spec", spec, "--out", dir, "--dry-run");
        Assert.True(dry.Code == 0, dry.ToString());
        Assert.Contains($"baseline-s1  (new)  jepa train --out {Path.Combine(dir, "runs", "baseline-s1")} --seed 1 --data {P("pairs.jsonl")}", dry.Out);
        Assert.Contains("4 runs, 4 to train", dry.Out);
        Assert.False(Directory.Exists(dir));

        var first = CliRunner.Run("experiment", "--spec", spec, "--out", dir);
        Assert.True(first.Code == 0, first.ToString());
        string[] runs = ["baseline-s1", "baseline-s2", "jepa-s1", "jepa-s2"];
        for (int i = 0; i < runs.Length; i++) Assert.Contains($"[{i + 1}/4] {runs[i]}  training … done in", first.Err);
        foreach (string run in runs)
        {
            Assert.True(File.Exists(Path.Combine(dir, "runs", run, "summary.json")), run);
            Assert.StartsWith("$ jepa train --out ", File.ReadAllText(Path.Combine(dir, "runs", run, "train.log")));
        }
        Assert.Contains("--lambda 1 --predictors 1", File.ReadAllText(Path.Combine(dir, "runs", "jepa-s2", "train.log")));
        Assert.Contains("| baseline | lambda=0 | 2 | ", first.Out);
        Assert.Contains("| jepa | lambda=1, predictors=1 | 2 | ", first.Out);

        // results.json: per config, the mean and sample std over the seeds of each metric the runs' summaries hold.
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json"))))
        {
            var configs = doc.RootElement.GetProperty("configs");
            Assert.Equal(["regex", "exact"], doc.RootElement.GetProperty("metrics").EnumerateArray().Select(m => m.GetString()));
            Assert.Equal(4, doc.RootElement.GetProperty("runs").GetArrayLength());
            foreach (var (c, i) in configs.EnumerateArray().Select((c, i) => (c, i)))
            {
                string name = i == 0 ? "baseline" : "jepa";
                Assert.Equal(name, c.GetProperty("config").GetString());
                var acc = new[] { 1, 2 }.Select(s => Accuracy(Path.Combine(dir, "runs", $"{name}-s{s}", "summary.json"))).ToArray();
                var regex = c.GetProperty("metrics").GetProperty("regex");
                Assert.Equal(2, regex.GetProperty("n").GetInt32());
                Assert.Equal(acc.Average(), regex.GetProperty("mean").GetDouble(), 12);
                Assert.Equal(Math.Abs(acc[0] - acc[1]) / Math.Sqrt(2), regex.GetProperty("std").GetDouble(), 12);
                Assert.Equal(acc, regex.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
            }
        }
        Assert.Contains("# Experiment grid", File.ReadAllText(Path.Combine(dir, "results.md")));
        Assert.Equal("svg", XDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.svg"))).Root!.Name.LocalName);
        Assert.False(File.Exists(Path.Combine(dir, "curves.svg")));

        // A second invocation trains nothing: every run is finished, its files untouched.
        var before = runs.Select(r => Path.Combine(dir, "runs", r, "metrics.jsonl")).Select(f => (File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f))).ToList();
        var second = CliRunner.Run("experiment", "--spec", spec, "--out", dir);
        Assert.True(second.Code == 0, second.ToString());
        Assert.Equal(4, second.Err.Split('\n').Count(l => l.Contains("finished earlier, skipped")));
        Assert.Contains("0 trained, 4 finished earlier", second.Err);
        var after = runs.Select(r => Path.Combine(dir, "runs", r, "metrics.jsonl")).Select(f => (File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f))).ToList();
        for (int i = 0; i < runs.Length; i++)
        {
            Assert.Equal(before[i].Item1, after[i].Item1);
            Assert.Equal(before[i].Item2, after[i].Item2);
        }
        Assert.Contains("(finished)", CliRunner.Run("experiment", "--spec", spec, "--out", dir, "--dry-run").Out);

        // Curves (curve.jsonl, written by jepa train --eval-every): --report aggregates them per config and epoch, without the spec.
        foreach (var (run, i) in runs.Select((r, i) => (r, i)))
            File.WriteAllLines(Path.Combine(dir, "runs", run, "curve.jsonl"),
                [.. new[] { 1, 2 }.Select(e => $$"""{"epoch": {{e}}, "step": {{e}}, "eval": {"metric": "regex", "accuracy": {{0.1 * e + 0.1 * (i % 2)}}, "correct": 0, "count": 2}, "exact": null}""")]);
        var report = CliRunner.Run("experiment", "--out", dir, "--report");
        Assert.True(report.Code == 0, report.ToString());
        Assert.Contains("curves.svg", report.Out);
        Assert.Equal("svg", XDocument.Parse(File.ReadAllText(Path.Combine(dir, "curves.svg"))).Root!.Name.LocalName);
        Assert.Contains("## During training", File.ReadAllText(Path.Combine(dir, "results.md")));
        Assert.Contains("| jepa | 2 | 2 | 2 | 25.0 ± 7.1 | – |", File.ReadAllText(Path.Combine(dir, "results.md")));
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json"))))
        {
            var curve = doc.RootElement.GetProperty("configs")[0].GetProperty("curve");
            Assert.Equal(2, curve.GetArrayLength());
            var e2 = curve[1];
            Assert.Equal(2, e2.GetProperty("epoch").GetDouble());
            var stats = e2.GetProperty("metrics").GetProperty("regex");
            Assert.Equal(0.25, stats.GetProperty("mean").GetDouble(), 12);
            Assert.Equal(Math.Sqrt(2 * 0.05 * 0.05), stats.GetProperty("std").GetDouble(), 12);
        }
    }

    [Fact]
    public void InterruptedRunIsResumedAndEmptyFoldersRestarted()
    {
        string spec = Spec("resume.json", """[{"name": "jepa", "lambda": 1}]""");
        string dir = P("resume");

        // Ctrl+C (a cancelled token): the current run saves a checkpoint and the experiment stops.
        using (var cts = new CancellationTokenSource())
        {
            cts.Cancel();
            var stopped = CliRunner.Run(cts.Token, "experiment", "--spec", spec, "--out", dir);
            Assert.True(stopped.Code == 130, stopped.ToString());
            Assert.Contains("[1/2] jepa-s1  training … interrupted", stopped.Err);
            Assert.Contains($"Continue with: jepa experiment --spec {spec} --out {dir}", stopped.Err);
        }
        string run1 = Path.Combine(dir, "runs", "jepa-s1"), run2 = Path.Combine(dir, "runs", "jepa-s2");
        Assert.True(File.Exists(Path.Combine(run1, "checkpoints", "ckpt-0000000", "state.json")));
        Assert.False(File.Exists(Path.Combine(run1, "summary.json")));
        Assert.False(Directory.Exists(run2));
        Directory.CreateDirectory(run2);
        File.WriteAllText(Path.Combine(run2, "leftover.txt"), "no checkpoint, no summary");
        Assert.Contains("jepa-s1  (resume)  jepa train --resume", CliRunner.Run("experiment", "--spec", spec, "--out", dir, "--dry-run").Out);

        var resumed = CliRunner.Run("experiment", "--spec", spec, "--out", dir);
        Assert.True(resumed.Code == 0, resumed.ToString());
        Assert.Contains("[1/2] jepa-s1  resuming … done", resumed.Err);
        Assert.Contains("[2/2] jepa-s2  training … done", resumed.Err);
        Assert.Contains($"$ jepa train --resume {run1} --device cpu", File.ReadAllText(Path.Combine(run1, "train.log")));
        var steps = File.ReadAllLines(Path.Combine(run1, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32());
        Assert.Equal([1, 2], steps);
        Assert.True(File.Exists(Path.Combine(run1, "summary.json")));
        Assert.False(File.Exists(Path.Combine(run2, "leftover.txt")));
        Assert.True(File.Exists(Path.Combine(run2, "summary.json")));

        // A spec changed under a finished run is refused rather than mixed into its results.
        string changed = Spec("resume.json", """[{"name": "jepa", "lambda": 2}]""");
        var refused = CliRunner.Run("experiment", "--spec", changed, "--out", dir);
        OneLine(refused, 1, "run 'jepa-s1' in");
        Assert.Contains("--lambda 1 → 2", refused.Err);
    }

    [Fact]
    public void BadSpecsAreOneLineBeforeAnyTraining()
    {
        string dir = P("bad");
        void Bad(string configs, string contains, string seeds = "[1]", string extraBase = "")
        {
            string spec = Spec("bad.json", configs, seeds, extraBase);
            var r = CliRunner.Run("experiment", "--spec", spec, "--out", dir);
            OneLine(r, 1, contains.Replace("SPEC", spec));
            Assert.False(Directory.Exists(dir));
        }
        Bad("""[{"name": "a"}, {"name": "b", "lamda": 1}]""", "SPEC: config 'b': unknown option '--lamda'. Valid options: --data");
        Bad("""[{"name": "a", "lr": "fast"}]""", "SPEC: config 'a': --lr must be a number, got 'fast'.");
        Bad("""[{"name": "a", "steps": 1.5}]""", "SPEC: config 'a': --steps must be an integer, got '1.5'.");
        Bad("""[{"name": "a", "distance": "dot"}]""", "SPEC: config 'a': --distance must be one of cosine");
        Bad("""[{"name": "a", "front-pred": 1}]""", "SPEC: config 'a': option 'front-pred' is a flag: give true or false");
        Bad("""[{"name": "a", "data": "missing.jsonl"}]""", $"SPEC: config 'a': --data: '{P("missing.jsonl")}' does not exist.");
        Bad("""[{"name": "a", "seed": 3}]""", "SPEC: config 'a': option 'seed' is set by the experiment");
        Bad("""[{"name": "a"}]""", "SPEC: base: option 'out' is set by the experiment", extraBase: """, "out": "x" """);
        Bad("""[{"name": "a"}, {"name": "a"}]""", "SPEC: config 'a' appears twice.");
        Bad("""[{"name": "a/b"}]""", "SPEC: config 1 needs a \"name\"");
        Bad("""[]""", "SPEC: \"configs\" must be a non-empty array");
        Bad("""[{"name": "a"}]""", "SPEC: \"seeds\" must be a non-empty array of distinct integers ≥ 0, got -1.", seeds: "[-1]");
        File.WriteAllText(P("badcfg.json"), """{ "stepz": 3 }""");
        Bad("""[{"name": "a", "config": "badcfg.json"}]""", $"SPEC: config 'a': {P("badcfg.json")}: unknown option 'stepz'.");
        File.WriteAllText(P("badcfg.json"), """{ "lr": "fast" }""");
        Bad("""[{"name": "a", "config": "badcfg.json"}]""", $"SPEC: config 'a': {P("badcfg.json")}: option 'lr' must be a number, got 'fast'.");
        Bad("""[{"name": "a", "lambda": [1]}]""", "SPEC: config 'a': option 'lambda' must be a number, a string, true/false or null.");

        File.WriteAllText(P("broken.json"), "{ \"name\": ");
        OneLine(CliRunner.Run("experiment", "--spec", P("broken.json"), "--out", dir), 1, $"{P("broken.json")}: invalid JSON");
        OneLine(CliRunner.Run("experiment", "--spec", P("none.json"), "--out", dir), 1, "does not exist");
        OneLine(CliRunner.Run("experiment", "--out", dir), 2, "needs --spec FILE.json");
        OneLine(CliRunner.Run("experiment", "--out", dir, "--report"), 1, "holds no experiment");
        string good = Spec("good.json", """[{"name": "a"}]""");
        OneLine(CliRunner.Run("experiment", "--spec", good, "--out", dir, "--only", "b"), 2, "--only: 'b' is no config of");
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void ReportTabulatesMeanAndSampleStdOfFinishedRuns()
    {
        // Three finished runs with known accuracies (no training): the table holds mean ± sample std and the per-seed values.
        string spec = Spec("hand.json", """[{"name": "a", "lambda": 0}, {"name": "b"}]""", seeds: "[1, 2, 3]");
        string dir = P("hand");
        double[] acc = [0.2, 0.4, 0.9];
        for (int s = 1; s <= 3; s++)
        {
            string run = Path.Combine(dir, "runs", $"a-s{s}");
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, "summary.json"), $$$"""
                {"steps": 2, "eval": {"metric": "regex", "accuracy": {{{acc[s - 1]}}}, "correct": 1, "count": 5}, "exact": {"metric": "exact", "accuracy": 0.1, "correct": 0, "count": 5}}
                """);
        }
        var r = CliRunner.Run("experiment", "--spec", spec, "--out", dir, "--report");
        Assert.True(r.Code == 0, r.ToString());
        double mean = acc.Sum() / acc.Length, std = Math.Sqrt(acc.Sum(x => (x - mean) * (x - mean)) / (acc.Length - 1));
        Assert.Contains($"| a | lambda=0 | 3 | 50.0 ± {100 * std:F1} (20.0, 40.0, 90.0) | 10.0 ± 0.0 (10.0, 10.0, 10.0) |", r.Out);
        Assert.Contains("| b | — | 0/3 | – | – |", r.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
        var stats = doc.RootElement.GetProperty("configs")[0].GetProperty("metrics").GetProperty("regex");
        Assert.Equal(3, stats.GetProperty("n").GetInt32());
        Assert.Equal(0.5, stats.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(std, stats.GetProperty("std").GetDouble(), 12);
        var none = doc.RootElement.GetProperty("configs")[1].GetProperty("metrics").GetProperty("regex");
        Assert.Equal(0, none.GetProperty("n").GetInt32());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("std").ValueKind);
    }

    private static double Accuracy(string summary)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        return doc.RootElement.GetProperty("eval").GetProperty("accuracy").GetDouble();
    }

    private static void OneLine(CliOutcome r, int code, string contains)
    {
        Assert.True(r.Code == code, r.ToString());
        Assert.Contains(contains, r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", r.Err);
    }
}
