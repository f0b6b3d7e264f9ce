using System.Text.Json;
using Jepa.RegexTask;

namespace Jepa.Tests.Cli;

/// <summary>Ctrl+C saves a checkpoint and says how to resume; --resume continues the step count with the run's options.</summary>
public sealed class CliResumeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-resume-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void InterruptedRunResumesAndContinuesTheStepCount()
    {
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl"), run = Path.Combine(_root, "run");
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 10, seed: 9);

        // Ctrl+C (here: a cancelled token) saves a checkpoint and prints how to continue.
        using (var cts = new CancellationTokenSource())
        {
            cts.Cancel();
            var stopped = CliRunner.Run(cts.Token, "train", "--data", data, "--config", config, "--steps", "2", "--out", run);
            Assert.True(stopped.Code == 130, stopped.ToString());
            Assert.Contains($"jepa train --resume {run}", stopped.Err);
            Assert.True(File.Exists(Path.Combine(run, "checkpoints", "ckpt-0000000", "state.json")));
        }

        var resumed = CliRunner.Run("train", "--resume", run, "--device", "cpu");
        Assert.True(resumed.Code == 0, resumed.ToString());
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "ckpt-0000002", "state.json")));

        // Options of the run cannot change, but the length can grow; --json prints one object per step and a summary.
        var refused = CliRunner.Run("train", "--resume", run, "--lr", "0.1");
        Assert.Equal(2, refused.Code);
        Assert.Contains("--lr cannot be changed when resuming", refused.Err);

        var extended = CliRunner.Run("train", "--resume", run, "--steps", "4", "--json", "--device", "cpu");
        Assert.True(extended.Code == 0, extended.ToString());
        var objects = extended.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal("start", objects[0].GetProperty("type").GetString());
        Assert.Equal([3, 4], objects.Where(o => o.GetProperty("type").GetString() == "step").Select(o => o.GetProperty("step").GetInt32()));
        Assert.Equal("summary", objects[^1].GetProperty("type").GetString());
        Assert.Equal(4, objects[^1].GetProperty("steps").GetInt32());

        var steps = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32());
        Assert.Equal([1, 2, 3, 4], steps);
        Assert.True(File.Exists(Path.Combine(run, "model", "model.safetensors")));
    }

    [Fact]
    public void ResumeSurvivesATornMetricsLineStaleTemporariesAndADamagedLatestCheckpoint()
    {
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl"), run = Path.Combine(_root, "run2");
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 10, seed: 9);
        var first = CliRunner.Run("train", "--data", data, "--config", config, "--steps", "4", "--checkpoint-every", "1", "--out", run, "--eval-count", "0");
        Assert.True(first.Code == 0, first.ToString());
        string metrics = Path.Combine(run, "metrics.jsonl"), ckpts = Path.Combine(run, "checkpoints");

        // As a kill would leave them: a torn last line, a temporary file and a half-written checkpoint folder; and the newest
        // checkpoint's weights damaged (a byte of its data flipped into a NaN).
        File.AppendAllText(metrics, "{\"step\": 5, \"lm_lo");
        File.WriteAllText(Path.Combine(run, ".run.json.0123.tmp"), "x");
        Directory.CreateDirectory(Path.Combine(ckpts, ".ckpt-0000005.0123.tmp"));
        string newest = Path.Combine(ckpts, "ckpt-0000004", "model.safetensors");
        var bytes = File.ReadAllBytes(newest);
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, bytes.Length - 4);
        File.WriteAllBytes(newest, bytes);

        var resumed = CliRunner.Run("train", "--resume", run, "--steps", "5", "--device", "cpu", "--eval-count", "0");
        Assert.True(resumed.Code == 0, resumed.ToString());
        Assert.Contains("ckpt-0000004 is damaged", resumed.Err);
        var steps = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32());
        Assert.Equal([1, 2, 3, 4, 5], steps);  // resumed at step 3's checkpoint: 4 and the torn line are redone
        Assert.Empty(Directory.GetFiles(run, ".*.tmp"));
        Assert.Empty(Directory.GetDirectories(ckpts, ".*.tmp"));
    }

    [Theory]
    [InlineData("stop", 0)]
    [InlineData("reload", 3)]
    public void ADivergingRunStopsWithOneLineNamingTheStep(string policy, int reloads)
    {
        // lr 1e30 without clipping makes step 2 non-finite whatever the learning rate after it (the weights are already far off
        // and each reload to the start halves a rate that stays huge): stop gives up at once, reload after going back 3 times.
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl"), run = Path.Combine(_root, "diverge-" + policy);
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 10, seed: 9);
        var r = CliRunner.Run("train", "--data", data, "--config", config, "--steps", "6", "--out", run, "--eval-count", "0",
            "--lr", "1e30", "--warmup", "0", "--clip", "0", "--on-nonfinite", policy);
        Assert.True(r.Code == 1, r.ToString());
        var error = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.Matches(@"^jepa train: step \d+: the gradient norm is", error);
        Assert.Equal(reloads, r.Err.Split("went back to").Length - 1);
        if (reloads > 0) Assert.Contains($"after {reloads} reloads", error);
        else Assert.Contains("--on-nonfinite reload", error);
        Assert.False(Directory.Exists(Path.Combine(run, "model")));
    }

    [Fact]
    public void ARunStoppedBeforeItsFirstCheckpointStartsAgainWithForce()
    {
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl"), run = Path.Combine(_root, "run3");
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 10, seed: 9);
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "{\"step\": 1}\n");
        string[] train = ["train", "--data", data, "--config", config, "--steps", "2", "--out", run, "--eval-count", "0"];
        var refused = CliRunner.Run(train);
        Assert.Equal(1, refused.Code);
        Assert.Contains("--force", refused.Err);
        var resume = CliRunner.Run("train", "--resume", run);
        Assert.Equal(1, resume.Code);
        Assert.Contains("--force", resume.Err);
        var forced = CliRunner.Run([.. train, "--force"]);
        Assert.True(forced.Code == 0, forced.ToString());
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
    }
}
