using System.Text.Json.Nodes;
using Jepa.Core.Safetensors;
using Jepa.Tests.Cli;
using Jepa.Tests.Support;
using Jepa.Tests.Training;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Objective;

namespace Jepa.Tests.Model;

/// <summary>OpenELM: its config (layer-wise scaling computed as OpenELMConfig does), the fused projections and per-layer widths
/// against an independent float64 forward (each feature removed or misread makes it fail), the gradient, cached generation,
/// saving, <c>jepa forward</c>, and LoRA (on the fused projections, in PEFT's OpenELM names) and full JEPA training steps.</summary>
public sealed class OpenElmTests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-openelm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly int[] Ids = [3, 17, 42, 0, 9, 9, 31, 5, 48, 12, 7];

    private LlamaModel LoadTiny(Dictionary<string, (float[] Data, int[] Shape)> weights)
    {
        TinyOpenElm.Write(_dir, weights);
        return HfCheckpoint.Load(_dir, f.Ops);
    }

    [Fact]
    public void ConfigComputesTheLayerWiseScalingAsOpenElmConfigDoesAndRoundTrips()
    {
        var c = HfConfig.FromJson(TinyOpenElm.Config().ToJsonString(), "config.json");
        Assert.True(c is { OpenElm: true, QkNorm: true, TieEmbeddings: true, HeadDim: 4, Heads: 6, KvHeads: 3, Ffn: 48, Layers: 4, NormEps: 1e-6 });
        Assert.Equal(TinyOpenElm.QueryHeads, Enumerable.Range(0, 4).Select(c.HeadsOf));
        Assert.Equal(TinyOpenElm.KvHeads, Enumerable.Range(0, 4).Select(c.KvHeadsOf));
        Assert.Equal(TinyOpenElm.Ffn, Enumerable.Range(0, 4).Select(c.FfnOf));
        Assert.Equal(TinyOpenElm.Weights().Values.Sum(t => (long)t.Data.Length), c.ParameterCount());
        Assert.Equal(c, HfConfig.FromJson(HfConfig.ToJson(c), "round trip"));
        Assert.Equal("OpenELMForCausalLM", (string?)JsonNode.Parse(HfConfig.ToJson(c))!["architectures"]![0]);

        // Apple's OpenELM-270M: 16 layers of model_dim 1280, head_dim 64, 4 GQA groups, qkv (0.5, 1.0), ffn (0.5, 4.0); its first
        // layer's qkv_proj is [1152, 1280] (12 + 3 + 3 heads) and out_proj [1280, 768], its last has 20 query heads
        var apple = HfConfig.FromJson("""
            {"model_type": "openelm", "architectures": ["OpenELMForCausalLM"], "vocab_size": 32000, "num_transformer_layers": 16,
             "model_dim": 1280, "head_dim": 64, "num_gqa_groups": 4, "qkv_multipliers": [0.5, 1.0], "ffn_multipliers": [0.5, 4.0],
             "ffn_dim_divisor": 256, "normalize_qk_projections": true, "share_input_output_layers": true, "max_context_length": 2048}
            """, "OpenELM-270M");
        Assert.Equal([12, 12, 12, 12, 12, 16, 16, 16, 16, 16, 16, 16, 20, 20, 20, 20], Enumerable.Range(0, 16).Select(apple.HeadsOf));
        Assert.Equal(3, apple.KvHeadsOf(0));
        Assert.Equal(768, apple.FfnOf(0)); // make_divisible(640, 256)
        Assert.Equal(5120, apple.FfnOf(15));

        // the lists a saved config states must agree with the multipliers
        var wrong = TinyOpenElm.Config();
        wrong["num_query_heads"] = new JsonArray(4, 4, 4, 4);
        Assert.Contains("num_query_heads", Assert.Throws<InvalidDataException>(() => HfConfig.FromJson(wrong.ToJsonString(), "config.json")).Message);
        var ungated = TinyOpenElm.Config();
        ungated["ffn_with_glu"] = false;
        Assert.Contains("ffn_with_glu", Assert.Throws<InvalidDataException>(() => HfConfig.FromJson(ungated.ToJsonString(), "config.json")).Message);
    }

    [Theory]
    [InlineData(0.625, 0.62)]  // an exact tie rounds to even, as Python's round
    [InlineData(0.375, 0.38)]
    [InlineData(2.675, 2.67)]  // 2.675 is 2.67499999… in binary
    [InlineData(0.6666666666666666, 0.67)]
    [InlineData(1.0, 1.0)]
    public void RoundingToTwoDecimalsIsPythons(double x, double expected) => Assert.Equal(expected, LayerScaling.Round2(x));

    [Theory]
    [InlineData(12.0, 8, 16)]
    [InlineData(16.08, 8, 16)]
    [InlineData(19.92, 8, 24)] // 16 would be more than 10 % below
    [InlineData(640.0, 256, 768)]
    [InlineData(3.0, 8, 8)]    // at least the divisor
    public void MakeDivisibleIsOpenElms(double v, int divisor, int expected) => Assert.Equal(expected, LayerScaling.MakeDivisible(v, divisor));

    [Fact]
    public void LoadedFolderMatchesTheFloat64ReferenceAndEachFeatureMatters()
    {
        var weights = TinyOpenElm.Weights();
        using var model = LoadTiny(weights);
        var (hidden, logits) = FamilyChecks.Run(f, model, Ids);
        var w = FamilyChecks.ToDouble(weights);
        var expected = OpenElmReference.Forward(w, Ids);
        Reference.AssertClose(hidden, expected.Hidden, 1e-4, "final hidden states");
        Reference.AssertClose(logits, expected.Logits, 1e-4, "logits");
        Assert.True(Reference.RelativeError(logits, expected.Logits) < 1e-5, "logits within float32 rounding");
        foreach (var (what, other) in new[]
        {
            ("the q/k norms", OpenElmReference.Forward(w, Ids, new(QkNorm: true))),
            ("the q, k, v order of the fused rows", OpenElmReference.Forward(w, Ids, new(QkvOrder: true))),
            ("the gate-then-up order of proj_1", OpenElmReference.Forward(w, Ids, new(GateUpOrder: true))),
        })
            Assert.True(Reference.RelativeError(logits, other.Logits) > 1e-2, $"{what} change the logits");
    }

    [Fact]
    public void WithoutTheLayerWiseScalingTheWeightsDoNotFitAndTheLoaderSaysWhich()
    {
        TinyOpenElm.Write(_dir, TinyOpenElm.Weights());
        var uniform = TinyOpenElm.Config();
        uniform["qkv_multipliers"] = 1.0;
        uniform.Remove("num_query_heads");
        uniform.Remove("num_kv_heads");
        File.WriteAllText(Path.Combine(_dir, "config.json"), uniform.ToJsonString());
        Assert.Contains("transformer.layers.0.attn.qkv_proj.weight", Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops)).Message);
        var sameFfn = TinyOpenElm.Config();
        sameFfn["ffn_multipliers"] = 2.0;
        File.WriteAllText(Path.Combine(_dir, "config.json"), sameFfn.ToJsonString());
        Assert.Contains("transformer.layers.0.ffn.proj_1.weight", Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops)).Message);
    }

    [Fact]
    public void GradientThroughTheFusedProjectionsMatchesFloat64FiniteDifferences()
    {
        var weights = TinyOpenElm.Weights();
        using var model = LoadTiny(weights);
        // rows of qkv_proj in its query, key and value parts; proj_1's gate and up halves; a q norm
        var names = new[] { "transformer.layers.0.attn.qkv_proj.weight", "transformer.layers.3.attn.qkv_proj.weight",
            "transformer.layers.2.ffn.proj_1.weight", "transformer.layers.1.attn.k_norm.weight", "transformer.layers.3.ffn.proj_2.weight" };
        FamilyChecks.AssertGradientsMatchFiniteDifferences(f, model, FamilyChecks.ToDouble(weights), Ids[..7], 91, names,
            a => Enumerable.Range(0, a.Length).OrderByDescending(i => Math.Abs(a[i])).Take(4).Concat([1, a.Length / 2 + 1, a.Length - 2]),
            w => OpenElmReference.Forward(w, Ids[..7]).Logits);
    }

    [Fact]
    public void CachedGreedyGenerationEqualsTheFullForwardsArgmax()
    {
        using var model = LoadTiny(TinyOpenElm.Weights());
        FamilyChecks.AssertCachedGenerationMatchesTheFullForward(f, model, Ids[..5], 8);
    }

    [Fact]
    public void SavedModelIsAnOpenElmFolderAndLoadsBackBitwise()
    {
        using var model = LoadTiny(TinyOpenElm.Weights());
        FamilyChecks.AssertSavesAndLoadsBackBitwise(f, model, Path.Combine(_dir, "saved"), TinyOpenElm.Weights().Keys, Ids);
    }

    [Fact]
    public void JepaForwardCommandReproducesTheReference()
    {
        var weights = TinyOpenElm.Weights();
        TinyOpenElm.Write(_dir, weights);
        FamilyChecks.AssertForwardCommandMatches(_dir, Ids, OpenElmReference.Forward(FamilyChecks.ToDouble(weights), Ids));
    }

    [Fact]
    public void LoraTargetsAreOpenElmsProjectionsInPeftsNames()
    {
        using var model = LoadTiny(TinyOpenElm.Weights());
        Assert.Equal(["qkv_proj", "out_proj", "proj_1", "proj_2"], model.LoraTargets);
        Assert.Contains("qkv_proj", Assert.Throws<ArgumentException>(() => model.AttachLora(new LoraOptions { Targets = ["q_proj"] })).Message);
        var lora = model.AttachLora(new LoraOptions { Rank = 2, Targets = ["qkv_proj", "proj_2"] }, seed: 1);
        Assert.Equal("base_model.model.transformer.layers.3.attn.qkv_proj.lora_B.weight", lora.Adapters[6].B.Name);
        Assert.Equal([(6 + 2 * 3) * 4, 2], lora.Adapters[6].B.Shape);
        Assert.Equal("base_model.model.transformer.layers.0.ffn.proj_2.lora_A.weight", lora.Adapters[1].A.Name);
    }

    [Fact]
    public void MergedLoraOnTheFusedProjectionsComputesWhatTheAdaptedModelDid()
    {
        using var model = LoadTiny(TinyOpenElm.Weights());
        var lora = model.AttachLora(new LoraOptions { Rank = 2, Targets = ["qkv_proj", "out_proj", "proj_1", "proj_2"] }, seed: 1);
        ulong s = 5;
        foreach (var a in lora.Adapters) a.B.Value.CopyFrom(Reference.Random(checked((int)a.B.Value.Length), s++, -0.3f, 0.3f));
        var adapted = FamilyChecks.Run(f, model, Ids).Logits;
        model.MergeLora();
        Reference.AssertClose(FamilyChecks.Run(f, model, Ids).Logits, Reference.ToDouble(adapted), 1e-5, "merged vs adapted logits");
        Assert.True(Reference.RelativeError(adapted, OpenElmReference.Forward(FamilyChecks.ToDouble(TinyOpenElm.Weights()), Ids).Logits) > 1e-2,
            "the adapters changed the model");
    }

    private static ModelConfig TrainableConfig()
    {
        var scaling = new LayerScaling([0.5, 1.0], [1.0, 2.0], 2, 8);
        var c = TinySetup.Config(d: 16, layers: 2, heads: 4, kv: 2, ffn: 32) with { HeadSize = 4, NormEps = 1e-6, QkNorm = true, OpenElm = true, LayerScaling = scaling };
        return c.Validate();
    }

    private static float[] Norms(LlamaModel model) =>
        [.. model.Parameters.Where(p => p.Name.EndsWith("norm.weight", StringComparison.Ordinal) && p.Name.StartsWith("transformer.layers.", StringComparison.Ordinal))
            .SelectMany(p => p.Value.ToArray())];

    [Theory]
    [InlineData(false, ViewEncoding.Separate)]
    [InlineData(false, ViewEncoding.Single)]
    [InlineData(true, ViewEncoding.Single)]
    public void JepaTrainingStepsRunFullOrWithLoraWhichKeepsTheNormsFrozen(bool lora, ViewEncoding views)
    {
        using var model = LlamaModel.Create(TrainableConfig(), f.Ops, 3);
        Assert.Equal([2, 4], Enumerable.Range(0, 2).Select(model.Config.HeadsOf));
        if (lora) model.AttachLora(new LoraOptions { Rank = 2, Targets = ["qkv_proj", "proj_1"] }, seed: 1);
        FamilyChecks.AssertJepaStepsTrain(model, views, () => Norms(model));
    }
}
