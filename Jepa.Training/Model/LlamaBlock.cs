using Jepa.Training.Autograd;

namespace Jepa.Training.Model;

/// <summary>The weights of one transformer block, in Hugging Face layout (<c>[out, in]</c> projections).</summary>
/// <param name="AttnNorm">input_layernorm [C].</param>
/// <param name="Wq">self_attn.q_proj [Hq·D, C].</param>
/// <param name="Wk">self_attn.k_proj [Hkv·D, C].</param>
/// <param name="Wv">self_attn.v_proj [Hkv·D, C].</param>
/// <param name="Wo">self_attn.o_proj [C, Hq·D].</param>
/// <param name="MlpNorm">post_attention_layernorm [C].</param>
/// <param name="Gate">mlp.gate_proj [F, C].</param>
/// <param name="Up">mlp.up_proj [F, C].</param>
/// <param name="Down">mlp.down_proj [C, F].</param>
public sealed record LlamaBlock(
    Parameter AttnNorm, Parameter Wq, Parameter Wk, Parameter Wv, Parameter Wo,
    Parameter MlpNorm, Parameter Gate, Parameter Up, Parameter Down)
{
    /// <summary>The block's parameters in a fixed order.</summary>
    public IEnumerable<Parameter> Parameters => [AttnNorm, Wq, Wk, Wv, Wo, MlpNorm, Gate, Up, Down];
}
