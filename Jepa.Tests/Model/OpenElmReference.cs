using static Jepa.Tests.Model.Qwen3Reference;

namespace Jepa.Tests.Model;

/// <summary>
/// An independent float64 forward of Apple's <c>OpenELMForCausalLM</c> (its modeling_openelm.py) over one sequence, in plain
/// loops sharing nothing with Jepa's model (its loop helpers are <see cref="Qwen3Reference"/>'s): per layer l with that layer's
/// Hq query and Hkv key/value heads, qkv = qkv_proj(attn_norm(x)) viewed as Hq + 2·Hkv heads and split into queries, keys and
/// values in that order; q_norm and k_norm over each head; rotate-half RoPE; causal attention with scale D^(−1/2), each key
/// head serving Hq/Hkv consecutive query heads; x += out_proj(·); then y = proj_1(ffn_norm(x)) split into halves y₁, y₂,
/// x += proj_2(silu(y₁) ⊙ y₂); logits from the shared token embeddings after transformer.norm.
/// </summary>
internal static class OpenElmReference
{
    /// <summary>Which features the reference leaves out or gets wrong on purpose, one at a time, to show each matters.</summary>
    public sealed record Without(bool QkNorm = false, bool QkvOrder = false, bool GateUpOrder = false);

    /// <summary>Final hidden states [T, C] (after transformer.norm) and logits [T, V] of <paramref name="ids"/>.</summary>
    public static (double[] Hidden, double[] Logits) Forward(IReadOnlyDictionary<string, double[]> w, int[] ids, Without? without = null)
    {
        var off = without ?? new Without();
        const int C = TinyOpenElm.Hidden, D = TinyOpenElm.HeadDim, V = TinyOpenElm.Vocab;
        const double eps = TinyOpenElm.Eps;
        int T = ids.Length;
        var embed = w["transformer.token_embeddings.weight"];
        var x = new double[T * C];
        for (int t = 0; t < T; t++) Array.Copy(embed, ids[t] * C, x, t * C, C);
        for (int l = 0; l < TinyOpenElm.Layers; l++)
        {
            string p = $"transformer.layers.{l}.";
            int H = TinyOpenElm.QueryHeads[l], Hkv = TinyOpenElm.KvHeads[l], F = TinyOpenElm.Ffn[l];
            var h = RmsNorm(x, w[p + "attn_norm.weight"], C, eps);
            int width = (H + 2 * Hkv) * D;
            var qkv = Linear(h, w[p + "attn.qkv_proj.weight"], T, C, width);
            // heads in the order q, k, v (for the check that the order matters: v, k, q)
            int qAt = off.QkvOrder ? 2 * Hkv * D : 0, kAt = off.QkvOrder ? Hkv * D : H * D, vAt = off.QkvOrder ? 0 : (H + Hkv) * D;
            var q = Columns(qkv, T, width, qAt, H * D);
            var k = Columns(qkv, T, width, kAt, Hkv * D);
            var v = Columns(qkv, T, width, vAt, Hkv * D);
            if (!off.QkNorm)
            {
                q = RmsNorm(q, w[p + "attn.q_norm.weight"], D, eps);
                k = RmsNorm(k, w[p + "attn.k_norm.weight"], D, eps);
            }
            RotateHalf(q, T, H, D, TinyOpenElm.Theta);
            RotateHalf(k, T, Hkv, D, TinyOpenElm.Theta);
            var a = CausalAttention(q, k, v, T, H, Hkv, D);
            AddInPlace(x, Linear(a, w[p + "attn.out_proj.weight"], T, H * D, C));
            var m = RmsNorm(x, w[p + "ffn_norm.weight"], C, eps);
            var y = Linear(m, w[p + "ffn.proj_1.weight"], T, C, 2 * F);
            var gate = Columns(y, T, 2 * F, off.GateUpOrder ? F : 0, F);
            var up = Columns(y, T, 2 * F, off.GateUpOrder ? 0 : F, F);
            for (int i = 0; i < gate.Length; i++) gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            AddInPlace(x, Linear(gate, w[p + "ffn.proj_2.weight"], T, F, C));
        }
        var hidden = RmsNorm(x, w["transformer.norm.weight"], C, eps);
        return (hidden, Linear(hidden, embed, T, C, V));
    }

    /// <summary>Columns [<paramref name="start"/>, start + <paramref name="count"/>) of each of <paramref name="rows"/> rows of
    /// width <paramref name="width"/>.</summary>
    private static double[] Columns(double[] x, int rows, int width, int start, int count)
    {
        var y = new double[rows * count];
        for (int r = 0; r < rows; r++) Array.Copy(x, r * width + start, y, r * count, count);
        return y;
    }
}
