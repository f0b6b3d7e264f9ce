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

/// <summary>Gemma-2: its config, every feature of its block against an independent float64 forward (each removed makes it
/// fail), the gradient, cached generation through the sliding window, saving, <c>jepa forward</c>, and LoRA and full JEPA
/// training steps.</summary>
public sealed class Gemma2Tests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-gemma2-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly int[] Ids = [3, 17, 42, 0, 9, 9, 31, 5, 48, 12, 7];

    private static Dictionary<string, double[]> ToDouble(Dictionary<string, (float[] Data, int[] Shape)> w) => FamilyChecks.ToDouble(w);

    private LlamaModel LoadTiny(Dictionary<string, (float[] Data, int[] Shape)> weights)
    {
        TinyGemma2.Write(_dir, weights);
        return HfCheckpoint.Load(_dir, f.Ops);
    }

    private (float[] Hidden, float[] Logits) Run(LlamaModel model, int[] ids) => FamilyChecks.Run(f, model, ids);

    [Fact]
    public void ConfigReadsEveryGemma2SettingAndRoundTrips()
    {
        var c = HfConfig.FromJson(TinyGemma2.Config().ToJsonString(), "config.json");
        Assert.True(c is { Gemma2: true, QkNorm: false, PostNorm: false, HeadDim: 8, TieEmbeddings: true, KvHeads: 2,
            QueryPreAttnScalar: 12, AttnSoftCap: 2, FinalSoftCap: 3, SlidingWindow: 4 });
        Assert.Equal([4, 0, 4], Enumerable.Range(0, 3).Select(c.WindowOf));
        Assert.Equal(TinyGemma2.Weights().Values.Sum(t => (long)t.Data.Length), c.ParameterCount());
        Assert.Equal(c, HfConfig.FromJson(HfConfig.ToJson(c), "round trip"));
        var back = JsonNode.Parse(HfConfig.ToJson(c))!.AsObject();
        Assert.Equal("gemma2", (string?)back["model_type"]);
        Assert.Equal("Gemma2ForCausalLM", (string?)back["architectures"]![0]);
        Assert.Equal("gelu_pytorch_tanh", (string?)back["hidden_activation"]);

        // Gemma2Config's defaults where a key is absent; null turns a cap or the window off
        var sparse = TinyGemma2.Config();
        foreach (string key in (string[])["query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping", "sliding_window", "head_dim", "tie_word_embeddings"])
            sparse.Remove(key);
        Assert.True(HfConfig.FromJson(sparse.ToJsonString(), "config.json") is { QueryPreAttnScalar: 256, AttnSoftCap: 50, FinalSoftCap: 30, SlidingWindow: 4096, HeadDim: 256, TieEmbeddings: true });
        var off = TinyGemma2.Config();
        off["attn_logit_softcapping"] = null; off["final_logit_softcapping"] = null; off["sliding_window"] = null;
        Assert.True(HfConfig.FromJson(off.ToJsonString(), "config.json") is { AttnSoftCap: 0, FinalSoftCap: 0, SlidingWindow: 0 });
        var relu = TinyGemma2.Config();
        relu["hidden_activation"] = "relu";
        Assert.Contains("hidden_activation 'relu'", Assert.Throws<InvalidDataException>(() => HfConfig.FromJson(relu.ToJsonString(), "config.json")).Message);
        // Gemma-2 settings need the Gemma-2 block
        Assert.Contains("Gemma2", Assert.Throws<ArgumentException>(() => (c with { Gemma2 = false }).Validate()).Message);
    }

    [Fact]
    public void LoadedFolderMatchesTheFloat64ReferenceAndEachFeatureMatters()
    {
        var weights = TinyGemma2.Weights();
        using var model = LoadTiny(weights);
        var (hidden, logits) = Run(model, Ids);
        var w = ToDouble(weights);
        var expected = Gemma2Reference.Forward(w, Ids);
        Reference.AssertClose(hidden, expected.Hidden, 1e-4, "final hidden states");
        Reference.AssertClose(logits, expected.Logits, 1e-4, "logits");
        Assert.True(Reference.RelativeError(logits, expected.Logits) < 1e-5, "logits within float32 rounding");

        foreach (var (what, without) in new (string, Gemma2Reference.Without)[]
        {
            ("the √C embedding scale", new(EmbeddingScale: true)),
            ("the (1 + w) norm gains", new(PlusOne: true)),
            ("the norms after attention and MLP", new(PostNorms: true)),
            ("GeGLU (SwiGLU instead)", new(GeGlu: true)),
            ("query_pre_attn_scalar (1/√head_dim instead)", new(QueryScalar: true)),
            ("the attention soft cap", new(AttnCap: true)),
            ("the final soft cap", new(FinalCap: true)),
            ("the sliding window", new(Window: true)),
        })
            Assert.True(Reference.RelativeError(logits, Gemma2Reference.Forward(w, Ids, without).Logits) > 1e-3, $"{what} changes the logits");
    }

    [Fact]
    public void GradientThroughEveryGemmaFeatureMatchesFloat64FiniteDifferences()
    {
        var weights = TinyGemma2.Weights();
        using var model = LoadTiny(weights);
        var names = new[] { "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
            "model.layers.2.pre_feedforward_layernorm.weight", "model.layers.1.post_feedforward_layernorm.weight", "model.norm.weight",
            "model.layers.0.self_attn.q_proj.weight", "model.layers.2.mlp.gate_proj.weight", "model.embed_tokens.weight" };
        FamilyChecks.AssertGradientsMatchFiniteDifferences(f, model, ToDouble(weights), Ids[..8], 79, names,
            a => Enumerable.Range(0, a.Length).OrderByDescending(i => Math.Abs(a[i])).Take(5).Concat([1, a.Length - 2]), w => Gemma2Reference.Forward(w, Ids[..8]).Logits);
    }

    [Fact]
    public void CachedGreedyGenerationEqualsTheFullForwardsArgmaxPastTheWindow()
    {
        using var model = LoadTiny(TinyGemma2.Weights());
        FamilyChecks.AssertCachedGenerationMatchesTheFullForward(f, model, Ids[..5], 8);
    }

    [Fact]
    public void SavedModelIsAGemma2FolderAndLoadsBackBitwise()
    {
        using var model = LoadTiny(TinyGemma2.Weights());
        FamilyChecks.AssertSavesAndLoadsBackBitwise(f, model, Path.Combine(_dir, "saved"), TinyGemma2.Weights().Keys, Ids);
    }

    [Fact]
    public void JepaForwardCommandReproducesTheReference()
    {
        var weights = TinyGemma2.Weights();
        TinyGemma2.Write(_dir, weights);
        FamilyChecks.AssertForwardCommandMatches(_dir, Ids, Gemma2Reference.Forward(ToDouble(weights), Ids));
    }

    private static ModelConfig TrainableConfig() =>
        TinySetup.Config(d: 16, layers: 2, heads: 4, kv: 2, ffn: 24) with
        {
            Gemma2 = true, TieEmbeddings = true, QueryPreAttnScalar = 8, AttnSoftCap = 20, FinalSoftCap = 15, SlidingWindow = 6,
        };

    [Theory]
    [InlineData(false, ViewEncoding.Separate)]
    [InlineData(false, ViewEncoding.Single)]
    [InlineData(true, ViewEncoding.Single)]
    public void JepaTrainingStepsRunFullOrWithLoraWhichKeepsTheNormsFrozen(bool lora, ViewEncoding views)
    {
        using var model = LlamaModel.Create(TrainableConfig(), f.Ops, 3);
        Assert.Equal(8, model.Parameters.Count(p => p.Name.EndsWith("layernorm.weight", StringComparison.Ordinal)));
        Assert.All(model.Parameters.Where(p => p.Name.EndsWith("norm.weight", StringComparison.Ordinal)), p => Assert.All(p.Value.ToArray(), v => Assert.Equal(0f, v)));
        if (lora) model.AttachLora(new LoraOptions { Rank = 2, Targets = ["q_proj", "v_proj", "gate_proj"] }, seed: 1);
        float[] Norms() => [.. model.Parameters.Where(p => p.Name.EndsWith("norm.weight", StringComparison.Ordinal)).SelectMany(p => p.Value.ToArray())];
        FamilyChecks.AssertJepaStepsTrain(model, views, Norms);
    }
}
