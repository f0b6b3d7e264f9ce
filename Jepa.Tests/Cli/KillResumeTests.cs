using System.Diagnostics;
using Jepa.RegexTask;

namespace Jepa.Tests.Cli;

/// <summary>A training process killed with SIGKILL at seeded random moments, then resumed, ends with the same weights,
/// bit for bit, as a run never interrupted.</summary>
public sealed class KillResumeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-kill-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void FiveKillsAndResumesGiveBitIdenticalWeights()
    {
        string config = Path.Combine(_root, "tiny.json"), data = Path.Combine(_root, "pairs.jsonl");
        File.WriteAllText(config, CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(data, 12, seed: 4);
        string[] Train(string run) => ["train", "--data", data, "--config", config, "--steps", "150", "--batch", "2", "--checkpoint-every", "1",
            "--eval-count", "0", "--out", run, "--device", "cpu"];

        string reference = Path.Combine(_root, "reference");
        var r = CliRunner.Run(Train(reference));
        Assert.True(r.Code == 0, r.ToString());

        string run = Path.Combine(_root, "killed");
        var random = new Random(20261203);
        int kills = 0;
        for (int tries = 0; kills < 5 && tries < 50; tries++)
        {
            // A fresh start, or a resume once a checkpoint exists (a kill before the first one needs --force).
            bool started = File.Exists(Path.Combine(run, "run.json"));
            string[] args = !started ? Train(run)
                : new Jepa.Training.Training.RunDirectory(run).Checkpoints().Count > 0 ? ["train", "--resume", run, "--device", "cpu"]
                : [.. Train(run), "--force"];
            using var child = Start(args);
            bool exited = child.WaitForExit(random.Next(300, 1500));
            if (exited)
            {
                // Finished before the kill (a fast machine): start over, so that all five kills interrupt training.
                Directory.Delete(run, recursive: true);
                continue;
            }
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            kills++;
        }
        Assert.Equal(5, kills);
        for (int attempt = 0; attempt < 3 && !File.Exists(Path.Combine(run, "model", "model.safetensors")); attempt++)
        {
            var finish = new Jepa.Training.Training.RunDirectory(run).Checkpoints().Count > 0
                ? CliRunner.Run("train", "--resume", run, "--device", "cpu")
                : CliRunner.Run([.. Train(run), "--force"]);
            Assert.True(finish.Code == 0, finish.ToString());
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "model", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(run, "model", "model.safetensors")));
    }

    private static Process Start(string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "jepa.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}
