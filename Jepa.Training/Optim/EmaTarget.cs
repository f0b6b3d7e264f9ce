using Jepa.Training.Model;

namespace Jepa.Training.Optim;

/// <summary>
/// The EMA target encoder (I-JEPA style): a frozen copy of the trained model whose weights follow it as
/// θ̄ ← d·θ̄ + (1 − d)·θ after each optimizer step. The objective embeds the target view with it; checkpoints hold its weights.
/// </summary>
public sealed class EmaTarget : IDisposable
{
    private readonly LlamaModel _online;

    /// <summary>Copies <paramref name="online"/> (which the caller keeps owning) as the target, to follow it with decay <paramref name="decay"/>.</summary>
    public EmaTarget(LlamaModel online, float decay)
    {
        _online = online;
        Decay = decay;
        Model = online.Clone(trainable: false);
    }

    /// <summary>The target encoder.</summary>
    public LlamaModel Model { get; }

    /// <summary>The decay d.</summary>
    public float Decay { get; }

    /// <summary>Moves the target towards the trained model's current weights (after an optimizer step).</summary>
    public void Update()
    {
        float d = Decay;
        var ops = _online.Ops.Elementwise;
        for (int i = 0; i < _online.Parameters.Count; i++)
        {
            var target = Model.Parameters[i].Value;
            int n = checked((int)target.Length);
            ops.Scale(d, target.View, target.View, n);
            ops.Axpy(1 - d, _online.Parameters[i].Value.View, target.View, n);
        }
    }

    /// <summary>Frees the target's weights (not the trained model).</summary>
    public void Dispose() => Model.Dispose();
}
