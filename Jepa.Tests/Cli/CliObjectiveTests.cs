using System.Text.Json;
using Jepa.RegexTask;

namespace Jepa.Tests.Cli;

/// <summary>The objective's options on the command line: the accuracy-against-epochs curve, the monitor's fields, bad values.</summary>
public sealed class CliObjectiveTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-objective-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void EvalEveryWritesOnePointPerEpochAndTheFinalOneMatchesTheSummary()
    {
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl"), run = Path.Combine(_root, "run");
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 8, seed: 9);
        // 8 pairs in batches of 4: 2 steps an epoch, 3 epochs; evaluated after epochs 1, 2 (while training) and 3 (at the end)
        var r = CliRunner.Run("train", "--data", data, "--eval-data", data, "--eval-count", "2", "--config", config, "--epochs", "3",
            "--eval-every", "1", "--sigreg", "0.05", "--sigreg-slices", "8", "--labels", "conversation", "--out", run);
        Assert.True(r.Code == 0, r.ToString());
        var curve = File.ReadAllLines(Path.Combine(run, "curve.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2, 3], curve.Select(c => c.GetProperty("epoch").GetInt32()));
        Assert.Equal([2, 4, 6], curve.Select(c => c.GetProperty("step").GetInt32()));
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement;
        Assert.Equal(summary.GetProperty("eval").GetProperty("correct").GetInt32(), curve[^1].GetProperty("eval").GetProperty("correct").GetInt32());
        Assert.Contains("SIGReg 0.05", r.Err);
        Assert.Contains("whole conversation", r.Err);
        var first = JsonDocument.Parse(File.ReadLines(Path.Combine(run, "metrics.jsonl")).First()).RootElement;
        foreach (string field in (string[])["pair_gap", "text_spread", "code_spread", "text_rank", "code_rank", "sigreg"])
            Assert.Equal(JsonValueKind.Number, first.GetProperty(field).ValueKind);
    }

    [Fact]
    public void BaselineTrainsTheSameModelWithoutTheJepaTermAndPrintsBothSideBySide()
    {
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl"), run = Path.Combine(_root, "cmp");
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 8, seed: 9);
        var r = CliRunner.Run("train", "--data", data, "--eval-data", data, "--eval-count", "2", "--metric", "regex", "--config", config,
            "--steps", "3", "--sigreg", "0.05", "--baseline", "--out", run);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("LLM-JEPA", r.Out);
        Assert.Contains("next-token baseline", r.Out);
        JsonElement[] Metrics(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var jepa = Metrics(run);
        var baseline = Metrics(Path.Combine(run, "baseline"));
        Assert.Equal(3, baseline.Length);
        Assert.All(baseline, m => Assert.Equal(JsonValueKind.Null, m.GetProperty("jepa_loss").ValueKind));
        Assert.All(jepa, m => Assert.Equal(JsonValueKind.Number, m.GetProperty("jepa_loss").ValueKind));
        // same initial weights and the same first batch: the first step's next-token loss is bit-identical
        Assert.Equal(jepa[0].GetProperty("lm_loss").GetDouble(), baseline[0].GetProperty("lm_loss").GetDouble());
        Assert.NotEqual(jepa[^1].GetProperty("lm_loss").GetDouble(), baseline[^1].GetProperty("lm_loss").GetDouble());
        Assert.True(File.Exists(Path.Combine(run, "baseline", "summary.json")));
    }

    [Theory]
    [InlineData("--text-token", "last-predictor", "--predictors", "0")]
    [InlineData("--code-token", "last-predictor", "--predictors", "1")]
    [InlineData("--sigreg", "-1", "--predictors", "1")]
    [InlineData("--placement", "middle", "--predictors", "1")]
    public void ALayoutOrRegulariserThatCannotWorkIsOneLineError(string option, string value, string other, string otherValue)
    {
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl");
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 4, seed: 9);
        var r = CliRunner.Run("train", "--data", data, "--config", config, "--steps", "1", option, value, other, otherValue, "--out", Path.Combine(_root, "bad"));
        Assert.NotEqual(0, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}
