using System.Text.Json.Nodes;
using Jepa.Core;
using Jepa.Tests.Support;
using Jepa.Training;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;
using Jepa.Training.Training;

namespace Jepa.Tests.Training;

public sealed class RunDirectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-rundir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ACheckpointRecordsItsPredictorCountAndAnOldStateWithoutItStillLoads()
    {
        var cpu = new DeviceOptions { Kind = DeviceKind.Cpu };
        using var model = JepaModel.Create(TinySetup.Config(), seed: 1, cpu, predictorTokens: 3);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var r = model.Train(TinySetup.Pairs(8, 1), new JepaOptions(), new TrainOptions { Steps = 5, BatchSize = 4, MaxLength = 64 },
            Path.Combine(_dir, "run"), cancellation: cts.Token);
        string ckpt = r.Checkpoint!;
        Assert.Equal(3, RunDirectory.ReadState(ckpt).PredictorTokens);

        // As written before the field: no predictor_tokens in state.json, and no byte tokenizer file to give the count either,
        // so only the recorded "ByteTokenizer:266" says it (the default 8 would not match the model's vocabulary).
        string path = Path.Combine(ckpt, RunDirectory.StateFile);
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(node.Remove("predictor_tokens"));
        File.WriteAllText(path, node.ToJsonString());
        File.Delete(Path.Combine(ckpt, TokenizerFiles.ByteFile));
        var old = RunDirectory.ReadState(ckpt);
        Assert.Null(old.PredictorTokens);
        Assert.Equal("ByteTokenizer:266", old.Tokenizer);
        Assert.Equal(3, old.RecordedPredictorTokens);
        using var back = JepaModel.Load(ckpt, cpu);
        Assert.Equal(3, back.Tokenizer.Special.Predictors.Count);
        Reference.AssertBitwiseEqual(back.Embed("abc", predictors: 2), model.Embed("abc", predictors: 2), "embedding from the old-format checkpoint");
    }

    [Fact]
    public void ResumingTrimsTheStepKeyedLogsAndSkipsDamagedCheckpoints()
    {
        var run = new RunDirectory(Path.Combine(_dir, "trim"));
        run.Create();
        File.WriteAllText(run.MetricsPath, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n{\"ste");
        File.WriteAllText(run.CurvePath, "{\"step\":2}\n{\"step\":4}\n");
        run.TrimLogs(2);
        Assert.Equal("{\"step\":1}\n{\"step\":2}\n", File.ReadAllText(run.MetricsPath));
        Assert.Equal("{\"step\":2}\n", File.ReadAllText(run.CurvePath));

        Assert.False(run.HasCheckpoints);
        foreach (int step in (int[])[1, 2])
        {
            string c = Path.Combine(run.CheckpointsPath, RunDirectory.CheckpointName(step));
            Directory.CreateDirectory(c);
            File.WriteAllText(Path.Combine(c, RunDirectory.StateFile), step == 2 ? "{" : "{}");
        }
        Directory.CreateDirectory(Path.Combine(run.CheckpointsPath, $".{RunDirectory.CheckpointName(3)}.abc.tmp"));
        Assert.Equal(2, run.Checkpoints().Count);
        var damaged = new List<string>();
        Assert.EndsWith(RunDirectory.CheckpointName(1), run.LatestIntactCheckpoint((c, _) => damaged.Add(c)));
        Assert.EndsWith(RunDirectory.CheckpointName(2), Assert.Single(damaged));
        Assert.Equal(1, run.RemoveStaleFiles());
    }
}
