using System.Text.Json.Nodes;
using Jepa.Tests.Support;

namespace Jepa.Tests.Model;

/// <summary>
/// A tiny random <c>Qwen3ForCausalLM</c> folder written the way Hugging Face writes one (its config keys and tensor names,
/// not through Jepa's exporter): 2 layers, hidden 24, 4 query heads and 2 key/value heads of <c>head_dim</c> 10 (so heads ×
/// head_dim ≠ hidden and 24 / 4 ≠ 10), SwiGLU 40, vocabulary 50, tied embeddings, no attention biases, RMSNorm ε 1e-6, RoPE
/// θ 10000. The q/k norm gains are drawn around 1 (0.3 to 1.7) so that dropping them changes the output.
/// </summary>
internal static class TinyQwen3
{
    public const int Vocab = 50, Hidden = 24, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 10, Ffn = 40, MaxPositions = 64;
    public const double Eps = 1e-6, Theta = 10000;

    /// <summary>The config.json of the folder, with the keys <c>Qwen3Config</c> writes.</summary>
    public static JsonObject Config() => new()
    {
        ["architectures"] = new JsonArray("Qwen3ForCausalLM"), ["model_type"] = "qwen3",
        ["vocab_size"] = Vocab, ["hidden_size"] = Hidden, ["intermediate_size"] = Ffn, ["num_hidden_layers"] = Layers,
        ["num_attention_heads"] = Heads, ["num_key_value_heads"] = KvHeads, ["head_dim"] = HeadDim, ["hidden_act"] = "silu",
        ["max_position_embeddings"] = MaxPositions, ["rms_norm_eps"] = Eps, ["rope_theta"] = Theta, ["rope_scaling"] = null,
        ["tie_word_embeddings"] = true, ["attention_bias"] = false, ["attention_dropout"] = 0.0, ["use_sliding_window"] = false,
        ["sliding_window"] = null, ["max_window_layers"] = Layers, ["use_cache"] = true, ["torch_dtype"] = "float32",
        ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["initializer_range"] = 0.02,
    };

    /// <summary>The weights by Hugging Face name (row-major, [out, in] projections), drawn from <paramref name="seed"/>.</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> Weights(ulong seed = 31)
    {
        var w = new Dictionary<string, (float[], int[])>();
        ulong s = seed * 1000;
        void Add(string name, float lo, float hi, params int[] shape) =>
            w[name] = (Reference.Random(shape.Aggregate(1, (a, b) => a * b), s++, lo, hi), shape);
        const int q = Heads * HeadDim, kv = KvHeads * HeadDim;
        Add("model.embed_tokens.weight", -0.5f, 0.5f, Vocab, Hidden);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", 0.5f, 1.5f, Hidden);
            Add(p + "self_attn.q_proj.weight", -0.35f, 0.35f, q, Hidden);
            Add(p + "self_attn.k_proj.weight", -0.35f, 0.35f, kv, Hidden);
            Add(p + "self_attn.v_proj.weight", -0.35f, 0.35f, kv, Hidden);
            Add(p + "self_attn.o_proj.weight", -0.2f, 0.2f, Hidden, q);
            Add(p + "self_attn.q_norm.weight", 0.3f, 1.7f, HeadDim);
            Add(p + "self_attn.k_norm.weight", 0.3f, 1.7f, HeadDim);
            Add(p + "post_attention_layernorm.weight", 0.5f, 1.5f, Hidden);
            Add(p + "mlp.gate_proj.weight", -0.35f, 0.35f, Ffn, Hidden);
            Add(p + "mlp.up_proj.weight", -0.35f, 0.35f, Ffn, Hidden);
            Add(p + "mlp.down_proj.weight", -0.2f, 0.2f, Hidden, Ffn);
        }
        Add("model.norm.weight", 0.5f, 1.5f, Hidden);
        return w;
    }

    /// <summary>Writes config.json and model.safetensors of <paramref name="weights"/> into <paramref name="directory"/>.</summary>
    public static void Write(string directory, Dictionary<string, (float[] Data, int[] Shape)> weights) =>
        FamilyChecks.WriteFolder(directory, Config(), weights);
}
