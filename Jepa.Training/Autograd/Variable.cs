using Jepa.Core;

namespace Jepa.Training.Autograd;

/// <summary>
/// A tensor that takes part in automatic differentiation: its value and, once needed, its gradient.
/// Intermediate variables belong to the <see cref="Tape"/> that made them and are freed with it;
/// parameters (<see cref="Parameter"/>) outlive every tape.
/// </summary>
public class Variable
{
    /// <summary>Wraps <paramref name="value"/>.</summary>
    public Variable(Tensor value, bool requiresGrad, string? name = null)
    {
        Value = value;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    /// <summary>The value.</summary>
    public Tensor Value { get; }

    /// <summary>The gradient of the loss with respect to <see cref="Value"/>, or null before backward reaches it.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>
    /// For scalar losses combined with host-side weights (γ, λ): d(total)/d(this) known on the host, so
    /// loss kernels take their upstream scale without a device-to-host copy. Null when unknown.
    /// </summary>
    public float? HostGrad { get; internal set; }

    /// <summary>Whether gradients flow into this variable.</summary>
    public bool RequiresGrad { get; private protected set; }

    /// <summary>A name for error messages and checkpoints.</summary>
    public string? Name { get; }

    /// <summary>Shape of the value.</summary>
    public IReadOnlyList<int> Shape => Value.Shape;

    /// <summary>Elements in the value, as an int (ops need int sizes).</summary>
    public int Length => checked((int)Value.Length);

    /// <inheritdoc />
    public override string ToString() => $"{Name ?? "var"}{Value.ShapeString}";
}

/// <summary>A trainable weight: owns its value and a persistent gradient buffer of the same shape.</summary>
public sealed class Parameter : Variable, IDisposable
{
    /// <summary>Creates a parameter over <paramref name="value"/> (owned from now on).</summary>
    public Parameter(Tensor value, string name, bool trainable = true, bool decay = true)
        : base(value, trainable, name)
    {
        Decay = decay;
        if (trainable) Grad = Tensor.Zeros(value.Device, [.. value.Shape]);
    }

    /// <summary>The name (never null for parameters).</summary>
    public new string Name => base.Name!;

    /// <summary>Whether AdamW applies weight decay to it (false for norms and embeddings by default).</summary>
    public bool Decay { get; set; }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of this [out, in] weight as a
    /// variable sharing its value and gradient memory: gradients accumulated into it land in this parameter's gradient. For
    /// fused projections (OpenELM's <c>qkv_proj</c>) used as their parts.</summary>
    internal Variable RowSlice(int start, int count)
    {
        var slice = new Variable(Value.Rows(start, count), RequiresGrad, $"{Name}[{start}:{start + count}]");
        if (Grad is { } g) slice.Grad = g.Rows(start, count);
        return slice;
    }

    /// <summary>Sets the gradient to zero.</summary>
    public void ZeroGrad() => Grad?.Clear();

    /// <summary>Whether the parameter is frozen: it takes no gradient and no optimizer updates it.</summary>
    public bool Frozen => !RequiresGrad;

    /// <summary>Freezes the parameter: frees its gradient buffer and stops gradients flowing into it, so
    /// optimizers created afterwards skip it (no moments). Freezing a frozen parameter does nothing.</summary>
    public void Freeze()
    {
        RequiresGrad = false;
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>Makes a frozen parameter trainable again with a zero gradient buffer. Does nothing when it is trainable.</summary>
    public void Unfreeze()
    {
        if (RequiresGrad) return;
        RequiresGrad = true;
        Grad = Tensor.Zeros(Value.Device, [.. Value.Shape]);
    }

    /// <summary>Frees the value and gradient.</summary>
    public void Dispose()
    {
        Value.Dispose();
        Grad?.Dispose();
    }
}
