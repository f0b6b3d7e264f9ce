using System.Text.Json;
using Jepa.Tests.Support;
using Jepa.Training.Data;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Training;

namespace Jepa.Tests.Training;

public sealed class TrainerTests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[][] Weights(LlamaModel m) => m.Parameters.Select(p => p.Value.ToArray()).ToArray();

    private static void AssertSameWeights(float[][] a, float[][] b)
    {
        for (int i = 0; i < a.Length; i++) Reference.AssertBitwiseEqual(a[i], b[i], $"parameter {i}");
    }

    private static TrainOptions Small(int steps) => new() { Steps = steps, BatchSize = 4, LearningRate = 3e-3, WarmupSteps = 2, Seed = 5, MaxLength = 64, MonitorEvery = 2 };

    [Theory]
    [InlineData(NonFiniteStep.Stop)]
    [InlineData(NonFiniteStep.Skip)]
    public void ADivergingRunNeverAppliesANonFiniteStep(NonFiniteStep policy)
    {
        // lr 1e30: the first update throws the weights so far that the next forward overflows. The trainer must stop
        // (naming the step) or skip such steps, and the weights and the checkpoints it writes must stay finite.
        var data = TinySetup.Pairs(8, 26);
        string run = Path.Combine(_dir, $"diverge-{policy}");
        using var model = TinySetup.Model(f.Ops, 6);
        var warnings = new List<string>();
        using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions(), Small(6) with
        {
            LearningRate = 1e30, WarmupSteps = 0, OnNonFinite = policy, CheckpointEvery = 1, AdamW = new(ClipNorm: 0),
        }, run);
        t.Warning += warnings.Add;
        if (policy == NonFiniteStep.Stop)
        {
            var e = Assert.Throws<TrainingDivergedException>(() => t.Train(data));
            Assert.Matches(@"^step \d+: the gradient norm is (NaN|∞|-∞|Infinity)", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        else
        {
            Assert.Equal(6, t.Train(data).Steps);
            Assert.Contains(warnings, w => w.Contains("skipped"));
        }
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Contains(lines, l => JsonDocument.Parse(l).RootElement.GetProperty("grad_norm").ValueKind == JsonValueKind.Null);
        foreach (var p in model.Parameters) Assert.Equal(-1, Jepa.Core.NonFinite.IndexIn(p.Value.ToArray()));
        foreach (var file in Directory.GetFiles(run, "*.safetensors", SearchOption.AllDirectories))
        {
            using var reader = Jepa.Core.Safetensors.SafetensorsReader.Open(file);
            foreach (var info in reader.Tensors.Where(i => i.DType is Jepa.Core.Safetensors.SafetensorsDType.F32))
                Assert.Equal(-1, Jepa.Core.NonFinite.IndexIn(reader.ReadFloat32(info.Name)));
        }
    }

    [Fact]
    public void ReloadGoesBackToTheLastCheckpointWithALowerLearningRateAndFinishes()
    {
        // lr 1e30 throws the weights far enough at step 1 that step 2 is not finite. The reload policy must go back to the
        // checkpoint written at the start (step 0), scale the learning rate (here by 1e-33, to 1e-3) and finish the run, with
        // metrics.jsonl reading as one history (each step once) and the scale recorded in the checkpoints.
        var data = TinySetup.Pairs(8, 26);
        string run = Path.Combine(_dir, "reload");
        using var model = TinySetup.Model(f.Ops, 6);
        var warnings = new List<string>();
        int reloadedTo = -1;
        using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions(), Small(6) with
        {
            LearningRate = 1e30, WarmupSteps = 0, OnNonFinite = NonFiniteStep.Reload, ReloadLearningRateFactor = 1e-33, AdamW = new(ClipNorm: 0),
        }, run);
        t.Warning += warnings.Add;
        t.Reloaded += s => reloadedTo = s;
        var result = t.Train(data);
        Assert.Equal(6, result.Steps);
        Assert.Equal(0, reloadedTo);
        Assert.Contains(warnings, w => w.Contains("went back to") && w.Contains("ckpt-0000000") && w.Contains("reload 1 of 3"));
        Assert.Equal(1e-33, t.LearningRateScale, 1e-45);
        var rows = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2, 3, 4, 5, 6], rows.Select(r => r.GetProperty("step").GetInt32()));
        foreach (var r in rows)
        {
            Assert.Equal(JsonValueKind.Number, r.GetProperty("grad_norm").ValueKind);
            Assert.InRange(r.GetProperty("lr").GetDouble(), 1e-5, 1.01e-3);
        }
        foreach (var p in model.Parameters) Assert.Equal(-1, Jepa.Core.NonFinite.IndexIn(p.Value.ToArray()));
        var state = RunDirectory.ReadState(result.Checkpoint!);
        Assert.Equal((1e-33, 1), (state.LearningRateScale, state.Reloads));
    }

    [Fact]
    public void ReloadStopsAfterItsLimit()
    {
        var data = TinySetup.Pairs(8, 26);
        string run = Path.Combine(_dir, "reload-limit");
        using var model = TinySetup.Model(f.Ops, 6);
        var warnings = new List<string>();
        using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions(), Small(6) with
        {
            LearningRate = 1e30, WarmupSteps = 0, OnNonFinite = NonFiniteStep.Reload, MaxReloads = 2, AdamW = new(ClipNorm: 0),
        }, run);
        t.Warning += warnings.Add;
        var e = Assert.Throws<TrainingDivergedException>(() => t.Train(data));
        Assert.Contains("after 2 reloads", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(2, warnings.Count(w => w.Contains("went back to")));
        Assert.Equal(0.25, t.LearningRateScale);
        foreach (var p in model.Parameters) Assert.Equal(-1, Jepa.Core.NonFinite.IndexIn(p.Value.ToArray()));
    }

    [Fact]
    public void ReloadNeedsARunDirectory()
    {
        using var model = TinySetup.Model(f.Ops, 6);
        var e = Assert.Throws<ArgumentException>(() => new Trainer(model, TinySetup.Tokenizer, new JepaOptions(), Small(2) with { OnNonFinite = NonFiniteStep.Reload }));
        Assert.Contains("run directory", e.Message);
    }

    [Fact]
    public void ACheckpointStateWithoutTheReloadFieldsReadsAsNoReloads()
    {
        // Checkpoints written before the reload policy lack LearningRateScale and Reloads; they must resume at scale 1.
        string dir = Path.Combine(_dir, "old-state");
        Directory.CreateDirectory(dir);
        var state = new CheckpointState(3, 0, 12, TinySetup.Config(), new JepaOptions(), Small(4), "ByteTokenizer:271", 0.5, 2);
        var node = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(state, RunJson.Options))!.AsObject();
        Assert.True(node.Remove("LearningRateScale") | node.Remove("learningRateScale") | node.Remove("learning_rate_scale"));
        Assert.True(node.Remove("Reloads") | node.Remove("reloads"));
        File.WriteAllText(Path.Combine(dir, "state.json"), node.ToJsonString());
        var back = RunDirectory.ReadState(dir);
        Assert.Equal((3, 12, 1.0, 0), (back.Step, back.Position, back.LearningRateScale, back.Reloads));
    }

    [Fact]
    public void TheActivationEstimateIsALowerBoundOfWhatAStepUses()
    {
        // Every example is cut to max-length, so each batch is exactly batch × max-length tokens. The pool's peak over one
        // next-token step, above what the weights, gradients and moments already hold, must be at least the estimate (it is
        // a lower bound) and not far above it (else it would say little).
        var config = TinySetup.Config(d: 32, layers: 2, heads: 2, kv: 1, ffn: 64);
        var data = Enumerable.Range(0, 8).Select(i => new PairExample(null, new string((char)('a' + i), 90), "x+y*")).ToArray();
        using var model = TinySetup.Model(f.Ops, 3, config);
        var options = Small(2) with { BatchSize = 4, MaxLength = 48, MonitorEvery = 0 };
        using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions { Lambda = 0 }, options);
        t.Train(data); // the first step allocates gradients and moments
        var pool = model.Ops.Device.Pool;
        long before = pool.BytesInUse;
        pool.ResetPeak();
        using var t2 = new Trainer(model, TinySetup.Tokenizer, new JepaOptions { Lambda = 0 }, options with { Steps = 1 });
        t2.Train(data);
        long used = pool.PeakBytesInUse - before, estimate = config.ActivationBytes(4, 48);
        Assert.InRange(used, estimate, 4 * estimate); // 3.2× here: gradients of activations, temporaries, the pool's size buckets
    }

    [Fact]
    public void ABatchThatCannotFitIsRefusedWithTheEstimate()
    {
        using var model = TinySetup.Model(f.Ops, 6);
        var e = Assert.Throws<ArgumentException>(() =>
            new Trainer(model, TinySetup.Tokenizer, new JepaOptions(), Small(2) with { BatchSize = int.MaxValue / 2 }));
        Assert.Matches(@"^Training needs at least [\d.]+ GiB \(.* activations for a batch of 1073741823 × 64 tokens\), but .* has [\d.]+ GiB: lower --batch", e.Message);
    }

    [Fact]
    public void JepaDropoutOfOneIsTheBaselineBitForBit()
    {
        var data = TinySetup.Pairs(10, 21);
        float[][] Train(JepaOptions o)
        {
            using var model = TinySetup.Model(f.Ops, 9);
            using var t = new Trainer(model, TinySetup.Tokenizer, o, Small(3));
            var r = t.Train(data);
            Assert.Equal(3, r.Steps);
            Assert.True(double.IsNaN(r.Last!.JepaLoss));
            return Weights(model);
        }
        AssertSameWeights(Train(new JepaOptions { Lambda = 0 }), Train(new JepaOptions { Lambda = 1, JepaDropout = 1 }));
    }

    [Fact]
    public void TrainingIsBitwiseIndependentOfTheCpuThreadCount()
    {
        var data = TinySetup.Pairs(10, 25);
        float[][] Train(int chunks)
        {
            using var device = Jepa.Core.Device.Cpu(chunks);
            var ops = new Jepa.Kernels.KernelLibrary(device);
            using var model = TinySetup.Model(ops, 8, TinySetup.Config(d: 32, layers: 2, heads: 4, kv: 2, ffn: 48));
            using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions { Predictors = 1 }, Small(2));
            t.Train(data);
            return Weights(model);
        }
        AssertSameWeights(Train(1), Train(3));
    }

    [Theory]
    [InlineData(TargetEncoder.Shared, 0.5f)]
    [InlineData(TargetEncoder.Ema, 0f)]
    public void ResumeIsBitExact(TargetEncoder target, float dropout)
    {
        var data = TinySetup.Pairs(10, 22);
        var o = new JepaOptions { Predictors = 2, Target = target, JepaDropout = dropout, Views = ViewEncoding.Single };
        var opts = Small(5) with { GradAccumulation = 2 };
        float[][] straight;
        using (var model = TinySetup.Model(f.Ops, 4))
        using (var t = new Trainer(model, TinySetup.Tokenizer, o, opts))
        {
            t.Train(data);
            straight = Weights(model);
        }
        string run = Path.Combine(_dir, $"run-{target}");
        using (var model = TinySetup.Model(f.Ops, 4))
        using (var t = new Trainer(model, TinySetup.Tokenizer, o, opts, run))
        {
            using var cts = new CancellationTokenSource();
            var progress = new SyncProgress(m => { if (m.Step == 2) cts.Cancel(); });
            var r = t.Train(data, progress, cts.Token);
            Assert.True(r.Cancelled);
            Assert.Equal(2, r.Steps);
            Assert.EndsWith(RunDirectory.CheckpointName(2), r.Checkpoint);
        }
        using (var model = TinySetup.Model(f.Ops, 99)) // different init: everything must come from the checkpoint
        using (var t = new Trainer(model, TinySetup.Tokenizer, o, opts, run))
        {
            t.LoadCheckpoint(new RunDirectory(run).Checkpoints()[^1]);
            var r = t.Train(data);
            Assert.False(r.Cancelled);
            Assert.Equal(5, r.Steps);
            AssertSameWeights(straight, Weights(model));
        }
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(5, lines.Length);
        using var doc = JsonDocument.Parse(lines[^1]);
        foreach (var key in new[] { "step", "lm_loss", "jepa_loss", "cosine", "lr", "grad_norm", "tokens_per_s" })
            Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        Assert.Equal(5, doc.RootElement.GetProperty("step").GetInt32());
    }

    [Fact]
    public void CheckpointsAreWholeAndOnlyTheLastAreKept()
    {
        var data = TinySetup.Pairs(8, 23);
        string run = Path.Combine(_dir, "keep");
        using var model = TinySetup.Model(f.Ops, 2);
        using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions(), Small(4) with { CheckpointEvery = 1, KeepCheckpoints = 2 }, run);
        t.Train(data);
        var kept = new RunDirectory(run).Checkpoints().Select(Path.GetFileName).ToArray();
        Assert.Equal(new[] { RunDirectory.CheckpointName(3), RunDirectory.CheckpointName(4) }, kept);
        Assert.Empty(Directory.GetDirectories(Path.Combine(run, "checkpoints"), ".*"));
        var state = RunDirectory.ReadState(new RunDirectory(run).Checkpoints()[^1]);
        Assert.Equal(4, state.Step);
        Assert.Equal(model.Config, state.Model);
        // a damaged checkpoint is a clear error naming the file, and the model is not half-loaded silently
        string ckpt = new RunDirectory(run).Checkpoints()[^1];
        var bytes = File.ReadAllBytes(Path.Combine(ckpt, "model.safetensors"));
        File.WriteAllBytes(Path.Combine(ckpt, "model.safetensors"), bytes[..(bytes.Length / 2)]);
        var e = Assert.ThrowsAny<Exception>(() => t.LoadCheckpoint(ckpt));
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void TrainingLowersTheLmLossAndTheEmbeddingsCarryThePairsContent()
    {
        // Not "the pair cosine rises": collapse (every embedding the same) raises it to 1. What must rise is the gap
        // between matched and mismatched pairs, with each view's embeddings still spread. (With the old layout — the
        // predictor behind the end-of-turn token — this fails: the gap stays 0.000.)
        var data = TinySetup.Pairs(64, 24);
        using var model = TinySetup.Model(f.Ops, 1, TinySetup.Config(d: 32, layers: 2, heads: 4, kv: 2, ffn: 64));
        var seen = new List<StepMetrics>();
        using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions { Predictors = 1, SigReg = 0.05f, SigRegSlices = 64 },
            new TrainOptions { Steps = 120, BatchSize = 8, LearningRate = 3e-3, WarmupSteps = 10, Seed = 3, MaxLength = 64, MonitorEvery = 10 });
        t.Train(data, new SyncProgress(seen.Add));
        double firstLm = seen.Take(5).Average(m => m.LmLoss), lastLm = seen.TakeLast(5).Average(m => m.LmLoss);
        var monitored = seen.Where(m => !double.IsNaN(m.PairGap)).ToArray();
        Assert.True(lastLm < 0.6 * firstLm, $"LM loss {firstLm:F3} → {lastLm:F3}");
        Assert.InRange(monitored[0].PairGap, -0.1, 0.1); // at initialisation the embeddings know nothing of the pairing
        var late = monitored.TakeLast(3).ToArray();
        Assert.True(late.All(m => m.PairGap > 0.2), $"matched-minus-mismatched cosine late in training: {string.Join(", ", late.Select(m => m.PairGap.ToString("F3")))}");
        Assert.True(late.All(m => m.TextSpread > 0.3 && m.CodeSpread > 0.3 && !m.CollapseWarning), "a view collapsed");
    }

    [Fact]
    public void ACollapseIsWarnedOnceWhileItLastsAndEveryCollapsedStepIsRecorded()
    {
        // The old layout (the predictor behind the end-of-turn token) collapses from scratch within a few dozen steps.
        var data = TinySetup.Pairs(64, 24);
        using var model = TinySetup.Model(f.Ops, 1, TinySetup.Config(d: 32, layers: 2, heads: 4, kv: 2, ffn: 64));
        var seen = new List<StepMetrics>();
        var warnings = new List<string>();
        using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions { Predictors = 1, Placement = PredictorPlacement.AfterTurn },
            new TrainOptions { Steps = 120, BatchSize = 8, LearningRate = 3e-3, WarmupSteps = 10, Seed = 3, MaxLength = 64, MonitorEvery = 10 });
        t.Warning += warnings.Add;
        t.Train(data, new SyncProgress(seen.Add));
        int collapsedSteps = seen.Count(m => m.CollapseWarning);
        Assert.True(collapsedSteps >= 5, $"{collapsedSteps} collapsed monitored steps");
        Assert.All(seen.Where(m => m.CollapseWarning), m => Assert.InRange(m.PairGap, -0.02, 0.02));
        Assert.InRange(warnings.Count(w => w.Contains("collapsed")), 1, collapsedSteps / 2);
    }

    private sealed class SyncProgress(Action<StepMetrics> report) : IProgress<StepMetrics>
    {
        public void Report(StepMetrics value) => report(value);
    }
}
