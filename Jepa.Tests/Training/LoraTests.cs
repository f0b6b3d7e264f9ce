using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Training;

namespace Jepa.Tests.Training;

public sealed class LoraTests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-lora-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly LoraOptions All = new() { Rank = 3, Alpha = 6, Targets = LoraOptions.LlamaTargets };

    private static ModelConfig Tiny => TinySetup.Config(d: 16, layers: 2, heads: 2, kv: 1, ffn: 24);

    private static int[] Tokens(int n, int vocab, ulong seed = 3) =>
        Enumerable.Range(0, n).Select(i => Philox.NextInt(seed, 0, (ulong)i, vocab)).ToArray();

    /// <summary>Logits [B·T, V] of fixed tokens, on an inference tape (or a training tape keyed like the trainer's step 1).</summary>
    private float[] Logits(LlamaModel m, bool training = false, int B = 2, int T = 5)
    {
        using var batch = new SequenceBatch(f.Device, B, T, Tokens(B * T, m.Config.VocabSize), m.Config.VocabSize);
        using var tape = new Tape(m.Ops, recordGradients: training);
        tape.SetRandomKey(11, 1, 0);
        return m.Logits(tape, m.Forward(tape, batch)).Value.ToArray();
    }

    /// <summary>Gives every B (and A) random values so the adapters change the model.</summary>
    private static void Randomise(LoraAdapters lora, ulong seed, float scale = 0.3f)
    {
        ulong s = 0;
        foreach (var p in lora.Parameters)
        {
            var host = new float[p.Length];
            Philox.FillUniform(host, seed, s++, -scale, scale);
            p.Value.CopyFrom(host);
        }
    }

    private static float[][] Values(IEnumerable<Jepa.Training.Autograd.Parameter> ps) => ps.Select(p => p.Value.ToArray()).ToArray();

    [Theory]
    [InlineData(Jepa.Kernels.KernelPath.Host)]
    [InlineData(Jepa.Kernels.KernelPath.Kernel)]
    public void ZeroBIsTheBaseModelBitForBit(Jepa.Kernels.KernelPath path)
    {
        using var model = TinySetup.Model(f.Lib(path), 5, Tiny with { QkvBias = true, OutputBias = true });
        var base_ = Logits(model);
        var lora = model.AttachLora(All with { Dropout = 0.2f }, seed: 1);
        Assert.Equal(2 * 7, lora.Adapters.Count);
        Reference.AssertBitwiseEqual(base_, Logits(model), "logits with B = 0 (inference)");
        Assert.All(lora.Adapters, a => Assert.Contains(a.A.Value.ToArray(), v => v != 0)); // A is drawn, B is zero
        // generation's cached path goes through the same projections
        using var cache = new KvCache(model.Device, model.Config, 1, 8);
        using var tape = new Tape(model.Ops, recordGradients: false);
        var ids = Tokens(5, model.Config.VocabSize);
        var cached = model.Logits(tape, model.ForwardCached(tape, cache, ids, 5)).Value.ToArray();
        model.DetachLora();
        using var cache2 = new KvCache(model.Device, model.Config, 1, 8);
        using var tape2 = new Tape(model.Ops, recordGradients: false);
        Reference.AssertBitwiseEqual(model.Logits(tape2, model.ForwardCached(tape2, cache2, ids, 5)).Value.ToArray(), cached, "cached forward with B = 0");
    }

    [Theory]
    [InlineData(Jepa.Kernels.KernelPath.Host)]
    [InlineData(Jepa.Kernels.KernelPath.Kernel)]
    public void DropoutLinearIsLinearOfDropoutWithoutKeepingTheMask(Jepa.Kernels.KernelPath path)
    {
        int rows = 6, k = 7, r = 3; float p = 0.3f;
        var x = Reference.Random(rows * k, 1); var a = Reference.Random(r * k, 2); var w = Reference.Random(rows * r, 3);
        float[][] Run(bool fused)
        {
            using var tx = f.Upload(x, rows, k);
            using var pa = new Jepa.Training.Autograd.Parameter(f.Upload(a, r, k), "a");
            using var tape = new Tape(f.Lib(path));
            tape.SetRandomKey(4, 2, 1);
            var vx = tape.Input(tx, requiresGrad: true);
            var y = fused ? tape.DropoutLinear(vx, pa, p) : tape.Linear(tape.Dropout(vx, p), pa);
            tape.Backward(y, w);
            return [y.Value.ToArray(), vx.Grad!.ToArray(), pa.Grad!.ToArray()];
        }
        var fusedRun = Run(true); var plain = Run(false);
        for (int i = 0; i < 3; i++) Reference.AssertBitwiseEqual(fusedRun[i], plain[i], $"output {i}");
        Assert.Contains(fusedRun[0], v => v != 0);
        using var t2 = f.Upload(x, rows, k);
        using var inference = new Tape(f.Ops, recordGradients: false);
        var same = inference.Input(t2);
        Assert.Same(same, inference.Dropout(same, p)); // no dropout at inference
    }

    [Fact]
    public void AttachFreezesTheBaseAndInitialisesLikePeft()
    {
        using var model = TinySetup.Model(f.Ops, 5, Tiny);
        var lora = model.AttachLora(new LoraOptions { Rank = 4, Alpha = 8, Targets = ["q_proj", "down_proj"] }, seed: 9);
        Assert.All(model.Parameters, p => { Assert.True(p.Frozen); Assert.Null(p.Grad); });
        Assert.Equal(lora.Parameters, model.TrainableParameters);
        Assert.Equal(2f, lora.Scale);
        var down = lora.Get(1, Projection.Down)!;
        Assert.Equal(new[] { 4, 24 }, down.A.Value.Shape.ToArray());
        Assert.Equal(new[] { 16, 4 }, down.B.Value.Shape.ToArray());
        float bound = 1f / MathF.Sqrt(24);
        var a = down.A.Value.ToArray();
        Assert.All(a, v => Assert.InRange(v, -bound, bound));
        var want = new float[a.Length];
        Philox.FillUniform(want, 9, (ulong)(1 * 7 + 6), -bound, bound);
        Reference.AssertBitwiseEqual(a, want, "A from Philox stream layer·7 + target");
        Assert.All(down.B.Value.ToArray(), v => Assert.Equal(0f, v));
        Assert.Null(lora.Get(0, Projection.V));
        model.DetachLora();
        Assert.All(model.Parameters, p => Assert.NotNull(p.Grad));
        Assert.Equal(model.Parameters.Count, model.TrainableParameters.Count);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.25f)]
    public void AdapterGradientsMatchFiniteDifferencesThroughTheWholeModel(float dropout)
    {
        using var model = TinySetup.Model(f.Ops, 6, Tiny with { QkvBias = true });
        var lora = model.AttachLora(new LoraOptions { Rank = 2, Alpha = 2, Dropout = dropout, Targets = ["q_proj", "v_proj", "o_proj", "up_proj", "down_proj"] }, seed: 2);
        Randomise(lora, 4, 0.5f);
        int B = 2, T = 4, V = model.Config.VocabSize;
        using var batch = new SequenceBatch(f.Device, B, T, Tokens(B * T, V), V);
        var w = Reference.Random(B * T * V, 12); // loss = Σ w·logits, summed on the host in float64
        double Loss(bool backward)
        {
            using var tape = new Tape(model.Ops);
            tape.SetRandomKey(3, 1, 0); // the same masks in every evaluation
            var logits = model.Logits(tape, model.Forward(tape, batch));
            if (backward) tape.Backward(logits, w);
            return GradCheck.Dot(Reference.ToDouble(logits.Value.ToArray()), Reference.ToDouble(w));
        }
        model.ZeroGrad();
        Loss(backward: true);
        foreach (var (p, index) in new[] { (lora.Get(0, Projection.Q)!.A, 5), (lora.Get(0, Projection.Q)!.B, 7), (lora.Get(1, Projection.V)!.A, 3), (lora.Get(1, Projection.O)!.B, 11), (lora.Get(0, Projection.Up)!.A, 20), (lora.Get(1, Projection.Down)!.B, 9) })
        {
            var host = p.Value.ToArray();
            double analytic = p.Grad!.ToArray()[index];
            float keep = host[index], h = 1e-2f;
            host[index] = keep + h; p.Value.CopyFrom(host); double up = Loss(false);
            host[index] = keep - h; p.Value.CopyFrom(host); double down = Loss(false);
            host[index] = keep; p.Value.CopyFrom(host);
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic) <= 5e-3 * Math.Abs(analytic) + 2e-5,
                $"{p.Name}[{index}]: analytic {analytic:E4} vs numeric {numeric:E4}");
        }
    }

    [Fact]
    public void TrainingMovesOnlyTheAdaptersAndIsDeterministicWithDropout()
    {
        var data = TinySetup.Pairs(8, 31);
        var opts = new TrainOptions { Steps = 2, BatchSize = 4, LearningRate = 1e-2, WarmupSteps = 1, Seed = 5, MaxLength = 64, MonitorEvery = 0 };
        float[][] Train(out float[][] before, out float[][] baseAfter)
        {
            using var model = TinySetup.Model(f.Ops, 4, Tiny);
            var lora = model.AttachLora(All with { Dropout = 0.3f }, seed: 1);
            var base0 = Values(model.Parameters);
            before = Values(lora.Parameters);
            using var t = new Trainer(model, TinySetup.Tokenizer, new JepaOptions { Predictors = 1 }, opts);
            Assert.Equal(lora.Parameters, t.Optimizer.Parameters);
            t.Train(data);
            baseAfter = Values(model.Parameters);
            for (int i = 0; i < base0.Length; i++) Reference.AssertBitwiseEqual(base0[i], baseAfter[i], model.Parameters[i].Name);
            return Values(lora.Parameters);
        }
        var after = Train(out var before, out _);
        for (int i = 0; i < after.Length; i += 2)
        {
            Assert.False(after[i].SequenceEqual(before[i]), "an A did not move");
            Assert.Contains(after[i + 1], v => v != 0); // B left zero
        }
        var again = Train(out _, out _);
        for (int i = 0; i < after.Length; i++) Reference.AssertBitwiseEqual(after[i], again[i], $"adapter tensor {i} (second run)");
    }

    [Fact]
    public void SavedAdapterUsesPeftNamesAndReloadsBitForBit()
    {
        using var model = TinySetup.Model(f.Ops, 5, Tiny);
        var lora = model.AttachLora(new LoraOptions { Rank = 3, Alpha = 12, Dropout = 0.05f, Targets = ["q_proj", "k_proj", "gate_proj"] }, seed: 2);
        Randomise(lora, 6);
        var adapted = Logits(model);
        string dir = Path.Combine(_dir, "adapter");
        lora.Save(dir, "tiny/base");
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        using (var st = SafetensorsReader.Open(Path.Combine(dir, PeftConfig.WeightsFileName)))
        {
            Assert.Equal(2 * 3 * 2, st.Tensors.Count);
            Assert.Equal(new[] { 3, 16 }, st.Info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").Shape.ToArray());
            Assert.Equal(new[] { 16, 3 }, st.Info("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight").Shape.ToArray());
            Assert.Equal(new[] { 8, 3 }, st.Info("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight").Shape.ToArray());
            Assert.Equal(new[] { 3, 16 }, st.Info("base_model.model.model.layers.1.mlp.gate_proj.lora_A.weight").Shape.ToArray());
            Assert.Equal(new[] { 24, 3 }, st.Info("base_model.model.model.layers.0.mlp.gate_proj.lora_B.weight").Shape.ToArray());
            Assert.Equal("pt", st.Metadata["format"]);
        }
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftConfig.FileName)))!.AsObject();
        Assert.Equal("LORA", (string?)cfg["peft_type"]);
        Assert.Equal("CAUSAL_LM", (string?)cfg["task_type"]);
        Assert.Equal(3, (int)cfg["r"]!);
        Assert.Equal(12, (int)cfg["lora_alpha"]!);
        Assert.Equal(0.05, (double)cfg["lora_dropout"]!);
        Assert.Equal(new[] { "q_proj", "k_proj", "gate_proj" }, cfg["target_modules"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("none", (string?)cfg["bias"]);
        foreach (var flag in new[] { "fan_in_fan_out", "use_rslora", "use_dora" }) Assert.False((bool)cfg[flag]!, flag);
        Assert.True((bool)cfg["init_lora_weights"]!);
        Assert.True((bool)cfg["inference_mode"]!);
        Assert.True(cfg.ContainsKey("modules_to_save") && cfg["modules_to_save"] is null);
        Assert.Equal("tiny/base", (string?)cfg["base_model_name_or_path"]);

        using var fresh = TinySetup.Model(f.Ops, 5, Tiny);
        var loaded = fresh.LoadLora(dir);
        Assert.True(loaded.Options.SameAs(lora.Options));
        Assert.All(fresh.Parameters, p => Assert.True(p.Frozen));
        Reference.AssertBitwiseEqual(adapted, Logits(fresh), "logits after save → load");
    }

    [Fact]
    public void MergedModelMatchesTheAdaptedOneAndExportsInTheHuggingFaceLayout()
    {
        // the tiny-llama fixture: GQA, untied head, real shapes
        var config = new ModelConfig(VocabSize: 128, DModel: 64, Layers: 2, Heads: 4, KvHeads: 2, Ffn: 176, MaxLength: 128);
        string fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-llama", "model.safetensors");
        using var weights = SafetensorsReader.Open(fixture);
        using var model = LlamaModel.FromTensors(config, f.Ops, (name, _) => weights.ReadTensor(name, f.Device));
        var lora = model.AttachLora(All with { Dropout = 0.1f }, seed: 3);
        Randomise(lora, 7, 0.2f);
        var adapted = Logits(model);
        var wq = model.Blocks[0].Wq!.Value.ToArray();
        model.MergeLora();
        Assert.Null(model.Lora);
        Assert.All(model.Parameters, p => Assert.False(p.Frozen));
        Assert.False(wq.SequenceEqual(model.Blocks[0].Wq!.Value.ToArray()));
        var merged = Logits(model);
        Reference.AssertClose(merged, Reference.ToDouble(adapted), 1e-5, "merged vs adapted logits");

        string dir = Path.Combine(_dir, "merged");
        Directory.CreateDirectory(dir);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), model.Parameters.ToDictionary(p => p.Name, p => p.Value));
        File.WriteAllText(Path.Combine(dir, "config.json"), HfConfig.ToJson(model.Config));
        using var reread = SafetensorsReader.Open(dir);
        using var again = LlamaModel.FromTensors(HfConfig.FromJson(File.ReadAllText(Path.Combine(dir, "config.json")), "config.json"), f.Ops,
            (name, _) => reread.Contains(name) ? reread.ReadTensor(name, f.Device) : null);
        Reference.AssertBitwiseEqual(merged, Logits(again), "merged export saved and reloaded");
    }

    [Fact]
    public void ResumeInLoraModeIsBitExact()
    {
        var data = TinySetup.Pairs(10, 22);
        var o = new JepaOptions { Predictors = 2, JepaDropout = 0.5f, Views = ViewEncoding.Single };
        var opts = new TrainOptions { Steps = 4, BatchSize = 4, LearningRate = 3e-3, WarmupSteps = 2, Seed = 5, MaxLength = 64, MonitorEvery = 2, GradAccumulation = 2 };
        var lo = All with { Dropout = 0.2f };
        float[][] straight;
        using (var model = TinySetup.Model(f.Ops, 4, Tiny))
        {
            model.AttachLora(lo, seed: 1);
            using var t = new Trainer(model, TinySetup.Tokenizer, o, opts);
            t.Train(data);
            straight = Values(model.TrainableParameters);
        }
        string run = Path.Combine(_dir, "run");
        using (var model = TinySetup.Model(f.Ops, 4, Tiny))
        {
            model.AttachLora(lo, seed: 1);
            using var t = new Trainer(model, TinySetup.Tokenizer, o, opts, run);
            using var cts = new CancellationTokenSource();
            var r = t.Train(data, new SyncProgress(m => { if (m.Step == 2) cts.Cancel(); }), cts.Token);
            Assert.True(r.Cancelled);
        }
        string ckpt = new RunDirectory(run).Checkpoints()[^1];
        Assert.True(File.Exists(Path.Combine(ckpt, PeftConfig.WeightsFileName)));
        Assert.True(File.Exists(Path.Combine(ckpt, PeftConfig.FileName)));
        Assert.False(File.Exists(Path.Combine(ckpt, "model.safetensors"))); // the frozen base is not copied
        using (var model = TinySetup.Model(f.Ops, 4, Tiny))
        {
            model.AttachLora(lo, seed: 99); // other adapters: everything must come from the checkpoint
            using var t = new Trainer(model, TinySetup.Tokenizer, o, opts, run);
            t.LoadCheckpoint(ckpt);
            Assert.Equal(4, t.Train(data).Steps);
            var resumed = Values(model.TrainableParameters);
            for (int i = 0; i < straight.Length; i++) Reference.AssertBitwiseEqual(straight[i], resumed[i], $"adapter tensor {i}");
        }
        using (var model = TinySetup.Model(f.Ops, 4, Tiny))
        {
            using var t = new Trainer(model, TinySetup.Tokenizer, o, opts);
            Assert.Contains("attach LoRA", Assert.Throws<InvalidDataException>(() => t.LoadCheckpoint(ckpt)).Message);
        }
        using (var model = TinySetup.Model(f.Ops, 4, Tiny))
        {
            model.AttachLora(lo with { Rank = 2 }, seed: 1);
            using var t = new Trainer(model, TinySetup.Tokenizer, o, opts);
            Assert.Contains("r=3", Assert.Throws<InvalidDataException>(() => t.LoadCheckpoint(ckpt)).Message);
        }
    }

    [Fact]
    public void ErrorsNameWhatIsWrong()
    {
        Assert.Contains("Rank", Assert.Throws<ArgumentException>(() => new LoraOptions { Rank = 0 }.Validate()).Message);
        Assert.Contains("Alpha", Assert.Throws<ArgumentException>(() => new LoraOptions { Alpha = -1 }.Validate()).Message);
        Assert.Contains("Dropout", Assert.Throws<ArgumentException>(() => new LoraOptions { Dropout = 1 }.Validate()).Message);
        Assert.Contains("'lm_head'", Assert.Throws<ArgumentException>(() => new LoraOptions { Targets = ["q_proj", "lm_head"] }.Validate()).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new LoraOptions { Targets = ["q_proj", "q_proj"] }.Validate()).Message);
        Assert.Contains("Targets", Assert.Throws<ArgumentException>(() => new LoraOptions { Targets = [] }.Validate()).Message);

        using var model = TinySetup.Model(f.Ops, 5, Tiny);
        var lora = model.AttachLora(new LoraOptions { Rank = 2, Targets = ["v_proj"] }, 1);
        Assert.Throws<InvalidOperationException>(() => model.AttachLora(All, 1));
        Assert.Contains("EMA", Assert.Throws<ArgumentException>(() =>
            new Trainer(model, TinySetup.Tokenizer, new JepaOptions { Target = TargetEncoder.Ema }, new TrainOptions { Steps = 1, MaxLength = 64 })).Message);
        using (var other = TinySetup.Model(f.Ops, 5, Tiny))
        using (var t = new Trainer(other, TinySetup.Tokenizer, new JepaOptions(), new TrainOptions { Steps = 1, BatchSize = 2, MaxLength = 64 }))
        {
            other.AttachLora(All, 1); // after the trainer (and its optimizer) exist
            Assert.Contains("frozen after the optimizer was created", Assert.Throws<InvalidOperationException>(() => t.Train(TinySetup.Pairs(2, 1))).Message);
        }
        string dir = Path.Combine(_dir, "a");
        lora.Save(dir);
        model.DetachLora();

        string cfgPath = Path.Combine(dir, PeftConfig.FileName), weightsPath = Path.Combine(dir, PeftConfig.WeightsFileName);
        string cfg = File.ReadAllText(cfgPath);
        void Expect(string what, Action edit)
        {
            using (var m = TinySetup.Model(f.Ops, 5, Tiny)) m.AttachLora(new LoraOptions { Rank = 2, Targets = ["v_proj"] }, 1).Save(dir);
            edit();
            var e = Assert.Throws<InvalidDataException>(() => model.LoadLora(dir));
            Assert.Contains(what, e.Message);
            Assert.Null(model.Lora);
            Assert.All(model.Parameters, p => Assert.False(p.Frozen));
        }
        Expect("peft_type is 'IA3'", () => File.WriteAllText(cfgPath, cfg.Replace("\"LORA\"", "\"IA3\"")));
        Expect("v_proj.lora_A.weight' is not one of this adapter's", () => File.WriteAllText(cfgPath, cfg.Replace("\"v_proj\"", "\"o_proj\""))); // target mismatch
        Expect("has shape [2, 16], expected [3, 16]", () => File.WriteAllText(cfgPath, cfg.Replace("\"r\": 2", "\"r\": 3"))); // rank mismatch
        Expect("lora_B.weight' is missing", () =>
        {
            using var m = TinySetup.Model(f.Ops, 5, Tiny);
            var l = m.AttachLora(new LoraOptions { Rank = 2, Targets = ["v_proj"] }, 1);
            SafetensorsWriter.Write(weightsPath, l.Parameters.Where(p => p.Name.Contains("lora_A")).ToDictionary(p => p.Name, p => p.Value));
        });
        Expect("use_dora true is not supported", () => File.WriteAllText(cfgPath, cfg.Replace("\"use_dora\": false", "\"use_dora\": true")));
        Expect("adapter_config.json is missing", () => File.Delete(cfgPath));
    }

    [Fact]
    public void JepaModelTrainsSavesLoadsAndMergesLora()
    {
        var device = new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = 2 };
        var config = TinySetup.Config(d: 16, layers: 1, heads: 2, kv: 1, ffn: 24);
        var data = TinySetup.Pairs(8, 41);
        string adapter = Path.Combine(_dir, "jm-adapter"), merged = Path.Combine(_dir, "jm-merged");
        float[] adapted;
        using (var jm = Jepa.Training.JepaModel.Create(config, seed: 3, device, predictorTokens: 4))
        {
            var lora = jm.AttachLora(new LoraOptions { Dropout = 0.1f }, seed: 5); // PEFT's default targets: q_proj, v_proj
            var r = jm.Train(data, new JepaOptions { Predictors = 1 }, new TrainOptions { Steps = 2, BatchSize = 4, LearningRate = 1e-2, MaxLength = 64, MonitorEvery = 0 });
            Assert.Equal(2, r.Steps);
            Assert.Contains(lora.Adapters[0].B.Value.ToArray(), v => v != 0);
            Assert.Contains("SaveLora", Assert.Throws<InvalidOperationException>(() => jm.Save(merged)).Message);
            jm.SaveLora(adapter);
            adapted = jm.Embed("abc");
        }
        using (var jm = Jepa.Training.JepaModel.Create(config, seed: 3, device, predictorTokens: 4))
        {
            jm.LoadLora(adapter);
            Reference.AssertBitwiseEqual(adapted, jm.Embed("abc"), "embedding after SaveLora → LoadLora");
            jm.MergeLora();
            Assert.Null(jm.Lora);
            jm.Save(merged);
        }
        using (var jm = Jepa.Training.JepaModel.Load(merged, device))
            Reference.AssertClose(jm.Embed("abc"), Reference.ToDouble(adapted), 1e-5, "merged model saved and loaded");
    }

    private sealed class SyncProgress(Action<StepMetrics> report) : IProgress<StepMetrics>
    {
        public void Report(StepMetrics value) => report(value);
    }
}
