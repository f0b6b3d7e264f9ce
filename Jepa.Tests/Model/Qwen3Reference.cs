namespace Jepa.Tests.Model;

/// <summary>
/// An independent float64 forward of Hugging Face's <c>Qwen3ForCausalLM</c> (transformers' modeling_qwen3.py) over one
/// sequence, written from the modelling code in plain loops, sharing nothing with Jepa's model: per layer
/// x += o_proj(attn(RoPE(q_norm(q_proj(h))), RoPE(k_norm(k_proj(h))), v_proj(h))) with h = input_layernorm(x), then
/// x += down_proj(silu(gate_proj(m)) ⊙ up_proj(m)) with m = post_attention_layernorm(x); the q/k norms are RMSNorms over each
/// head's head_dim vector; RoPE is rotate-half with inv_freq θ^(−2i/D); attention is causal with scale D^(−1/2) and grouped
/// query heads; the logits come from the tied embedding.
/// </summary>
internal static class Qwen3Reference
{
    /// <summary>Final hidden states [T, C] (after model.norm) and logits [T, V] of <paramref name="ids"/>. With
    /// <paramref name="qkNorm"/> false the q/k norms are skipped (a Qwen2-style forward), to show they matter.</summary>
    public static (double[] Hidden, double[] Logits) Forward(IReadOnlyDictionary<string, double[]> w, int[] ids, bool qkNorm = true)
    {
        const int C = TinyQwen3.Hidden, H = TinyQwen3.Heads, Hkv = TinyQwen3.KvHeads, D = TinyQwen3.HeadDim, F = TinyQwen3.Ffn, V = TinyQwen3.Vocab;
        const double eps = TinyQwen3.Eps;
        int T = ids.Length;
        var embed = w["model.embed_tokens.weight"];
        var x = new double[T * C];
        for (int t = 0; t < T; t++) Array.Copy(embed, ids[t] * C, x, t * C, C);
        for (int l = 0; l < TinyQwen3.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            var h = RmsNorm(x, w[p + "input_layernorm.weight"], C, eps);
            var q = Linear(h, w[p + "self_attn.q_proj.weight"], T, C, H * D);
            var k = Linear(h, w[p + "self_attn.k_proj.weight"], T, C, Hkv * D);
            var v = Linear(h, w[p + "self_attn.v_proj.weight"], T, C, Hkv * D);
            if (qkNorm)
            {
                q = RmsNorm(q, w[p + "self_attn.q_norm.weight"], D, eps);
                k = RmsNorm(k, w[p + "self_attn.k_norm.weight"], D, eps);
            }
            RotateHalf(q, T, H, D, TinyQwen3.Theta);
            RotateHalf(k, T, Hkv, D, TinyQwen3.Theta);
            var a = CausalAttention(q, k, v, T, H, Hkv, D);
            AddInPlace(x, Linear(a, w[p + "self_attn.o_proj.weight"], T, H * D, C));
            var m = RmsNorm(x, w[p + "post_attention_layernorm.weight"], C, eps);
            AddInPlace(x, SwiGluMlp(m, w, p, T, C, F));
        }
        var hidden = RmsNorm(x, w["model.norm.weight"], C, eps);
        return (hidden, Linear(hidden, embed, T, C, V));
    }

    /// <summary>Causal grouped-query softmax attention over q [T, H, D], k and v [T, Hkv, D] with scale D^(−1/2) (or
    /// <paramref name="scale"/>): [T, H·D]. With <paramref name="softCap"/> c &gt; 0 each score s becomes c·tanh(s / c); with
    /// <paramref name="window"/> W &gt; 0 query i sees only keys j with i − j &lt; W.</summary>
    internal static double[] CausalAttention(double[] q, double[] k, double[] v, int T, int H, int Hkv, int D,
        double scale = 0, double softCap = 0, int window = 0)
    {
        if (scale == 0) scale = 1 / Math.Sqrt(D);
        var a = new double[T * H * D];
        var scores = new double[T];
        for (int head = 0; head < H; head++)
        {
            int kvHead = head / (H / Hkv);
            for (int i = 0; i < T; i++)
            {
                double max = double.NegativeInfinity;
                int first = window > 0 ? Math.Max(0, i - window + 1) : 0;
                for (int j = first; j <= i; j++)
                {
                    double s = 0;
                    for (int d = 0; d < D; d++) s += q[(i * H + head) * D + d] * k[(j * Hkv + kvHead) * D + d];
                    scores[j] = s * scale;
                    if (softCap > 0) scores[j] = softCap * Math.Tanh(scores[j] / softCap);
                    max = Math.Max(max, scores[j]);
                }
                double sum = 0;
                for (int j = first; j <= i; j++) sum += scores[j] = Math.Exp(scores[j] - max);
                for (int j = first; j <= i; j++)
                    for (int d = 0; d < D; d++) a[(i * H + head) * D + d] += scores[j] / sum * v[(j * Hkv + kvHead) * D + d];
            }
        }
        return a;
    }

    /// <summary>The MLP of layer prefix <paramref name="p"/> over m [T, C]: down_proj(silu(gate_proj(m)) ⊙ up_proj(m)), [T, C].</summary>
    internal static double[] SwiGluMlp(double[] m, IReadOnlyDictionary<string, double[]> w, string p, int T, int C, int F)
    {
        var gate = Linear(m, w[p + "mlp.gate_proj.weight"], T, C, F);
        var up = Linear(m, w[p + "mlp.up_proj.weight"], T, C, F);
        for (int i = 0; i < gate.Length; i++) gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
        return Linear(gate, w[p + "mlp.down_proj.weight"], T, F, C);
    }

    /// <summary>y = x · Wᵀ for x [rows, inF] and W [outF, inF].</summary>
    internal static double[] Linear(double[] x, double[] wt, int rows, int inF, int outF)
    {
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = 0;
                for (int i = 0; i < inF; i++) s += x[r * inF + i] * wt[o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    /// <summary>Each consecutive row of <paramref name="width"/> values: x · (mean(x²) + ε)^(−1/2) ⊙ g.</summary>
    internal static double[] RmsNorm(double[] x, double[] g, int width, double eps)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / width; r++)
        {
            double ss = 0;
            for (int i = 0; i < width; i++) ss += x[r * width + i] * x[r * width + i];
            double inv = 1 / Math.Sqrt(ss / width + eps);
            for (int i = 0; i < width; i++) y[r * width + i] = x[r * width + i] * inv * g[i];
        }
        return y;
    }

    /// <summary>Hugging Face's apply_rotary_pos_emb on [T, heads, D] at positions 0..T−1 with base <paramref name="theta"/>:
    /// x·cos + rotate_half(x)·sin.</summary>
    internal static void RotateHalf(double[] x, int T, int heads, int D, double theta)
    {
        int half = D / 2;
        for (int t = 0; t < T; t++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++)
                {
                    double angle = t * Math.Pow(theta, -2.0 * i / D);
                    int o = (t * heads + h) * D;
                    double a = x[o + i], b = x[o + i + half];
                    x[o + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                    x[o + i + half] = b * Math.Cos(angle) + a * Math.Sin(angle);
                }
    }

    internal static void AddInPlace(double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++) x[i] += y[i];
    }
}
