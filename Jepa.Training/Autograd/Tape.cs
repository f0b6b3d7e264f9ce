using Jepa.Core;
using Jepa.Kernels;

namespace Jepa.Training.Autograd;

/// <summary>
/// A reverse-mode tape over the kernels' forward/backward pairs. Each op runs its forward kernel at once
/// and records a closure that runs its backward kernel; <c>Backward</c> replays the closures in
/// reverse order. Gradients accumulate (<c>+=</c>) in that fixed order, so they are deterministic.
/// Every tensor the tape creates (activations and their gradients) returns to the device pool on
/// <see cref="Dispose"/>, so a training loop reaches a steady state that allocates no device memory.
/// </summary>
public sealed class Tape : IDisposable
{
    private readonly List<Action> _backward = new();
    private readonly List<IDisposable> _owned = new();
    private bool _done;
    private ulong _randomStreams;

    /// <summary>Starts an empty tape on <paramref name="ops"/>' device. With <paramref name="recordGradients"/> false
    /// (inference) nothing is recorded and no output requires a gradient.</summary>
    public Tape(KernelLibrary ops, bool recordGradients = true)
    {
        Ops = ops;
        RecordsGradients = recordGradients;
    }

    /// <summary>False for an inference tape.</summary>
    public bool RecordsGradients { get; }

    /// <summary>The kernels.</summary>
    public KernelLibrary Ops { get; }

    /// <summary>The device.</summary>
    public Device Device => Ops.Device;

    /// <summary>The Philox key of this tape's random ops (dropout); 0 until <see cref="SetRandomKey"/> sets it.</summary>
    public ulong RandomKey { get; private set; }

    /// <summary>Keys this tape's random ops for one micro-step of a training run: the key is a Philox hash of
    /// (<paramref name="seed"/>, <paramref name="step"/>, <paramref name="micro"/>), and the stream counter restarts,
    /// so the i-th random op of the micro-step draws from stream i of that key whatever ran before.</summary>
    public void SetRandomKey(ulong seed, long step, int micro)
    {
        const ulong domain = 0x44524F50; // "DROP"
        Philox.Block(seed, ((ulong)(uint)micro << 32) | domain, (ulong)step, out uint r0, out uint r1, out _, out _);
        RandomKey = r0 | ((ulong)r1 << 32);
        _randomStreams = 0;
    }

    /// <summary>The next Philox stream of this tape's random ops (0, 1, 2… in call order).</summary>
    public ulong NextRandomStream() => _randomStreams++;

    /// <summary>Number of recorded backward steps.</summary>
    public int Count => _backward.Count;

    /// <summary>Hands <paramref name="resource"/> to the tape, which disposes it with everything else.</summary>
    public T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    /// <summary>A new uninitialised tensor that lives as long as the tape.</summary>
    public Tensor Empty(params int[] shape)
    {
        var t = Tensor.Empty(Device, shape);
        _owned.Add(t);
        return t;
    }

    /// <summary>A new zero tensor that lives as long as the tape.</summary>
    public Tensor Zeros(params int[] shape)
    {
        var t = Tensor.Zeros(Device, shape);
        _owned.Add(t);
        return t;
    }

    /// <summary>Wraps an input (no gradient) or, with <paramref name="requiresGrad"/>, a leaf whose gradient the tape creates.</summary>
    public Variable Input(Tensor value, bool requiresGrad = false, string? name = null) => new(value, requiresGrad, name);

    /// <summary>A new output variable of the given shape; it needs a gradient when any input does.</summary>
    public Variable Output(bool requiresGrad, params int[] shape) => new(Empty(shape), requiresGrad && RecordsGradients);

    /// <summary>The gradient buffer of <paramref name="v"/>, created as zeros on first use.</summary>
    public Tensor Grad(Variable v)
    {
        if (v.Grad is null)
        {
            if (!v.RequiresGrad) throw new InvalidOperationException($"{v} does not require a gradient.");
            v.Grad = Zeros([.. v.Value.Shape]);
        }
        return v.Grad;
    }

    /// <summary>Records the backward step of an op whose output is <paramref name="output"/>. It is skipped when the output
    /// needs no gradient, and at backward time when no gradient reached the output.</summary>
    public void Record(Variable output, Action backward)
    {
        if (_done) throw new InvalidOperationException("This tape has already run backward; start a new tape for a new step.");
        if (output.RequiresGrad) _backward.Add(() => { if (output.Grad is not null || output.HostGrad is not null) backward(); });
    }

    /// <summary>Seeds d(loss)/d(loss) = <paramref name="seed"/> for a one-element loss and runs every recorded step in reverse.</summary>
    public void Backward(Variable loss, float seed = 1f)
    {
        if (loss.Value.Length != 1) throw new ArgumentException($"Backward needs a scalar loss, got {loss.Value.ShapeString}; pass the output's gradient for a tensor output.", nameof(loss));
        if (!loss.RequiresGrad) throw new ArgumentException("The loss does not depend on anything that requires a gradient.", nameof(loss));
        loss.HostGrad = seed;
        Ops.Elementwise.Fill(seed, Grad(loss).View, 1);
        Replay();
    }

    /// <summary>Backpropagates from a tensor output given d(loss)/d(output) (like <c>y.backward(gradient)</c>).</summary>
    public void Backward(Variable output, ReadOnlySpan<float> outputGradient)
    {
        if (!output.RequiresGrad) throw new ArgumentException($"{output} does not depend on anything that requires a gradient.", nameof(output));
        Grad(output).CopyFrom(outputGradient);
        Replay();
    }

    private void Replay()
    {
        if (_done) throw new InvalidOperationException("This tape has already run backward; start a new tape for a new step.");
        for (int i = _backward.Count - 1; i >= 0; i--) _backward[i]();
        _done = true;
    }

    /// <summary>Returns every tensor the tape made to the pool.</summary>
    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
        _backward.Clear();
    }
}
