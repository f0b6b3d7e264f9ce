using System.Text.Json.Nodes;

namespace Jepa.Training.Model;

/// <summary>
/// OpenELM's <c>config.json</c> (<c>OpenELMConfig</c> of Apple's released checkpoints: <c>num_transformer_layers</c>,
/// <c>model_dim</c>, <c>head_dim</c>, <c>qkv_multipliers</c>, <c>num_gqa_groups</c>, <c>ffn_multipliers</c>,
/// <c>ffn_dim_divisor</c>, <c>normalize_qk_projections</c>, <c>share_input_output_layers</c>, <c>rope_freq_constant</c>,
/// <c>max_context_length</c>…) read into and written from a <see cref="ModelConfig"/>.
/// </summary>
internal static class OpenElmConfig
{
    /// <summary>RMSNorm ε of every OpenELM norm (<c>OpenELMRMSNorm</c>'s default; the config has no key for it).</summary>
    public const double NormEps = 1e-6;

    /// <summary>Parses an OpenELM config; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(JsonObject o, string source)
    {
        int Int(string name) => (int?)o[name] ?? throw new InvalidDataException($"{source}: missing '{name}'.");
        void Unsupported(bool condition, string what)
        {
            if (condition) throw new InvalidDataException($"{source}: {what} is not supported.");
        }
        string act = (string?)o["activation_fn_name"] ?? "swish";
        Unsupported(act is not ("swish" or "silu"), $"activation_fn_name '{act}' (OpenELM's released models use swish)");
        string norm = (string?)o["normalization_layer_name"] ?? "rms_norm";
        Unsupported(norm != "rms_norm", $"normalization_layer_name '{norm}' (only rms_norm)");
        Unsupported((bool?)o["ffn_with_glu"] == false, "ffn_with_glu false (an ungated feed-forward)");
        int layers = Int("num_transformer_layers"), dModel = Int("model_dim"), headDim = Int("head_dim");
        var scaling = new LayerScaling(Multipliers(o, "qkv_multipliers", 1.0, source), Multipliers(o, "ffn_multipliers", 4.0, source),
            (int?)o["num_gqa_groups"] ?? 1, (int?)o["ffn_dim_divisor"] ?? 256);
        scaling.Validate(layers, dModel, headDim);
        int[] heads = scaling.QueryHeads(layers, dModel, headDim), kvHeads = scaling.KvHeads(layers, dModel, headDim), ffn = scaling.Ffn(layers, dModel);
        // the lists OpenELMConfig writes next to the multipliers must be what the multipliers give
        foreach (var (key, computed) in new[] { ("num_query_heads", heads), ("num_kv_heads", kvHeads) })
            if (o[key] is JsonArray stated && !stated.Select(n => (int?)n ?? -1).SequenceEqual(computed))
                throw new InvalidDataException($"{source}: '{key}' [{string.Join(", ", stated)}] differs from what qkv_multipliers and num_gqa_groups give ([{string.Join(", ", computed)}]).");
        return new ModelConfig(
            Int("vocab_size"), dModel, layers, heads.Max(), kvHeads.Max(), ffn.Max(),
            RopeTheta: (double?)o["rope_freq_constant"] ?? 10000.0,
            NormEps: NormEps,
            MaxLength: (int?)o["max_context_length"] ?? 2048,
            TieEmbeddings: (bool?)o["share_input_output_layers"] ?? false,
            HeadSize: headDim,
            QkNorm: (bool?)o["normalize_qk_projections"] ?? false,
            OpenElm: true,
            LayerScaling: scaling).Validate();
    }

    /// <summary>A multiplier key: a number, or a list of them; <paramref name="absent"/> when missing.</summary>
    private static double[] Multipliers(JsonObject o, string key, double absent, string source) => o[key] switch
    {
        null => [absent],
        JsonArray a => [.. a.Select(n => (double?)n ?? throw new InvalidDataException($"{source}: '{key}' holds a non-number."))],
        JsonValue v when v.TryGetValue(out double d) => [d],
        var other => throw new InvalidDataException($"{source}: '{key}' must be a number or a list of numbers, got {other.ToJsonString()}."),
    };

    /// <summary>The <c>config.json</c> object of an OpenELM <paramref name="c"/>, with the keys OpenELMConfig writes.</summary>
    public static JsonObject ToJson(ModelConfig c)
    {
        var s = c.LayerScaling ?? throw new ArgumentException("An OpenELM config needs its layer scaling.", nameof(c));
        JsonNode Numbers(double[] m) => m.Length == 1 ? JsonValue.Create(m[0]) : new JsonArray([.. m.Select(x => (JsonNode)JsonValue.Create(x))]);
        JsonArray Ints(IEnumerable<int> v) => new([.. v.Select(x => (JsonNode)JsonValue.Create(x))]);
        int[] heads = [.. Enumerable.Range(0, c.Layers).Select(c.HeadsOf)], kvHeads = [.. Enumerable.Range(0, c.Layers).Select(c.KvHeadsOf)];
        return new JsonObject
        {
            ["architectures"] = new JsonArray("OpenELMForCausalLM"),
            ["model_type"] = "openelm",
            ["vocab_size"] = c.VocabSize,
            ["model_dim"] = c.DModel,
            ["num_transformer_layers"] = c.Layers,
            ["head_dim"] = c.HeadDim,
            ["qkv_multipliers"] = Numbers(s.QkvMultipliers),
            ["num_gqa_groups"] = s.GqaGroups,
            ["num_query_heads"] = Ints(heads),
            ["num_kv_heads"] = Ints(kvHeads),
            ["ffn_multipliers"] = Numbers(s.FfnMultipliers),
            ["ffn_dim_divisor"] = s.FfnDivisor,
            ["ffn_with_glu"] = true,
            ["activation_fn_name"] = "swish",
            ["normalization_layer_name"] = "rms_norm",
            ["normalize_qk_projections"] = c.QkNorm,
            ["share_input_output_layers"] = c.TieEmbeddings,
            ["rope_freq_constant"] = c.RopeTheta,
            ["rope_max_length"] = 2 * c.MaxLength,
            ["max_context_length"] = c.MaxLength,
            ["torch_dtype"] = "float32",
        };
    }
}
