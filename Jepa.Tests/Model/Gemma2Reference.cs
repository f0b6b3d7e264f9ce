using static Jepa.Tests.Model.Qwen3Reference;

namespace Jepa.Tests.Model;

/// <summary>
/// An independent float64 forward of Hugging Face's <c>Gemma2ForCausalLM</c> (transformers' modeling_gemma2.py) over one
/// sequence, in plain loops sharing nothing with Jepa's model (its loop helpers are <see cref="Qwen3Reference"/>'s):
/// x = embed(ids)·√C (the normaliser rounded to float32, as the reference casts it to the hidden dtype); per layer
/// x += post_attention_layernorm(o_proj(attn(h))) with h = input_layernorm(x), the scores (q·k)·query_pre_attn_scalar^(−1/2)
/// soft-capped to c·tanh(s / c) and, on even layers, limited to the last sliding_window keys; then
/// x += post_feedforward_layernorm(down_proj(gelu_tanh(gate_proj(m)) ⊙ up_proj(m))) with m = pre_feedforward_layernorm(x);
/// every RMSNorm multiplies by (1 + w); logits = c·tanh(norm(x)·Eᵀ / c) with the tied embedding E.
/// </summary>
internal static class Gemma2Reference
{
    /// <summary>Which features the reference leaves out, one at a time, to show each matters.</summary>
    public sealed record Without(bool EmbeddingScale = false, bool PlusOne = false, bool PostNorms = false, bool GeGlu = false,
        bool QueryScalar = false, bool AttnCap = false, bool FinalCap = false, bool Window = false);

    /// <summary>Final hidden states [T, C] (after model.norm) and logits [T, V] of <paramref name="ids"/>.</summary>
    public static (double[] Hidden, double[] Logits) Forward(IReadOnlyDictionary<string, double[]> w, int[] ids, Without? without = null)
    {
        var off = without ?? new Without();
        const int C = TinyGemma2.Hidden, H = TinyGemma2.Heads, Hkv = TinyGemma2.KvHeads, D = TinyGemma2.HeadDim, F = TinyGemma2.Ffn, V = TinyGemma2.Vocab;
        const double eps = TinyGemma2.Eps;
        int T = ids.Length;
        double[] Norm(double[] x, string name)
        {
            var g = (double[])w[name].Clone();
            if (!off.PlusOne) for (int i = 0; i < g.Length; i++) g[i] += 1;
            return RmsNorm(x, g, C, eps);
        }
        var embed = w["model.embed_tokens.weight"];
        var x = new double[T * C];
        double normalizer = off.EmbeddingScale ? 1 : (float)Math.Sqrt(C);
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) x[t * C + c] = embed[ids[t] * C + c] * normalizer;
        for (int l = 0; l < TinyGemma2.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            var h = Norm(x, p + "input_layernorm.weight");
            var q = Linear(h, w[p + "self_attn.q_proj.weight"], T, C, H * D);
            var k = Linear(h, w[p + "self_attn.k_proj.weight"], T, C, Hkv * D);
            var v = Linear(h, w[p + "self_attn.v_proj.weight"], T, C, Hkv * D);
            RotateHalf(q, T, H, D, TinyGemma2.Theta);
            RotateHalf(k, T, Hkv, D, TinyGemma2.Theta);
            var a = CausalAttention(q, k, v, T, H, Hkv, D,
                scale: off.QueryScalar ? 1 / Math.Sqrt(D) : 1 / Math.Sqrt(TinyGemma2.QueryPreAttnScalar),
                softCap: off.AttnCap ? 0 : TinyGemma2.AttnCap,
                window: off.Window || l % 2 == 1 ? 0 : TinyGemma2.Window);
            var o = Linear(a, w[p + "self_attn.o_proj.weight"], T, H * D, C);
            AddInPlace(x, off.PostNorms ? o : Norm(o, p + "post_attention_layernorm.weight"));
            var m = Norm(x, p + "pre_feedforward_layernorm.weight");
            var gate = Linear(m, w[p + "mlp.gate_proj.weight"], T, C, F);
            var up = Linear(m, w[p + "mlp.up_proj.weight"], T, C, F);
            for (int i = 0; i < gate.Length; i++)
            {
                double g = gate[i];
                double act = off.GeGlu ? g / (1 + Math.Exp(-g)) : 0.5 * g * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g)));
                gate[i] = act * up[i];
            }
            var d = Linear(gate, w[p + "mlp.down_proj.weight"], T, F, C);
            AddInPlace(x, off.PostNorms ? d : Norm(d, p + "post_feedforward_layernorm.weight"));
        }
        var hidden = Norm(x, "model.norm.weight");
        var logits = Linear(hidden, embed, T, C, V);
        if (!off.FinalCap)
            for (int i = 0; i < logits.Length; i++) logits[i] = TinyGemma2.FinalCap * Math.Tanh(logits[i] / TinyGemma2.FinalCap);
        return (hidden, logits);
    }
}
