using static Jepa.Tests.Model.Qwen3Reference;

namespace Jepa.Tests.Model;

/// <summary>
/// An independent float64 forward of Hugging Face's <c>Olmo2ForCausalLM</c> (transformers' modeling_olmo2.py) over one
/// sequence, in plain loops sharing nothing with Jepa's model (its loop helpers are <see cref="Qwen3Reference"/>'s). Per
/// layer: x += post_attention_layernorm(o_proj(attn(RoPE(split(q_norm(q_proj(x)))), RoPE(split(k_norm(k_proj(x)))), v_proj(x))))
/// and then x += post_feedforward_layernorm(down_proj(silu(gate_proj(x)) ⊙ up_proj(x))): no norm on a block's input, the q/k
/// norms over the whole projected row (all heads), rotate-half RoPE, causal grouped-query attention with scale D^(−1/2); the
/// logits come from lm_head after model.norm.
/// </summary>
internal static class Olmo2Reference
{
    /// <summary>Final hidden states [T, C] (after model.norm) and logits [T, V] of <paramref name="ids"/>. The switches remove one
    /// feature each, to show that it matters: <paramref name="postNorm"/> false applies the two block norms to the inputs of
    /// attention and MLP instead (Llama's pre-norm), <paramref name="qkNorm"/> false skips the q/k norms, and
    /// <paramref name="qkNormPerHead"/> normalises each head's slice of a q/k row by itself (Qwen3's span) with the same gains.</summary>
    public static (double[] Hidden, double[] Logits) Forward(IReadOnlyDictionary<string, double[]> w, int[] ids,
        bool postNorm = true, bool qkNorm = true, bool qkNormPerHead = false)
    {
        const int C = TinyOlmo2.Hidden, H = TinyOlmo2.Heads, Hkv = TinyOlmo2.KvHeads, D = TinyOlmo2.HeadDim, F = TinyOlmo2.Ffn, V = TinyOlmo2.Vocab;
        const double eps = TinyOlmo2.Eps;
        int T = ids.Length;
        var embed = w["model.embed_tokens.weight"];
        var x = new double[T * C];
        for (int t = 0; t < T; t++) Array.Copy(embed, ids[t] * C, x, t * C, C);
        for (int l = 0; l < TinyOlmo2.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            double[] attnNorm = w[p + "post_attention_layernorm.weight"], mlpNorm = w[p + "post_feedforward_layernorm.weight"];
            var h = postNorm ? x : RmsNorm(x, attnNorm, C, eps);
            var q = Linear(h, w[p + "self_attn.q_proj.weight"], T, C, H * D);
            var k = Linear(h, w[p + "self_attn.k_proj.weight"], T, C, Hkv * D);
            var v = Linear(h, w[p + "self_attn.v_proj.weight"], T, C, Hkv * D);
            if (qkNorm)
            {
                q = NormRows(q, w[p + "self_attn.q_norm.weight"], qkNormPerHead ? D : H * D, eps);
                k = NormRows(k, w[p + "self_attn.k_norm.weight"], qkNormPerHead ? D : Hkv * D, eps);
            }
            RotateHalf(q, T, H, D, TinyOlmo2.Theta);
            RotateHalf(k, T, Hkv, D, TinyOlmo2.Theta);
            var o = Linear(CausalAttention(q, k, v, T, H, Hkv, D), w[p + "self_attn.o_proj.weight"], T, H * D, C);
            AddInPlace(x, postNorm ? RmsNorm(o, attnNorm, C, eps) : o);
            var m = postNorm ? x : RmsNorm(x, mlpNorm, C, eps);
            var d = SwiGluMlp(m, w, p, T, C, F);
            AddInPlace(x, postNorm ? RmsNorm(d, mlpNorm, C, eps) : d);
        }
        var hidden = RmsNorm(x, w["model.norm.weight"], C, eps);
        return (hidden, Linear(hidden, w["lm_head.weight"], T, C, V));
    }

    /// <summary>RMSNorm of each <paramref name="span"/>-wide slice of x, the gain g (as wide as a whole row) indexed by the
    /// position within the row.</summary>
    private static double[] NormRows(double[] x, double[] g, int span, double eps)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / span; r++)
        {
            double ss = 0;
            for (int i = 0; i < span; i++) ss += x[r * span + i] * x[r * span + i];
            double inv = 1 / Math.Sqrt(ss / span + eps);
            for (int i = 0; i < span; i++) y[r * span + i] = x[r * span + i] * inv * g[(r * span + i) % g.Length];
        }
        return y;
    }
}
