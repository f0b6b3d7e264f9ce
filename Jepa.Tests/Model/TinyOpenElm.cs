using System.Text.Json.Nodes;
using Jepa.Tests.Support;

namespace Jepa.Tests.Model;

/// <summary>
/// A tiny random <c>OpenELMForCausalLM</c> folder written the way Apple's checkpoints are (the keys <c>OpenELMConfig</c> writes,
/// the tensor names of its modeling_openelm.py, not through Jepa's exporter): 4 layers, model_dim 24, head_dim 4,
/// <c>qkv_multipliers</c> [0.5, 1.0] and 2 GQA groups, so the layers have 4, 4, 6, 6 query heads and 2, 2, 3, 3 key/value
/// heads; <c>ffn_multipliers</c> [0.5, 1.0, 1.5, 2.0] (the per-layer list a saved config holds) with divisor 8, so the gated
/// widths are 16, 24, 40, 48; per-head q/k norms; shared input and output embeddings; vocabulary 50; RoPE θ 10000. Each layer
/// has <c>attn_norm</c>, the fused <c>attn.qkv_proj</c> (query, key, value heads in that order), <c>attn.q_norm</c>,
/// <c>attn.k_norm</c>, <c>attn.out_proj</c>, <c>ffn_norm</c>, the fused <c>ffn.proj_1</c> (gate rows, then up rows) and
/// <c>ffn.proj_2</c>. Gains are drawn around 1 (0.3 to 1.7) so that dropping a norm changes the output.
/// </summary>
internal static class TinyOpenElm
{
    public const int Vocab = 50, Hidden = 24, Layers = 4, HeadDim = 4, MaxPositions = 64, Groups = 2, Divisor = 8;
    public const double Theta = 10000, Eps = 1e-6;
    public static readonly int[] QueryHeads = [4, 4, 6, 6], KvHeads = [2, 2, 3, 3], Ffn = [16, 24, 40, 48];

    /// <summary>The config.json of the folder.</summary>
    public static JsonObject Config() => new()
    {
        ["architectures"] = new JsonArray("OpenELMForCausalLM"), ["model_type"] = "openelm",
        ["activation_fn_name"] = "swish", ["bos_token_id"] = 1, ["eos_token_id"] = 2,
        ["ffn_dim_divisor"] = Divisor, ["ffn_multipliers"] = new JsonArray(0.5, 1.0, 1.5, 2.0), ["ffn_with_glu"] = true,
        ["head_dim"] = HeadDim, ["initializer_range"] = 0.02, ["max_context_length"] = MaxPositions, ["model_dim"] = Hidden,
        ["normalization_layer_name"] = "rms_norm", ["normalize_qk_projections"] = true, ["num_gqa_groups"] = Groups,
        ["num_kv_heads"] = new JsonArray(2, 2, 3, 3), ["num_query_heads"] = new JsonArray(4, 4, 6, 6),
        ["num_transformer_layers"] = Layers, ["qkv_multipliers"] = new JsonArray(0.5, 1.0), ["rope_freq_constant"] = Theta,
        ["rope_max_length"] = 2 * MaxPositions, ["share_input_output_layers"] = true, ["torch_dtype"] = "float32",
        ["transformers_version"] = "4.39.3", ["use_cache"] = true, ["vocab_size"] = Vocab,
        ["auto_map"] = new JsonObject { ["AutoConfig"] = "configuration_openelm.OpenELMConfig", ["AutoModelForCausalLM"] = "modeling_openelm.OpenELMForCausalLM" },
    };

    /// <summary>The weights by OpenELM name (row-major, [out, in] projections), drawn from <paramref name="seed"/>.</summary>
    public static Dictionary<string, (float[] Data, int[] Shape)> Weights(ulong seed = 67)
    {
        var w = new Dictionary<string, (float[], int[])>();
        ulong s = seed * 1000;
        void Add(string name, float lo, float hi, params int[] shape) =>
            w[name] = (Reference.Random(shape.Aggregate(1, (a, b) => a * b), s++, lo, hi), shape);
        Add("transformer.token_embeddings.weight", -0.5f, 0.5f, Vocab, Hidden);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"transformer.layers.{l}.";
            int q = QueryHeads[l] * HeadDim, kv = KvHeads[l] * HeadDim;
            Add(p + "attn_norm.weight", 0.3f, 1.7f, Hidden);
            Add(p + "attn.qkv_proj.weight", -0.35f, 0.35f, q + 2 * kv, Hidden);
            Add(p + "attn.q_norm.weight", 0.3f, 1.7f, HeadDim);
            Add(p + "attn.k_norm.weight", 0.3f, 1.7f, HeadDim);
            Add(p + "attn.out_proj.weight", -0.2f, 0.2f, Hidden, q);
            Add(p + "ffn_norm.weight", 0.3f, 1.7f, Hidden);
            Add(p + "ffn.proj_1.weight", -0.35f, 0.35f, 2 * Ffn[l], Hidden);
            Add(p + "ffn.proj_2.weight", -0.2f, 0.2f, Hidden, Ffn[l]);
        }
        Add("transformer.norm.weight", 0.5f, 1.5f, Hidden);
        return w;
    }

    /// <summary>Writes config.json and model.safetensors of <paramref name="weights"/> into <paramref name="directory"/>.</summary>
    public static void Write(string directory, Dictionary<string, (float[] Data, int[] Shape)> weights) =>
        FamilyChecks.WriteFolder(directory, Config(), weights);
}
