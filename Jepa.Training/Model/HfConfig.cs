using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Model;

/// <summary>
/// Reads and writes a <see cref="ModelConfig"/> as a Hugging Face <c>config.json</c> of <c>LlamaForCausalLM</c>,
/// so saved models open in Python tools and Hugging Face Llama checkpoints open here.
/// </summary>
public static class HfConfig
{
    /// <summary>The <c>config.json</c> text for <paramref name="c"/>.</summary>
    public static string ToJson(ModelConfig c)
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.DModel,
            ["intermediate_size"] = c.Ffn,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KvHeads,
            ["head_dim"] = c.HeadDim,
            ["hidden_act"] = "silu",
            ["max_position_embeddings"] = c.MaxLength,
            ["rms_norm_eps"] = c.NormEps,
            ["rope_theta"] = c.RopeTheta,
            ["tie_word_embeddings"] = c.TieEmbeddings,
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["torch_dtype"] = "float32",
        };
        if (c.RopeInterleaved) o["jepa_rope_interleaved"] = true;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Parses a Hugging Face <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Not JSON, an architecture other than Llama, or a missing field; the message says which.</exception>
    public static ModelConfig FromJson(string json, string source)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: invalid JSON ({e.Message}).", e); }
        if (root is not JsonObject o) throw new InvalidDataException($"{source}: expected a JSON object.");
        string? type = (string?)o["model_type"];
        var arch = o["architectures"] as JsonArray;
        string? first = arch is { Count: > 0 } ? (string?)arch[0] : null;
        if (type is not null && type != "llama" || first is not null && first != "LlamaForCausalLM")
            throw new InvalidDataException($"{source}: architecture '{first ?? type}' is not supported (only LlamaForCausalLM).");
        int Int(string name) => (int?)o[name] ?? throw new InvalidDataException($"{source}: missing '{name}'.");
        int heads = Int("num_attention_heads"), hidden = Int("hidden_size");
        int? headDim = (int?)o["head_dim"];
        if (headDim is { } hd && hd * heads != hidden)
            throw new InvalidDataException($"{source}: head_dim {hd} × {heads} heads ≠ hidden_size {hidden} (not supported).");
        try
        {
            return new ModelConfig(
                Int("vocab_size"), hidden, Int("num_hidden_layers"), heads,
                (int?)o["num_key_value_heads"] ?? heads, Int("intermediate_size"),
                (double?)o["rope_theta"] ?? 10000.0, (double?)o["rms_norm_eps"] ?? 1e-6,
                (int?)o["max_position_embeddings"] ?? 2048, (bool?)o["tie_word_embeddings"] ?? false,
                (bool?)o["jepa_rope_interleaved"] ?? false).Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }
}
