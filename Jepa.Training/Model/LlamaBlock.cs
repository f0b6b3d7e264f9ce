using Jepa.Training.Autograd;

namespace Jepa.Training.Model;

/// <summary>The weights of one transformer block, in Hugging Face layout (<c>[out, in]</c> projections).</summary>
/// <param name="AttnNorm">input_layernorm [C] on the attention's input; in an OLMo-2 post-norm block post_attention_layernorm on its output.</param>
/// <param name="Wq">self_attn.q_proj [Hq·D, C]; null in an OpenELM block (<paramref name="Wqkv"/>).</param>
/// <param name="Wk">self_attn.k_proj [Hkv·D, C]; null in an OpenELM block.</param>
/// <param name="Wv">self_attn.v_proj [Hkv·D, C]; null in an OpenELM block.</param>
/// <param name="Wo">self_attn.o_proj [C, Hq·D].</param>
/// <param name="MlpNorm">post_attention_layernorm [C] on the feed-forward's input; in an OLMo-2 post-norm block post_feedforward_layernorm on its output.</param>
/// <param name="Gate">mlp.gate_proj [F, C]; null in an OpenELM block (<paramref name="Proj1"/>).</param>
/// <param name="Up">mlp.up_proj [F, C]; null in an OpenELM block.</param>
/// <param name="Down">mlp.down_proj [C, F].</param>
/// <param name="Bq">self_attn.q_proj.bias [Hq·D], or null.</param>
/// <param name="Bk">self_attn.k_proj.bias [Hkv·D], or null.</param>
/// <param name="Bv">self_attn.v_proj.bias [Hkv·D], or null.</param>
/// <param name="Bo">self_attn.o_proj.bias [C], or null.</param>
/// <param name="QNorm">self_attn.q_norm.weight, the query RMSNorm gain: [D] per head (Qwen3) or [Hq·D] across heads (OLMo-2); or null.</param>
/// <param name="KNorm">self_attn.k_norm.weight, the key RMSNorm gain: [D] per head (Qwen3) or [Hkv·D] across heads (OLMo-2); or null.</param>
/// <param name="PostAttnNorm">Gemma-2's post_attention_layernorm [C] on the attention output (its input norm is
/// <paramref name="AttnNorm"/>), or null.</param>
/// <param name="PostMlpNorm">Gemma-2's post_feedforward_layernorm [C] on the feed-forward output (its input norm,
/// pre_feedforward_layernorm, is <paramref name="MlpNorm"/>), or null.</param>
/// <param name="Wqkv">OpenELM's attn.qkv_proj [(Hq + 2·Hkv)·D, C]: the query, key and value rows in that order; or null.</param>
/// <param name="Proj1">OpenELM's ffn.proj_1 [2F, C]: the gate rows, then the up rows; or null.</param>
public sealed record LlamaBlock(
    Parameter AttnNorm, Parameter? Wq, Parameter? Wk, Parameter? Wv, Parameter Wo,
    Parameter MlpNorm, Parameter? Gate, Parameter? Up, Parameter Down,
    Parameter? Bq = null, Parameter? Bk = null, Parameter? Bv = null, Parameter? Bo = null,
    Parameter? QNorm = null, Parameter? KNorm = null, Parameter? PostAttnNorm = null, Parameter? PostMlpNorm = null,
    Parameter? Wqkv = null, Parameter? Proj1 = null)
{
    /// <summary>The block's parameters in a fixed order (biases, when present, after their weights' block order; then the
    /// q/k norms and Gemma-2's post norms, when present; an OpenELM block's fused projections stand where their parts would).</summary>
    public IEnumerable<Parameter> Parameters =>
        new Parameter?[] { AttnNorm, Wqkv, Wq, Wk, Wv, Wo, MlpNorm, Proj1, Gate, Up, Down, Bq, Bk, Bv, Bo, QNorm, KNorm, PostAttnNorm, PostMlpNorm }.OfType<Parameter>();

    /// <summary>The weight [out, in] of <paramref name="projection"/>, or null when the block has no such projection (a Llama
    /// projection in an OpenELM block, or the reverse).</summary>
    public Parameter? Weight(Projection projection)
    {
        bool openElm = Wqkv is not null;
        return projection switch
        {
            Projection.Q => Wq, Projection.K => Wk, Projection.V => Wv, Projection.O => openElm ? null : Wo,
            Projection.Gate => Gate, Projection.Up => Up, Projection.Down => openElm ? null : Down,
            Projection.Qkv => Wqkv, Projection.OutProj => openElm ? Wo : null, Projection.Proj1 => Proj1, Projection.Proj2 => openElm ? Down : null,
            _ => throw new ArgumentOutOfRangeException(nameof(projection), projection, "Not a projection."),
        };
    }
}
