using System.Text.Json.Nodes;
using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Kernels;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Tests.Model;

/// <summary>Hugging Face Llama-family configs (Qwen2 biases, head_dim, Llama 3 RoPE scaling), their weights and vocabulary growth.</summary>
public sealed class HfFamilyTests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-hf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject LlamaJson() => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama",
        ["vocab_size"] = 128256, ["hidden_size"] = 2048, ["intermediate_size"] = 8192, ["num_hidden_layers"] = 16,
        ["num_attention_heads"] = 32, ["num_key_value_heads"] = 8, ["head_dim"] = 64, ["hidden_act"] = "silu",
        ["max_position_embeddings"] = 131072, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 500000.0, ["tie_word_embeddings"] = true,
        ["attention_bias"] = false, ["mlp_bias"] = false,
        ["rope_scaling"] = new JsonObject
        {
            ["factor"] = 32.0, ["high_freq_factor"] = 4.0, ["low_freq_factor"] = 1.0,
            ["original_max_position_embeddings"] = 8192, ["rope_type"] = "llama3",
        },
    };

    [Fact]
    public void Llama32ConfigReadsRopeScalingAndTiedEmbeddings()
    {
        var c = HfConfig.FromJson(LlamaJson().ToJsonString(), "config.json");
        Assert.Equal(64, c.HeadDim);
        Assert.Equal(0, c.HeadSize);
        Assert.True(c.TieEmbeddings);
        Assert.False(c.QkvBias);
        Assert.Equal(new RopeScaling("llama3", 32, 1, 4, 8192), c.RopeScaling);
        Assert.Equal(c, HfConfig.FromJson(HfConfig.ToJson(c), "round trip"));
        // Llama-3.2-1B has 1.236 B parameters with tied embeddings
        Assert.InRange(c.ParameterCount(), 1_235_000_000, 1_237_000_000);
    }

    [Fact]
    public void Qwen2ConfigHasQkvBiasesAndExplicitHeadDimIsKept()
    {
        var o = LlamaJson();
        o["model_type"] = "qwen2";
        o["architectures"] = new JsonArray("Qwen2ForCausalLM");
        o.Remove("attention_bias");
        o.Remove("rope_scaling");
        o["head_dim"] = 128; // 32 × 128 ≠ 2048
        var c = HfConfig.FromJson(o.ToJsonString(), "config.json");
        Assert.True(c.QkvBias);
        Assert.False(c.OutputBias);
        Assert.Equal(128, c.HeadDim);
        Assert.Null(c.RopeScaling);
        string back = HfConfig.ToJson(c);
        Assert.Contains("Qwen2ForCausalLM", back);
        Assert.Equal(c, HfConfig.FromJson(back, "round trip"));
        o["model_type"] = "llama"; o["architectures"] = new JsonArray("LlamaForCausalLM"); o["attention_bias"] = true;
        var l = HfConfig.FromJson(o.ToJsonString(), "config.json");
        Assert.True(l.QkvBias && l.OutputBias);
    }

    [Theory]
    [InlineData("model_type", "phi3", "phi3")]
    [InlineData("hidden_act", "gelu", "gelu")]
    [InlineData("mlp_bias", "true", "mlp_bias")]
    [InlineData("rope_scaling", "yarn", "yarn")]
    [InlineData("num_attention_heads", "missing", "num_attention_heads")]
    public void UnsupportedOrMissingFieldsAreNamed(string field, string value, string expected)
    {
        var o = LlamaJson();
        switch (field)
        {
            case "mlp_bias": o[field] = true; break;
            case "rope_scaling": o[field] = new JsonObject { ["rope_type"] = value, ["factor"] = 4.0 }; break;
            default:
                if (value == "missing") o.Remove(field);
                else o[field] = value;
                if (field == "model_type") o.Remove("architectures");
                break;
        }
        var e = Assert.Throws<InvalidDataException>(() => HfConfig.FromJson(o.ToJsonString(), "dir/config.json"));
        Assert.Contains("dir/config.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Llama3RopeScalingFollowsItsPiecewiseRule()
    {
        var s = new RopeScaling("llama3", 8, 1, 4, 8192);
        const int d = 128;
        const double theta = 500000;
        var scaled = s.InverseFrequencies(d, theta);
        for (int i = 0; i < d / 2; i++)
        {
            double f0 = Math.Pow(theta, -2.0 * i / d), wavelength = 2 * Math.PI / f0;
            double expected = wavelength < 8192 / 4.0 ? f0 // high frequencies: kept
                : wavelength > 8192 / 1.0 ? f0 / 8 // low frequencies: interpolated
                : f0 * ((8192 / wavelength - 1) / 3 * (1 - 1.0 / 8) + 1.0 / 8); // blend of the two
            Assert.InRange(Math.Abs(scaled[i] - expected) / expected, 0, 1e-12);
        }
        Assert.Equal(scaled[0], Math.Pow(theta, 0));
        var linear = new RopeScaling("linear", 4).InverseFrequencies(d, theta);
        Assert.Equal(Math.Pow(theta, -2.0 * 5 / d) / 4, linear[5], 15);
    }

    private static ModelConfig BiasConfig() =>
        new(40, 8, 2, 2, 1, 12, MaxLength: 16, HeadSize: 6, QkvBias: true, OutputBias: true,
            RopeScaling: new RopeScaling("llama3", 4, 1, 4, 8));

    private LlamaModel RandomBiasModel()
    {
        var model = LlamaModel.Create(BiasConfig(), f.Ops, 5);
        ulong s = 100;
        foreach (var p in model.Parameters.Where(p => p.Name.EndsWith(".bias", StringComparison.Ordinal)))
            p.Value.CopyFrom(Reference.Random(checked((int)p.Value.Length), s++, -0.5f, 0.5f));
        return model;
    }

    private static double Loss(LlamaModel model, KernelLibrary ops, int[] ids, float[] w, bool backward)
    {
        using var batch = new SequenceBatch(ops.Device, 2, ids.Length / 2, ids, model.Config.VocabSize);
        using var tape = new Tape(ops);
        var logits = model.Logits(tape, model.Forward(tape, batch));
        if (backward) tape.Backward(logits, w); // d(Σ w ⊙ logits)/d(logits) = w
        return GradCheck.Dot(Reference.ToDouble(logits.Value.ToArray()), Reference.ToDouble(w));
    }

    [Fact]
    public void BiasedModelWithHeadDimAndScaledRopePassesFiniteDifferences()
    {
        using var model = RandomBiasModel();
        Assert.Contains(model.Parameters, p => p.Name == "model.layers.1.self_attn.o_proj.bias");
        Assert.Equal(BiasConfig().ParameterCount(), model.Parameters.Sum(p => p.Value.Length));
        int[] ids = [1, 5, 9, 30, 2, 7, 7, 39, 0, 3, 11, 12];
        var w = Reference.Random(ids.Length * 40, 9);
        model.ZeroGrad();
        Loss(model, f.Ops, ids, w, backward: true);
        const float h = 1e-2f;
        foreach (var p in model.Parameters)
        {
            var grad = p.Grad!.ToArray();
            var v = p.Value.ToArray();
            foreach (int i in Enumerable.Range(0, v.Length).OrderByDescending(i => Math.Abs(grad[i])).Take(2))
            {
                float keep = v[i];
                v[i] = keep + h; p.Value.CopyFrom(v); double up = Loss(model, f.Ops, ids, w, false);
                v[i] = keep - h; p.Value.CopyFrom(v); double down = Loss(model, f.Ops, ids, w, false);
                v[i] = keep; p.Value.CopyFrom(v);
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) / Math.Max(Math.Abs(numeric), 0.5) < 3e-2, $"{p.Name}[{i}]: analytic {grad[i]:G6}, numeric {numeric:G6}");
            }
        }
    }

    private void SaveHf(LlamaModel model, SafetensorsDType dtype)
    {
        SafetensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), model.Parameters.ToDictionary(p => p.Name, p => p.Value), dtype: dtype);
        File.WriteAllText(Path.Combine(_dir, "config.json"), HfConfig.ToJson(model.Config));
    }

    private float[] Logits(LlamaModel model, int[] ids)
    {
        using var batch = new SequenceBatch(f.Device, 1, ids.Length, ids, model.Config.VocabSize);
        using var tape = new Tape(f.Ops, recordGradients: false);
        return model.Logits(tape, model.Forward(tape, batch)).Value.ToArray();
    }

    [Fact]
    public void SavedFolderLoadsBackWithTheSameLogits()
    {
        using var model = RandomBiasModel();
        SaveHf(model, SafetensorsDType.F32);
        using var back = HfCheckpoint.Load(_dir, f.Ops);
        Assert.Equal(model.Config, back.Config);
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        Reference.AssertBitwiseEqual(Logits(back, ids), Logits(model, ids), "logits after a save and load");
    }

    [Fact]
    public void ShardedFolderWithIndexLoadsLikeTheSingleFile()
    {
        using var model = RandomBiasModel();
        var names = model.Parameters.Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var map = new JsonObject();
        for (int shard = 0; shard < 2; shard++)
        {
            string file = $"model-0000{shard + 1}-of-00002.safetensors";
            var part = names.Where((_, i) => i % 2 == shard).ToList();
            SafetensorsWriter.Write(Path.Combine(_dir, file), part.ToDictionary(n => n, n => model.Parameters.First(p => p.Name == n).Value),
                dtype: SafetensorsDType.BF16);
            foreach (string n in part) map[n] = file;
        }
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());
        File.WriteAllText(Path.Combine(_dir, "config.json"), HfConfig.ToJson(model.Config));
        using var sharded = HfCheckpoint.Load(_dir, f.Ops);
        string single = Path.Combine(_dir, "single");
        Directory.CreateDirectory(single);
        SafetensorsWriter.Write(Path.Combine(single, "model.safetensors"), model.Parameters.ToDictionary(p => p.Name, p => p.Value), dtype: SafetensorsDType.BF16);
        File.WriteAllText(Path.Combine(single, "config.json"), HfConfig.ToJson(model.Config));
        using var whole = HfCheckpoint.Load(single, f.Ops);
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        Reference.AssertBitwiseEqual(Logits(sharded, ids), Logits(whole, ids), "sharded against single-file logits");
        Assert.NotEqual(Logits(model, ids), Logits(whole, ids)); // BF16 rounding did happen
    }

    [Fact]
    public void GrownVocabularyKeepsOldLogitsAndAddsTypicalDistinctRows()
    {
        using var model = RandomBiasModel();
        SaveHf(model, SafetensorsDType.BF16);
        using var bf16 = HfCheckpoint.Load(_dir, f.Ops);
        using var grown = HfCheckpoint.Load(_dir, f.Ops, addedTokens: 3, seed: 1);
        Assert.Equal(43, grown.Config.VocabSize);
        int[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        float[] a = Logits(bf16, ids), b = Logits(grown, ids);
        for (int t = 0; t < ids.Length; t++)
            for (int v = 0; v < 40; v++) Assert.Equal(a[t * 40 + v], b[t * 43 + v]);
        var embed = grown.Embed.Value.ToArray();
        int c = grown.Config.DModel;
        var mean = Enumerable.Range(0, c).Select(j => Enumerable.Range(0, 40).Average(r => (double)embed[r * c + j])).ToArray();
        for (int r = 40; r < 43; r++)
        {
            double dist = Math.Sqrt(Enumerable.Range(0, c).Sum(j => Math.Pow(embed[r * c + j] - mean[j], 2)));
            Assert.InRange(dist, 1e-4, 0.5 * Math.Sqrt(c) * 0.02 * 2);
        }
        Assert.NotEqual(embed.AsSpan(40 * c, c).ToArray(), embed.AsSpan(41 * c, c).ToArray());
    }

    [Fact]
    public void ForeignTensorNamesTheVariant()
    {
        using var model = RandomBiasModel();
        var tensors = model.Parameters.ToDictionary(p => p.Name, p => p.Value);
        using var extra = Tensor.Zeros(f.Device, 6);
        tensors["model.layers.0.self_attn.q_norm.weight"] = extra;
        SafetensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), tensors);
        File.WriteAllText(Path.Combine(_dir, "config.json"), HfConfig.ToJson(model.Config));
        var e = Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops));
        Assert.Contains("q_norm", e.Message);
        File.Delete(Path.Combine(_dir, "config.json"));
        e = Assert.Throws<InvalidDataException>(() => HfCheckpoint.Load(_dir, f.Ops));
        Assert.Contains("config.json", e.Message);
    }
}
