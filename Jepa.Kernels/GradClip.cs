using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Global-norm gradient clipping as in <c>torch.nn.utils.clip_grad_norm_</c>, entirely on the device:
/// norm = ‖all gradients‖₂ (the deterministic multi-view sum of squares of <see cref="Reductions"/>),
/// coefficient = min(1, max_norm / (norm + 1e-6)) computed by a one-thread kernel, then either the
/// gradients are scaled in place or the coefficient is handed to <see cref="AdamW"/> as its gradient scale.
/// A non-finite norm (NaN or ∞) gives a NaN coefficient, so the overflow shows up instead of hiding, and AdamW, given
/// that coefficient as its gradient scale, skips the update on the device (no host synchronisation).
/// <para>On the CPU accelerator the norm, the coefficient and the scaling run by default as host code in place on
/// the accelerator's buffers (<see cref="KernelPath"/>), with the same operations, so both paths give the same bits.</para>
/// </summary>
public sealed class GradClip
{
    /// <summary>The term added to the norm before dividing, as in PyTorch.</summary>
    public const float NormEpsilon = 1e-6f;

    private readonly KernelCache _k;
    private readonly Reductions _reductions;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernels
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public GradClip(KernelCache kernels, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("GradClip", kernels, path);
        _reductions = new Reductions(kernels, path: Path);
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>norm[0] = ‖grads‖₂ over every element of every view; coefficient[0] = min(1, maxNorm / (norm + 1e-6)).
    /// The gradients are not modified.</summary>
    public void ComputeCoefficient(IReadOnlyList<ArrayView<float>> grads, float maxNorm, ArrayView<float> norm, ArrayView<float> coefficient)
    {
        const string op = "GradClip";
        ArgumentNullException.ThrowIfNull(grads);
        if (!(maxNorm > 0) || float.IsInfinity(maxNorm)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"{op}: max norm must be positive and finite.");
        Check.Length(op, nameof(norm), norm, 1); Check.Length(op, nameof(coefficient), coefficient, 1);
        _reductions.L2Norm(grads, norm);
        if (Path == KernelPath.Host)
        {
            unsafe
            {
                *HostView.Ptr(coefficient, nameof(coefficient)) = Coefficient(maxNorm, *HostView.Ptr(norm, nameof(norm)));
            }
            return;
        }
        _k.Get("GradClip.Coefficient", acc => acc.LoadAutoGroupedStreamKernel<Index1D, float, ArrayView<float>, ArrayView<float>>(CoefficientKernel))
            (1, maxNorm, norm, coefficient);
    }

    /// <summary>Computes norm and coefficient into <paramref name="scalars"/> (gradients untouched): pass
    /// <see cref="ClipScalars.Coefficient"/> to AdamW as its gradient scale.</summary>
    public void ComputeCoefficient(IReadOnlyList<ArrayView<float>> grads, float maxNorm, ClipScalars scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        ComputeCoefficient(grads, maxNorm, scalars.Norm.View, scalars.Coefficient.View);
    }

    /// <summary>g *= coefficient[0] for every element of every view.</summary>
    public void Scale(IReadOnlyList<ArrayView<float>> grads, ArrayView<float> coefficient)
    {
        ArgumentNullException.ThrowIfNull(grads);
        Check.Length("GradClip.Scale", nameof(coefficient), coefficient, 1);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe
            {
                float c = *HostView.Ptr(coefficient, nameof(coefficient));
                for (int i = 0; i < grads.Count; i++)
                {
                    long len = grads[i].Length;
                    if (len > int.MaxValue) throw new ArgumentException($"GradClip.Scale: view {i} has {len} elements, more than 2^31 − 1.", nameof(grads));
                    if (len == 0) continue;
                    float* x = HostView.Ptr(grads[i], nameof(grads));
                    ElementwiseCpu.Scale(G.CpuChunks, c, x, x, (int)len);
                }
            }
            return;
        }
        var kernel = _k.Get("GradClip.Scale", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(ScaleByKernel));
        for (int i = 0; i < grads.Count; i++)
        {
            long len = grads[i].Length;
            if (len > int.MaxValue) throw new ArgumentException($"GradClip.Scale: view {i} has {len} elements, more than 2^31 − 1.", nameof(grads));
            int n = (int)len;
            if (n == 0) continue;
            kernel(G.Threads(n), G.PerThread(n), n, coefficient, grads[i]);
        }
    }

    /// <summary>Clips in place: computes norm and coefficient, then scales every gradient by the coefficient.</summary>
    public void Clip(IReadOnlyList<ArrayView<float>> grads, float maxNorm, ArrayView<float> norm, ArrayView<float> coefficient)
    {
        ComputeCoefficient(grads, maxNorm, norm, coefficient);
        Scale(grads, coefficient);
    }

    /// <summary>Clips in place, keeping norm and coefficient in <paramref name="scalars"/>.</summary>
    public void Clip(IReadOnlyList<ArrayView<float>> grads, float maxNorm, ClipScalars scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        Clip(grads, maxNorm, scalars.Norm.View, scalars.Coefficient.View);
    }

    private static void CoefficientKernel(Index1D t, float maxNorm, ArrayView<float> norm, ArrayView<float> coefficient)
    {
        coefficient[0] = Coefficient(maxNorm, norm[0]);
    }

    /// <summary>min(1, maxNorm / (norm + 1e-6)); NaN for a NaN or infinite norm, which makes AdamW skip the update.</summary>
    private static float Coefficient(float maxNorm, float norm)
    {
        if (!XMath.IsFinite(norm)) return float.NaN;
        float c = maxNorm / (norm + NormEpsilon);
        return c > 1f ? 1f : c;
    }

    private static void ScaleByKernel(Index1D t, int per, int n, ArrayView<float> coefficient, ArrayView<float> x)
    {
        float c = coefficient[0];
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) x[i] *= c;
    }
}
