using System.Text.Json.Nodes;
using Jepa.Core.Safetensors;
using Jepa.Tests.Cli;
using Jepa.Tests.Support;
using Jepa.Tests.Training;
using Jepa.Training.Autograd;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Objective;

namespace Jepa.Tests.Model;

/// <summary>OLMo-2: its config, the post-norm blocks and the q/k norms across heads against an independent float64 forward
/// (each feature removed makes it fail), the gradient, cached generation, saving, <c>jepa forward</c>, and LoRA and full
/// JEPA training steps.</summary>
public sealed class Olmo2Tests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-olmo2-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly int[] Ids = [3, 17, 42, 0, 9, 9, 31, 5, 48, 12, 7];

    private static Dictionary<string, double[]> ToDouble(Dictionary<string, (float[] Data, int[] Shape)> w) => FamilyChecks.ToDouble(w);

    private LlamaModel LoadTiny(Dictionary<string, (float[] Data, int[] Shape)> weights)
    {
        TinyOlmo2.Write(_dir, weights);
        return HfCheckpoint.Load(_dir, f.Ops);
    }

    private (float[] Hidden, float[] Logits) Run(LlamaModel model, int[] ids) => FamilyChecks.Run(f, model, ids);

    [Fact]
    public void ConfigReadsPostNormAndQkNormAcrossHeadsAndRoundTrips()
    {
        var c = HfConfig.FromJson(TinyOlmo2.Config().ToJsonString(), "config.json");
        Assert.True(c is { PostNorm: true, QkNorm: true, QkNormAcrossHeads: true, QkvBias: false, OutputBias: false, HeadDim: 6, TieEmbeddings: false, KvHeads: 2 });
        Assert.Equal((24, 12), c.QkNormWidths);
        Assert.Equal(TinyOlmo2.Weights().Values.Sum(t => (long)t.Data.Length), c.ParameterCount());
        Assert.Equal(c, HfConfig.FromJson(HfConfig.ToJson(c), "round trip"));
        var back = JsonNode.Parse(HfConfig.ToJson(c))!.AsObject();
        Assert.Equal("olmo2", (string?)back["model_type"]);
        Assert.Equal("Olmo2ForCausalLM", (string?)back["architectures"]![0]);
        Assert.False(back.ContainsKey("use_sliding_window"));
        var biased = TinyOlmo2.Config();
        biased["attention_bias"] = true; // OLMo-2 biases q, k, v and o alike
        Assert.True(HfConfig.FromJson(biased.ToJsonString(), "config.json") is { QkvBias: true, OutputBias: true });
        // the two OLMo-2 features come together, and the norms' span needs the norms
        Assert.Contains("PostNorm", Assert.Throws<ArgumentException>(() => (c with { PostNorm = false }).Validate()).Message);
        Assert.Throws<ArgumentException>(() => (c with { QkNorm = false }).Validate());
    }

    [Fact]
    public void LoadedFolderMatchesTheFloat64ReferenceAndEachFeatureMatters()
    {
        var weights = TinyOlmo2.Weights();
        using var model = LoadTiny(weights);
        Assert.DoesNotContain(model.Parameters, p => p.Name.Contains("input_layernorm", StringComparison.Ordinal));
        var (hidden, logits) = Run(model, Ids);
        var w = ToDouble(weights);
        var expected = Olmo2Reference.Forward(w, Ids);
        Reference.AssertClose(hidden, expected.Hidden, 1e-4, "final hidden states");
        Reference.AssertClose(logits, expected.Logits, 1e-4, "logits");
        Assert.True(Reference.RelativeError(logits, expected.Logits) < 1e-5, "logits within float32 rounding");

        // the reference without any one feature is another function: the same comparison fails
        foreach (var (what, other) in new[]
        {
            ("the norms after attention and MLP (pre-norm instead)", Olmo2Reference.Forward(w, Ids, postNorm: false)),
            ("the q/k norms", Olmo2Reference.Forward(w, Ids, qkNorm: false)),
            ("the q/k norms across heads (per head instead)", Olmo2Reference.Forward(w, Ids, qkNormPerHead: true)),
        })
            Assert.True(Reference.RelativeError(logits, other.Logits) > 1e-2, $"{what} change the logits");
    }

    [Fact]
    public void OlmoWeightsUnderALlamaConfigAreRefusedNamingTheMissingNorm()
    {
        TinyOlmo2.Write(_dir, TinyOlmo2.Weights());
        var llama = TinyOlmo2.Config();
        llama["model_type"] = "llama"; llama["architectures"] = new JsonArray("LlamaForCausalLM");
        File.WriteAllText(Path.Combine(_dir, "config.json"), llama.ToJsonString());
        Assert.Contains("input_layernorm", Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops)).Message);
        var weights = TinyOlmo2.Weights();
        weights.Remove("model.layers.1.post_feedforward_layernorm.weight");
        TinyOlmo2.Write(_dir, weights);
        Assert.Contains("model.layers.1.post_feedforward_layernorm.weight", Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops)).Message);
    }

    [Fact]
    public void GradientThroughTheNormsMatchesFloat64FiniteDifferences()
    {
        var weights = TinyOlmo2.Weights();
        using var model = LoadTiny(weights);
        var names = new[] { "model.layers.0.self_attn.q_norm.weight", "model.layers.0.self_attn.k_norm.weight",
            "model.layers.0.post_attention_layernorm.weight", "model.layers.1.post_feedforward_layernorm.weight",
            "model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.up_proj.weight" };
        // the largest-gradient elements and a few others
        FamilyChecks.AssertGradientsMatchFiniteDifferences(f, model, ToDouble(weights), Ids[..7], 78, names,
            a => Enumerable.Range(0, a.Length).OrderByDescending(i => Math.Abs(a[i])).Take(5).Concat([1, a.Length - 2]), w => Olmo2Reference.Forward(w, Ids[..7]).Logits);
    }

    [Fact]
    public void CachedGreedyGenerationEqualsTheFullForwardsArgmax()
    {
        using var model = LoadTiny(TinyOlmo2.Weights());
        FamilyChecks.AssertCachedGenerationMatchesTheFullForward(f, model, Ids[..5], 8);
    }

    [Fact]
    public void SavedModelIsAnOlmo2FolderAndLoadsBackBitwise()
    {
        using var model = LoadTiny(TinyOlmo2.Weights());
        FamilyChecks.AssertSavesAndLoadsBackBitwise(f, model, Path.Combine(_dir, "saved"), TinyOlmo2.Weights().Keys, Ids);
    }

    [Fact]
    public void JepaForwardCommandReproducesTheReference()
    {
        var weights = TinyOlmo2.Weights();
        TinyOlmo2.Write(_dir, weights);
        FamilyChecks.AssertForwardCommandMatches(_dir, Ids, Olmo2Reference.Forward(ToDouble(weights), Ids));
    }

    private static ModelConfig TrainableConfig() =>
        TinySetup.Config(d: 16, layers: 2, heads: 4, kv: 2, ffn: 24) with { QkNorm = true, QkNormAcrossHeads = true, PostNorm = true };

    private static float[] Norms(LlamaModel model) =>
        [.. model.Parameters.Where(p => p.Name.EndsWith("norm.weight", StringComparison.Ordinal) && p.Name.StartsWith("model.layers.", StringComparison.Ordinal))
            .SelectMany(p => p.Value.ToArray())];

    [Theory]
    [InlineData(false, ViewEncoding.Separate)]
    [InlineData(false, ViewEncoding.Single)]
    [InlineData(true, ViewEncoding.Single)]
    public void JepaTrainingStepsRunFullOrWithLoraWhichKeepsTheNormsFrozen(bool lora, ViewEncoding views)
    {
        using var model = LlamaModel.Create(TrainableConfig(), f.Ops, 3);
        Assert.Equal(8, model.Parameters.Count(p => p.Name.Contains("norm.weight", StringComparison.Ordinal) && p.Name.StartsWith("model.layers.", StringComparison.Ordinal)));
        Assert.Contains(model.Parameters, p => p.Name == "model.layers.1.post_feedforward_layernorm.weight");
        if (lora) model.AttachLora(new LoraOptions { Rank = 2, Targets = ["q_proj", "k_proj", "v_proj", "down_proj"] }, seed: 1);
        FamilyChecks.AssertJepaStepsTrain(model, views, () => Norms(model));
    }
}
