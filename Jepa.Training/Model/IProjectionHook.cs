using Jepa.Training.Autograd;

namespace Jepa.Training.Model;

/// <summary>
/// Something that changes what a model's linear projections compute, attached with <see cref="LlamaModel.AttachHook"/>
/// (LoRA adapters are one). The model calls it for every projection of <see cref="LlamaModel.Forward"/> and
/// <see cref="LlamaModel.ForwardCached"/>, and computes the plain x·Wᵀ (+b) where it answers null. The model owns an
/// attached hook: it trains the hook's <see cref="Parameters"/> and disposes it.
/// </summary>
public interface IProjectionHook : IDisposable
{
    /// <summary>The hook's trainable parameters, in a fixed order (after the model's own in
    /// <see cref="LlamaModel.TrainableParameters"/>).</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>x·Wᵀ (+b) of <paramref name="layer"/>'s <paramref name="projection"/> as this hook computes it, or null
    /// when the hook leaves that projection alone.</summary>
    Variable? Project(Tape tape, Variable x, int layer, Projection projection, Parameter w, Parameter? bias);

    /// <summary>The row blocks of a fused projection (OpenELM's <c>qkv_proj</c> and <c>proj_1</c>): x·W[rows]ᵀ for consecutive
    /// row blocks of <paramref name="w"/> of the sizes <paramref name="parts"/>, as this hook computes them, or null when it
    /// leaves that projection alone.</summary>
    Variable[]? ProjectParts(Tape tape, Variable x, int layer, Projection projection, Parameter w, int[] parts);
}
