using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Model;

/// <summary>
/// Reads and writes a <see cref="ModelConfig"/> as a Hugging Face <c>config.json</c> of <c>LlamaForCausalLM</c>,
/// <c>Qwen2ForCausalLM</c>, <c>Qwen3ForCausalLM</c> or <c>Olmo2ForCausalLM</c>, so saved models open in Python tools and
/// Hugging Face checkpoints of the <see cref="Families"/> open here.
/// </summary>
public static class HfConfig
{
    /// <summary>The Hugging Face families this loader reads: <c>model_type</c> → architecture. They share Llama's
    /// decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU) and differ only in details the config states (Qwen2: q/k/v
    /// biases; Qwen3: per-head q/k RMSNorm, <see cref="ModelConfig.QkNorm"/>; OLMo-2: q/k RMSNorm across the heads and
    /// post-norm blocks, <see cref="ModelConfig.QkNormAcrossHeads"/> and <see cref="ModelConfig.PostNorm"/>; Gemma-2: scaled
    /// embeddings, (1 + w) norms before and after attention and MLP, GeGLU, soft-capping and alternating sliding windows,
    /// <see cref="ModelConfig.Gemma2"/>; OpenELM: fused projections and layer-wise scaling, <see cref="ModelConfig.OpenElm"/>, its
    /// config read by <see cref="OpenElmConfig"/>).</summary>
    public static IReadOnlyDictionary<string, string> Families { get; } = new Dictionary<string, string>
    {
        ["llama"] = "LlamaForCausalLM", ["qwen2"] = "Qwen2ForCausalLM", ["qwen3"] = "Qwen3ForCausalLM", ["mistral"] = "MistralForCausalLM",
        ["olmo2"] = "Olmo2ForCausalLM", ["gemma2"] = "Gemma2ForCausalLM", ["openelm"] = "OpenELMForCausalLM",
    };

    /// <summary>The <c>config.json</c> text for <paramref name="c"/>: an OLMo-2 config for post-norm blocks, a Qwen3 config
    /// when the heads have q/k norms, a Qwen2 config when only q/k/v carry biases (as Qwen2 defines them), else a Llama config.</summary>
    public static string ToJson(ModelConfig c)
    {
        if (c.OpenElm) return OpenElmConfig.ToJson(c).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        string type = c.Gemma2 ? "gemma2" : c.PostNorm ? "olmo2" : c.QkNorm ? "qwen3" : c.QkvBias && !c.OutputBias ? "qwen2" : "llama";
        bool qwen = type == "qwen2";
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Families[type]),
            ["model_type"] = type,
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.DModel,
            ["intermediate_size"] = c.Ffn,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KvHeads,
            ["head_dim"] = c.HeadDim,
            ["hidden_act"] = c.Gemma2 ? "gelu_pytorch_tanh" : "silu",
            ["max_position_embeddings"] = c.MaxLength,
            ["rms_norm_eps"] = c.NormEps,
            ["rope_theta"] = c.RopeTheta,
            ["tie_word_embeddings"] = c.TieEmbeddings,
            ["torch_dtype"] = "float32",
        };
        if (!qwen) o["attention_bias"] = c.QkvBias;
        if (type == "llama") o["mlp_bias"] = false;
        else if (type == "gemma2")
        {
            o["hidden_activation"] = "gelu_pytorch_tanh";
            o["query_pre_attn_scalar"] = c.QueryPreAttnScalar > 0 ? c.QueryPreAttnScalar : c.HeadDim;
            o["sliding_window"] = c.SlidingWindow > 0 ? c.SlidingWindow : null;
            o["attn_logit_softcapping"] = c.AttnSoftCap > 0 ? c.AttnSoftCap : null;
            o["final_logit_softcapping"] = c.FinalSoftCap > 0 ? c.FinalSoftCap : null;
        }
        else if (type != "olmo2") o["use_sliding_window"] = false;
        if (c.RopeScaling is { } r)
        {
            var rs = new JsonObject { ["rope_type"] = r.Type, ["factor"] = r.Factor };
            if (r.Type == "llama3")
            {
                rs["low_freq_factor"] = r.LowFreqFactor;
                rs["high_freq_factor"] = r.HighFreqFactor;
                rs["original_max_position_embeddings"] = r.OriginalMaxPositions;
            }
            o["rope_scaling"] = rs;
        }
        if (c.RopeInterleaved) o["jepa_rope_interleaved"] = true;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Parses a Hugging Face <c>config.json</c> of a <see cref="Families"/> model; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Not JSON, an unsupported architecture or feature, or a missing field; the message says which.</exception>
    public static ModelConfig FromJson(string json, string source)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: invalid JSON ({e.Message}).", e); }
        if (root is not JsonObject o) throw new InvalidDataException($"{source}: expected a JSON object.");
        try
        {
            return Parse(o, source);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    private static ModelConfig Parse(JsonObject o, string source)
    {
        string? type = (string?)o["model_type"];
        var arch = o["architectures"] as JsonArray;
        string? first = arch is { Count: > 0 } ? (string?)arch[0] : null;
        string supported = string.Join(", ", Families.Values);
        if (type is not null && !Families.ContainsKey(type))
            throw new InvalidDataException($"{source}: model_type '{type}' is not supported (supported: {supported}).");
        if (first is not null && !Families.Values.Contains(first))
            throw new InvalidDataException($"{source}: architecture '{first}' is not supported (supported: {supported}).");
        type ??= Families.First(kv => kv.Value == (first ?? "LlamaForCausalLM")).Key;
        if (type == "openelm") return OpenElmConfig.Parse(o, source);
        int Int(string name) => (int?)o[name] ?? throw new InvalidDataException($"{source}: missing '{name}'.");
        void Unsupported(bool condition, string what)
        {
            if (condition) throw new InvalidDataException($"{source}: {what} is not supported.");
        }
        bool gemma = type == "gemma2";
        if (gemma)
        {
            // Gemma2Config reads hidden_activation (hidden_act is the legacy key); both must be the tanh GELU
            foreach (string key in (string[])["hidden_activation", "hidden_act"])
                if ((string?)o[key] is { } a && a != "gelu_pytorch_tanh") Unsupported(true, $"{key} '{a}' (Gemma-2 runs gelu_pytorch_tanh)");
        }
        else
        {
            string act = (string?)o["hidden_act"] ?? "silu";
            Unsupported(act != "silu", $"hidden_act '{act}' (only silu)");
        }
        Unsupported((bool?)o["mlp_bias"] == true, "mlp_bias true");
        Unsupported(!gemma && (bool?)o["use_sliding_window"] == true, "use_sliding_window true (sliding-window attention)");
        int maxPositions = (int?)o["max_position_embeddings"] ?? 2048;
        Unsupported(type == "mistral" && (int?)o["sliding_window"] is { } w && w < maxPositions, "a sliding_window shorter than max_position_embeddings");
        bool attentionBias = (bool?)o["attention_bias"] ?? false;
        int heads = Int("num_attention_heads"), hidden = Int("hidden_size");
        int headDim = (int?)o["head_dim"] ?? (type == "qwen3" ? 128 : gemma ? 256 : 0); // Qwen3Config's and Gemma2Config's defaults
        return new ModelConfig(
            Int("vocab_size"), hidden, Int("num_hidden_layers"), heads,
            (int?)o["num_key_value_heads"] ?? heads, Int("intermediate_size"),
            (double?)o["rope_theta"] ?? 10000.0, (double?)o["rms_norm_eps"] ?? 1e-6,
            maxPositions, (bool?)o["tie_word_embeddings"] ?? gemma,
            (bool?)o["jepa_rope_interleaved"] ?? false,
            HeadSize: headDim == hidden / heads && hidden % heads == 0 ? 0 : headDim,
            QkvBias: type == "qwen2" || attentionBias,
            OutputBias: type != "qwen2" && attentionBias,
            RopeScaling: ParseRopeScaling(o["rope_scaling"] as JsonObject, source),
            QkNorm: type is "qwen3" or "olmo2",
            QkNormAcrossHeads: type == "olmo2",
            PostNorm: type == "olmo2",
            Gemma2: gemma,
            QueryPreAttnScalar: gemma ? GemmaSetting(o, "query_pre_attn_scalar", 256) : 0,
            AttnSoftCap: gemma ? GemmaSetting(o, "attn_logit_softcapping", 50) : 0,
            FinalSoftCap: gemma ? GemmaSetting(o, "final_logit_softcapping", 30) : 0,
            SlidingWindow: gemma ? (int)GemmaSetting(o, "sliding_window", 4096) : 0).Validate();
    }

    /// <summary>A Gemma-2 number: Gemma2Config's default when the key is absent, 0 (off) when it is null.</summary>
    private static double GemmaSetting(JsonObject o, string key, double absent) => !o.ContainsKey(key) ? absent : (double?)o[key] ?? 0;

    private static RopeScaling? ParseRopeScaling(JsonObject? r, string source)
    {
        if (r is null) return null;
        string kind = (string?)r["rope_type"] ?? (string?)r["type"] ?? throw new InvalidDataException($"{source}: rope_scaling has no 'rope_type'.");
        if (kind == "default") return null;
        double factor = (double?)r["factor"] ?? throw new InvalidDataException($"{source}: rope_scaling '{kind}' has no 'factor'.");
        return kind switch
        {
            "linear" => new RopeScaling("linear", factor),
            "llama3" => new RopeScaling("llama3", factor,
                (double?)r["low_freq_factor"] ?? throw new InvalidDataException($"{source}: rope_scaling llama3 has no 'low_freq_factor'."),
                (double?)r["high_freq_factor"] ?? throw new InvalidDataException($"{source}: rope_scaling llama3 has no 'high_freq_factor'."),
                (int?)r["original_max_position_embeddings"] ?? throw new InvalidDataException($"{source}: rope_scaling llama3 has no 'original_max_position_embeddings'.")),
            _ => throw new InvalidDataException($"{source}: rope_scaling type '{kind}' is not supported (supported: {string.Join(", ", RopeScaling.Types)})."),
        };
    }
}
