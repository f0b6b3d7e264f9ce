using System.Text.Json.Nodes;
using Jepa.Tests.Support;

namespace Jepa.Tests.Model;

/// <summary>
/// A tiny random <c>Gemma2ForCausalLM</c> folder written the way Hugging Face writes one (the keys <c>Gemma2Config</c> writes and
/// the tensor names of transformers' modeling_gemma2.py, not through Jepa's exporter): 3 layers (0 and 2 with the sliding
/// window), hidden 24, 4 query heads and 2 key/value heads of <c>head_dim</c> 8 (≠ 24 / 4), GeGLU 40, vocabulary 50, tied
/// embeddings, RMSNorm ε 1e-6, RoPE θ 10000, <c>query_pre_attn_scalar</c> 12 (≠ head_dim), a window of 4 tokens (shorter than
/// the test sequences), attention scores soft-capped at 2 and logits at 3 (both small enough to bite). Each layer has
/// <c>input_layernorm</c>, <c>post_attention_layernorm</c>, <c>pre_feedforward_layernorm</c> and
/// <c>post_feedforward_layernorm</c>; every norm weight w is drawn in [−0.7, 0.7], applied as (1 + w).
/// </summary>
internal static class TinyGemma2
{
    public const int Vocab = 50, Hidden = 24, Layers = 3, Heads = 4, KvHeads = 2, HeadDim = 8, Ffn = 40, MaxPositions = 64, Window = 4;
    public const double Eps = 1e-6, Theta = 10000, QueryPreAttnScalar = 12, AttnCap = 2, FinalCap = 3;

    /// <summary>The config.json of the folder.</summary>
    public static JsonObject Config() => new()
    {
        ["architectures"] = new JsonArray("Gemma2ForCausalLM"), ["model_type"] = "gemma2",
        ["vocab_size"] = Vocab, ["hidden_size"] = Hidden, ["intermediate_size"] = Ffn, ["num_hidden_layers"] = Layers,
        ["num_attention_heads"] = Heads, ["num_key_value_heads"] = KvHeads, ["head_dim"] = HeadDim,
        ["hidden_activation"] = "gelu_pytorch_tanh", ["hidden_act"] = "gelu_pytorch_tanh",
        ["max_position_embeddings"] = MaxPositions, ["rms_norm_eps"] = Eps, ["rope_theta"] = Theta,
        ["query_pre_attn_scalar"] = QueryPreAttnScalar, ["sliding_window"] = Window, ["cache_implementation"] = "hybrid",
        ["attn_logit_softcapping"] = AttnCap, ["final_logit_softcapping"] = FinalCap,
        ["tie_word_embeddings"] = true, ["attention_bias"] = false, ["attention_dropout"] = 0.0, ["use_cache"] = true,
        ["torch_dtype"] = "float32", ["pad_token_id"] = 0, ["bos_token_id"] = 2, ["eos_token_id"] = 1, ["initializer_range"] = 0.02,
    };

    /// <summary>The weights by Hugging Face name (row-major, [out, in] projections), drawn from <paramref name="seed"/>.</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> Weights(ulong seed = 53)
    {
        var w = new Dictionary<string, (float[], int[])>();
        ulong s = seed * 1000;
        void Add(string name, float lo, float hi, params int[] shape) =>
            w[name] = (Reference.Random(shape.Aggregate(1, (a, b) => a * b), s++, lo, hi), shape);
        const int q = Heads * HeadDim, kv = KvHeads * HeadDim;
        Add("model.embed_tokens.weight", -0.3f, 0.3f, Vocab, Hidden);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", -0.7f, 0.7f, Hidden);
            Add(p + "self_attn.q_proj.weight", -0.35f, 0.35f, q, Hidden);
            Add(p + "self_attn.k_proj.weight", -0.35f, 0.35f, kv, Hidden);
            Add(p + "self_attn.v_proj.weight", -0.35f, 0.35f, kv, Hidden);
            Add(p + "self_attn.o_proj.weight", -0.2f, 0.2f, Hidden, q);
            Add(p + "post_attention_layernorm.weight", -0.7f, 0.7f, Hidden);
            Add(p + "pre_feedforward_layernorm.weight", -0.7f, 0.7f, Hidden);
            Add(p + "mlp.gate_proj.weight", -0.35f, 0.35f, Ffn, Hidden);
            Add(p + "mlp.up_proj.weight", -0.35f, 0.35f, Ffn, Hidden);
            Add(p + "mlp.down_proj.weight", -0.2f, 0.2f, Hidden, Ffn);
            Add(p + "post_feedforward_layernorm.weight", -0.7f, 0.7f, Hidden);
        }
        Add("model.norm.weight", -0.5f, 0.5f, Hidden);
        return w;
    }

    /// <summary>Writes config.json and model.safetensors of <paramref name="weights"/> into <paramref name="directory"/>.</summary>
    public static void Write(string directory, Dictionary<string, (float[] Data, int[] Shape)> weights) =>
        FamilyChecks.WriteFolder(directory, Config(), weights);
}
