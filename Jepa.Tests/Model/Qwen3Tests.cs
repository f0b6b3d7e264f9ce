using System.Text.Json.Nodes;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;
using Jepa.Tests.Training;
using Jepa.Training.Autograd;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Objective;

namespace Jepa.Tests.Model;

/// <summary>Qwen3: its config, the per-head q/k RMSNorm against an independent float64 forward, its gradient, cached
/// generation, saving, and LoRA and full fine-tuning steps.</summary>
public sealed class Qwen3Tests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-qwen3-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly int[] Ids = [3, 17, 42, 0, 9, 9, 31, 5, 48, 12, 7];

    private static Dictionary<string, double[]> ToDouble(Dictionary<string, (float[] Data, int[] Shape)> w) => FamilyChecks.ToDouble(w);

    private LlamaModel LoadTiny(Dictionary<string, (float[] Data, int[] Shape)> weights)
    {
        TinyQwen3.Write(_dir, weights);
        return HfCheckpoint.Load(_dir, f.Ops);
    }

    private (float[] Hidden, float[] Logits) Run(LlamaModel model, int[] ids) => FamilyChecks.Run(f, model, ids);

    [Fact]
    public void ConfigReadsQkNormHeadDimAndNoBiasesAndRoundTrips()
    {
        var c = HfConfig.FromJson(TinyQwen3.Config().ToJsonString(), "config.json");
        Assert.True(c is { QkNorm: true, QkvBias: false, OutputBias: false, HeadDim: 10, HeadSize: 10, TieEmbeddings: true, KvHeads: 2 });
        Assert.Equal(c, HfConfig.FromJson(HfConfig.ToJson(c), "round trip"));
        var back = JsonNode.Parse(HfConfig.ToJson(c))!.AsObject();
        Assert.Equal("qwen3", (string?)back["model_type"]);
        Assert.Equal("Qwen3ForCausalLM", (string?)back["architectures"]![0]);
        Assert.False((bool?)back["attention_bias"]);
        Assert.Equal(TinyQwen3.Weights().Values.Sum(t => (long)t.Data.Length), c.ParameterCount());

        var biased = TinyQwen3.Config();
        biased["attention_bias"] = true; // Qwen3 biases q, k, v and o alike
        Assert.True(HfConfig.FromJson(biased.ToJsonString(), "config.json") is { QkvBias: true, OutputBias: true, QkNorm: true });
        var noHeadDim = TinyQwen3.Config();
        noHeadDim.Remove("head_dim"); // Qwen3Config's default is 128, not hidden / heads
        Assert.Equal(128, HfConfig.FromJson(noHeadDim.ToJsonString(), "config.json").HeadDim);
        Assert.Throws<ArgumentException>(() => (c with { QkvBias = true }).Validate());
    }

    [Fact]
    public void LoadedFolderMatchesTheFloat64ReferenceAndNeedsTheQkNorms()
    {
        var weights = TinyQwen3.Weights();
        using var model = LoadTiny(weights);
        Assert.Contains(model.Parameters, p => p.Name == "model.layers.1.self_attn.k_norm.weight");
        var (hidden, logits) = Run(model, Ids);
        var w = ToDouble(weights);
        var expected = Qwen3Reference.Forward(w, Ids);
        Reference.AssertClose(hidden, expected.Hidden, 1e-4, "final hidden states");
        Reference.AssertClose(logits, expected.Logits, 1e-4, "logits");
        Assert.True(Reference.RelativeError(logits, expected.Logits) < 1e-5, "logits within float32 rounding");

        // without the q/k norms the forward is another function: the same comparison fails
        var without = Qwen3Reference.Forward(w, Ids, qkNorm: false);
        Assert.True(Reference.RelativeError(logits, without.Logits) > 1e-2, "the q/k norms change the logits");
        // and so does loading the folder with the norms at one (the gains are what the file holds, not ignored)
        foreach (var p in model.Parameters.Where(p => p.Name.Contains("_norm.weight", StringComparison.Ordinal) && p.Name.Contains("self_attn", StringComparison.Ordinal)))
            p.Value.CopyFrom(Enumerable.Repeat(1f, TinyQwen3.HeadDim).ToArray());
        Assert.True(Reference.RelativeError(Run(model, Ids).Logits, expected.Logits) > 1e-2, "the q/k norm gains change the logits");
    }

    [Fact]
    public void QkNormFolderIsRefusedAsAnotherFamilyAndQwen3NeedsItsNorms()
    {
        var weights = TinyQwen3.Weights();
        TinyQwen3.Write(_dir, weights);
        var llama = TinyQwen3.Config();
        llama["model_type"] = "llama"; llama["architectures"] = new JsonArray("LlamaForCausalLM"); // the same shape, without q/k norms
        File.WriteAllText(Path.Combine(_dir, "config.json"), llama.ToJsonString());
        Assert.Matches(@"self_attn\.[qk]_norm\.weight' \(and 3 more\)", Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops)).Message);
        weights.Remove("model.layers.0.self_attn.k_norm.weight");
        TinyQwen3.Write(_dir, weights);
        Assert.Contains("model.layers.0.self_attn.k_norm.weight", Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops)).Message);
    }

    [Fact]
    public void GradientThroughTheQkNormsMatchesFloat64FiniteDifferences()
    {
        var weights = TinyQwen3.Weights();
        using var model = LoadTiny(weights);
        var names = new[] { "model.layers.0.self_attn.q_norm.weight", "model.layers.0.self_attn.k_norm.weight",
            "model.layers.1.self_attn.q_norm.weight", "model.layers.1.self_attn.k_norm.weight", "model.layers.0.self_attn.q_proj.weight",
            "model.layers.0.self_attn.k_proj.weight" };
        // every element of a norm gain; the largest-gradient elements of a projection (its gradient flows back through the norm)
        FamilyChecks.AssertGradientsMatchFiniteDifferences(f, model, ToDouble(weights), Ids[..7], 77, names,
            a => a.Length <= TinyQwen3.HeadDim ? Enumerable.Range(0, a.Length)
                : Enumerable.Range(0, a.Length).OrderByDescending(i => Math.Abs(a[i])).Take(6), w => Qwen3Reference.Forward(w, Ids[..7]).Logits);
    }

    [Fact]
    public void CachedGreedyGenerationEqualsTheFullForwardsArgmax()
    {
        using var model = LoadTiny(TinyQwen3.Weights());
        FamilyChecks.AssertCachedGenerationMatchesTheFullForward(f, model, Ids[..5], 8);
    }

    [Fact]
    public void SavedModelIsAQwen3FolderWithTheNormsAndLoadsBackBitwise()
    {
        using var model = LoadTiny(TinyQwen3.Weights());
        FamilyChecks.AssertSavesAndLoadsBackBitwise(f, model, Path.Combine(_dir, "saved"), TinyQwen3.Weights().Keys, Ids);
    }

    private static ModelConfig TrainableConfig() =>
        TinySetup.Config(d: 16, layers: 2, heads: 4, kv: 2, ffn: 24) with { HeadSize = 6, QkNorm = true, TieEmbeddings = true };

    private static float[] Norms(LlamaModel model) =>
        [.. model.Parameters.Where(p => p.Name.EndsWith("q_norm.weight", StringComparison.Ordinal) || p.Name.EndsWith("k_norm.weight", StringComparison.Ordinal))
            .SelectMany(p => p.Value.ToArray())];

    [Theory]
    [InlineData(false, ViewEncoding.Separate)]
    [InlineData(false, ViewEncoding.Single)]
    [InlineData(true, ViewEncoding.Single)]
    public void JepaTrainingStepsRunFullOrWithLoraWhichKeepsTheNormsFrozen(bool lora, ViewEncoding views)
    {
        using var model = LlamaModel.Create(TrainableConfig(), f.Ops, 3);
        Assert.Equal(4, model.Parameters.Count(p => p.Name.Contains("self_attn.q_norm", StringComparison.Ordinal) || p.Name.Contains("self_attn.k_norm", StringComparison.Ordinal)));
        if (lora) model.AttachLora(new LoraOptions { Rank = 2, Targets = ["q_proj", "k_proj", "v_proj"] }, seed: 1);
        Assert.Equal(!lora, model.TrainableParameters.Any(p => p.Name.EndsWith("q_norm.weight", StringComparison.Ordinal)));
        FamilyChecks.AssertJepaStepsTrain(model, views, () => Norms(model));
    }
}
