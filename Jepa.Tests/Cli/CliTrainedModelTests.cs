using System.Text.Json;
using System.Xml.Linq;

namespace Jepa.Tests.Cli;

/// <summary>The files of a training run, and the commands that use its model: eval, generate, embed, plot.</summary>
public sealed class CliTrainedModelTests(CliRunFixture f) : IClassFixture<CliRunFixture>
{
    private static JsonElement[] JsonLines(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    [Fact]
    public void TrainWritesMetricsCheckpointsModelAndPredictions()
    {
        Assert.True(f.Train.Code == 0, f.Train.ToString());
        var metrics = JsonLines(Path.Combine(f.Run, "metrics.jsonl"));
        Assert.Equal([1, 2, 3], metrics.Select(m => m.GetProperty("step").GetInt32()));
        foreach (string key in (string[])["lm_loss", "jepa_loss", "cosine", "lr", "grad_norm", "tokens_per_s"])
            Assert.All(metrics, m => Assert.Equal(JsonValueKind.Number, m.GetProperty(key).ValueKind));

        Assert.True(File.Exists(Path.Combine(f.Run, "config.json")));
        Assert.True(File.Exists(Path.Combine(f.Run, "run.json")));
        string ckpt = Path.Combine(f.Run, "checkpoints", "ckpt-0000003");
        foreach (string file in (string[])["model.safetensors", "optimizer.safetensors", "state.json"])
            Assert.True(File.Exists(Path.Combine(ckpt, file)), file);
        foreach (string file in (string[])["config.json", "model.safetensors", "jepa_tokenizer.json"])
            Assert.True(File.Exists(Path.Combine(f.Model, file)), file);

        var predictions = JsonLines(Path.Combine(f.Run, "eval.jsonl"));
        Assert.Equal(3, predictions.Length);
        foreach (var p in predictions)
        {
            Assert.Equal(JsonValueKind.String, p.GetProperty("text").ValueKind);
            Assert.Equal(JsonValueKind.String, p.GetProperty("reference").ValueKind);
            Assert.Equal(JsonValueKind.String, p.GetProperty("prediction").ValueKind);
            Assert.True(p.GetProperty("correct").ValueKind is JsonValueKind.True or JsonValueKind.False);
        }
        Assert.Matches(@"regex equivalence \d+\.\d % \(\d/3\)", f.Train.Out);
        Assert.Matches(@"exact match \d+\.\d % \(\d/3\)", f.Train.Out);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(f.Run, "summary.json"))).RootElement;
        Assert.Equal(3, summary.GetProperty("steps").GetInt32());
        Assert.Equal(3, summary.GetProperty("eval").GetProperty("count").GetInt32());
    }

    [Fact]
    public void TrainRefusesAFolderThatHoldsARun()
    {
        var r = CliRunner.Run("train", "--data", f.Data, "--config", f.Config, "--steps", "1", "--out", f.Run);
        Assert.Equal(1, r.Code);
        Assert.Contains("already holds a training run", r.Err);
        Assert.Contains("--resume", r.Err);
    }

    [Fact]
    public void EvalWritesPredictionsAndPrintsAccuracyWithCount()
    {
        string pred = f.PathOf("eval-pred.jsonl");
        var r = CliRunner.Run("eval", "--model", f.Model, "--data", f.Data, "--metric", "exact", "--count", "4", "--out", pred,
            "--max-new-tokens", "5", "--device", "cpu", "--batch", "3");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Matches(@"^exact match \d+\.\d % \(\d/4\)", r.Out);
        var lines = JsonLines(pred);
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => Assert.True(l.TryGetProperty("correct", out _)));

        var json = CliRunner.Run("eval", "--model", f.Model, "--data", f.Data, "--metric", "regex", "--count", "2", "--max-new-tokens", "4", "--json", "--device", "cpu");
        Assert.True(json.Code == 0, json.ToString());
        var o = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal("regex", o.GetProperty("metric").GetString());
        Assert.Equal(2, o.GetProperty("count").GetInt32());
    }

    [Fact]
    public void EvalHellaswagWritesTheChosenLetterThatScoreExactReScores()
    {
        string data = f.PathOf("choices.jsonl");
        File.WriteAllLines(data, new[] { "wxyz", "abc", "qq", "m" }.Select((t, i) => System.Text.Json.JsonSerializer.Serialize(new
        {
            messages = new[] { new { role = "system", content = "Answer A, B, C, or D." }, new { role = "user", content = t }, new { role = "assistant", content = "ABCD"[i].ToString() } },
        })));
        string pred = f.PathOf("choices-pred.jsonl");
        var r = CliRunner.Run("eval", "--model", f.Model, "--data", data, "--metric", "hellaswag", "--out", pred, "--device", "cpu", "--batch", "3");
        Assert.True(r.Code == 0, r.ToString());
        var m = System.Text.RegularExpressions.Regex.Match(r.Out, @"^HellaSwag choice (\d+\.\d) % \((\d)/4\)");
        Assert.True(m.Success, r.Out);
        var lines = JsonLines(pred);
        Assert.All(lines, l => Assert.Contains(l.GetProperty("prediction").GetString(), (string[])["A", "B", "C", "D"]));
        Assert.Equal(lines.Count(l => l.GetProperty("correct").GetBoolean()).ToString(System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value);
        var score = CliRunner.Run("score", "--data", data, "--predictions", pred, "--metric", "exact");
        Assert.True(score.Code == 0, score.ToString());
        Assert.Equal($"exact match {m.Groups[1].Value} % ({m.Groups[2].Value}/4)", score.Out.Trim());
    }

    [Fact]
    public void EvalFailsWhenNoExampleCouldBeScored()
    {
        string data = f.PathOf("too-long.jsonl");
        File.WriteAllText(data, System.Text.Json.JsonSerializer.Serialize(new { text = new string('x', 400), code = "y" }) + "\n");
        var r = CliRunner.Run("eval", "--model", f.Model, "--data", data, "--device", "cpu");
        Assert.Equal(1, r.Code);
        Assert.Contains("no example could be scored", r.Err);
    }

    [Fact]
    public void GenerateAndEmbedUseTheSavedModel()
    {
        var g = CliRunner.Run("generate", "--model", f.Model, "--prompt", "lines with a number", "--max-new-tokens", "4", "--json", "--device", "cpu");
        Assert.True(g.Code == 0, g.ToString());
        Assert.Equal("lines with a number", JsonDocument.Parse(g.Out).RootElement.GetProperty("prompt").GetString());

        string emb = f.PathOf("emb.jsonl");
        var e = CliRunner.Run("embed", "--model", f.Model, "--data", f.Data, "--out", emb, "--device", "cpu");
        Assert.True(e.Code == 0, e.ToString());
        var lines = JsonLines(emb);
        Assert.Equal(12, lines.Length);
        Assert.All(lines, l => Assert.Equal(16, l.GetProperty("embedding").GetArrayLength()));
        Assert.Contains("dimension 16", e.Out);

        var both = CliRunner.Run("embed", "--model", f.Model, "--data", f.Data, "--text", "x", "--out", emb);
        Assert.Equal(2, both.Code);
    }

    [Fact]
    public void EmbedBothViewsThenPlotTheirMap()
    {
        // Text and Code embeddings of every example, then their PCA map: a dot per embedding, a line per example's pair.
        string emb = f.PathOf("emb-both.jsonl"), svg = f.PathOf("emb-both.svg");
        var e = CliRunner.Run("embed", "--model", f.Model, "--data", f.Data, "--views", "both", "--out", emb, "--device", "cpu");
        Assert.True(e.Code == 0, e.ToString());
        var lines = JsonLines(emb);
        Assert.Equal(24, lines.Length);
        Assert.Equal(12, lines.Count(l => l.GetProperty("view").GetString() == "code"));
        Assert.Equal(Enumerable.Range(0, 12), lines.Where(l => l.GetProperty("view").GetString() == "text").Select(l => l.GetProperty("index").GetInt32()));
        Assert.Equal(0, CliRunner.Run("embed", "--model", f.Model, "--data", f.Data, "--out", f.PathOf("emb-text.jsonl"), "--device", "cpu").Code);
        var textOnly = JsonLines(f.PathOf("emb-text.jsonl"));
        Assert.Equal(textOnly[0].GetProperty("embedding").ToString(), lines[0].GetProperty("embedding").ToString()); // the Text view as before
        Assert.NotEqual(lines[0].GetProperty("embedding").ToString(), lines[1].GetProperty("embedding").ToString());
        var p = CliRunner.Run("plot", "--embeddings", emb, "--out", svg);
        Assert.True(p.Code == 0, p.ToString());
        Assert.Contains("12 text, 12 code; 12 pairs joined", p.Out);
        // the pair statistics of the same embeddings, as the collapse monitor computes them
        float[] Rows(string view) => [.. lines.Where(l => l.GetProperty("view").GetString() == view)
            .SelectMany(l => l.GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()))];
        float[] texts = Rows("text"), codes = Rows("code");
        int dim = texts.Length / 12;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        Assert.Contains(string.Create(inv, $"pairs: matched-minus-mismatched cosine {Jepa.Training.Training.CollapseMonitor.PairGap(texts, codes, 12, dim):F3}, after centring each view {Jepa.Training.Training.CollapseMonitor.CentredPairGap(texts, codes, 12, dim):F3}"), p.Out);
        Assert.Contains("of 12 (chance 8.33 %)", p.Out);
        var doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        var groups = doc.Descendants(ns + "g").ToList();
        Assert.Equal(24, groups.Where(g => (string?)g.Attribute("class") == "points").Sum(g => g.Elements(ns + "circle").Count()));
        Assert.Equal(12, groups.Single(g => (string?)g.Attribute("class") == "links").Elements(ns + "line").Count());
        var bad = CliRunner.Run("embed", "--model", f.Model, "--text", "x", "--views", "code", "--out", emb);
        Assert.Equal(2, bad.Code);
        File.WriteAllText(f.PathOf("bad.jsonl"), "{\"embedding\": [1, 2]}\n{\"embedding\": [1]}\n");
        var badPlot = CliRunner.Run("plot", "--embeddings", f.PathOf("bad.jsonl"));
        Assert.Equal(1, badPlot.Code);
        Assert.Contains("bad.jsonl:2:", badPlot.Err);
    }

    [Fact]
    public void PlotWritesAnSvgWithLossCosineAndCollapseMonitorPanels()
    {
        string svg = f.PathOf("curves.svg");
        var r = CliRunner.Run("plot", f.Run, "--out", svg);
        Assert.True(r.Code == 0, r.ToString());
        var doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", doc.Root!.Name);
        var panels = doc.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "panel").ToList();
        Assert.Equal(3, panels.Count);
        Assert.All(panels, p => Assert.NotEmpty(p.Descendants(ns + "polyline")));
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "lm loss");
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "cosine");
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "matched − mismatched cosine");

        var missing = CliRunner.Run("plot", f.PathOf("no-such-run"));
        Assert.Equal(1, missing.Code);
    }
}
