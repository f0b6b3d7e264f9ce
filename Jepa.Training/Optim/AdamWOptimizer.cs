using ILGPU;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training.Autograd;

namespace Jepa.Training.Optim;

/// <summary>AdamW hyper-parameters (PyTorch's defaults except weight decay).</summary>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Eps">Denominator ε.</param>
/// <param name="WeightDecay">Decoupled weight decay for parameters marked to decay.</param>
/// <param name="ClipNorm">Global gradient-norm clip; 0 or less turns clipping off.</param>
public sealed record AdamWOptions(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0.0, float ClipNorm = 1f);

/// <summary>
/// AdamW over a model's parameters with global-norm clipping computed on the device: the clip coefficient
/// never leaves the GPU; it scales the gradients inside the fused AdamW kernel. Norms and embeddings do
/// not decay unless their <see cref="Parameter.Decay"/> flag says so.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly KernelLibrary _ops;
    private readonly IReadOnlyList<Parameter> _params;
    private readonly Tensor[] _m, _v;
    private readonly ClipScalars _clip;
    private readonly List<ArrayView<float>> _gradViews;

    /// <summary>Creates zero moments for every trainable parameter.</summary>
    public AdamWOptimizer(KernelLibrary ops, IReadOnlyList<Parameter> parameters, AdamWOptions options)
    {
        _ops = ops;
        _params = parameters.Where(p => p.RequiresGrad).ToList();
        Options = options;
        _m = _params.Select(p => Tensor.Zeros(ops.Device, [.. p.Value.Shape])).ToArray();
        _v = _params.Select(p => Tensor.Zeros(ops.Device, [.. p.Value.Shape])).ToArray();
        _clip = new ClipScalars(ops.Device);
        _gradViews = _params.Select(p => p.Grad!.View).ToList();
    }

    /// <summary>The hyper-parameters.</summary>
    public AdamWOptions Options { get; }

    /// <summary>Steps taken so far.</summary>
    public int Step { get; private set; }

    /// <summary>The trainable parameters, in order.</summary>
    public IReadOnlyList<Parameter> Parameters => _params;

    /// <summary>First moments, parallel to <see cref="Parameters"/> (for checkpoints).</summary>
    public IReadOnlyList<Tensor> FirstMoments => _m;

    /// <summary>Second moments, parallel to <see cref="Parameters"/> (for checkpoints).</summary>
    public IReadOnlyList<Tensor> SecondMoments => _v;

    /// <summary>The global gradient norm of the last step, on the device (before clipping).</summary>
    public Tensor GradNorm => _clip.Norm;

    /// <summary>Restores the step counter (with the moments, when resuming).</summary>
    public void Restore(int step) => Step = step;

    /// <summary>One update at learning rate <paramref name="lr"/> from the current gradients. When their global norm is NaN
    /// or infinite, nothing changes (decided on the device): read <see cref="GradNorm"/> after the step to know.</summary>
    /// <exception cref="InvalidOperationException">A parameter was frozen after this optimizer was created (e.g. LoRA attached);
    /// create a new optimizer.</exception>
    public void Update(double lr)
    {
        foreach (var p in _params)
            if (p.Grad is null)
                throw new InvalidOperationException($"Parameter '{p.Name}' was frozen after the optimizer was created (LoRA attached?); create a new optimizer (or trainer).");
        Step++;
        // Without clipping, a max norm no finite norm reaches: the coefficient is then 1, or NaN for a non-finite norm.
        _ops.GradClip.ComputeCoefficient(_gradViews, Options.ClipNorm > 0 ? Options.ClipNorm : float.MaxValue, _clip);
        var scale = _clip.Coefficient.View;
        for (int i = 0; i < _params.Count; i++)
        {
            var p = _params[i];
            double wd = p.Decay ? Options.WeightDecay : 0.0;
            _ops.AdamW.Step(p.Value.View, p.Grad!.View, _m[i].View, _v[i].View, p.Length,
                Step, lr, Options.Beta1, Options.Beta2, Options.Eps, wd, scale);
        }
    }

    /// <summary>Frees the moments.</summary>
    public void Dispose()
    {
        foreach (var t in _m) t.Dispose();
        foreach (var t in _v) t.Dispose();
        _clip.Dispose();
    }
}
