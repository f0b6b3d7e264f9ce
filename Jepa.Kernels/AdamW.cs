using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// The AdamW update as one fused elementwise kernel over parameters p, gradients g and moments m, v,
/// following <c>torch.optim.AdamW</c> (single-tensor path, non-capturable) operation by operation:
/// <code>
/// g  = g · scale                         (scale: the clip coefficient, 1 without clipping; g is not written)
/// p  = p · (1 − lr·wd)                   (decoupled weight decay first)
/// m  = m + (1 − β1)·(g − m)              (torch's exp_avg.lerp_(g, 1 − β1))
/// v  = v·β2 + (1 − β2)·g·g
/// p  = p − (lr / bc1) · m / (√v / √bc2 + eps),   bc1 = 1 − β1^t, bc2 = 1 − β2^t
/// </code>
/// Host-side scalars (bias corrections, step size, decay factor) are computed in double, as PyTorch does
/// in Python, and handed to the kernel as floats; hyperparameters are therefore taken as doubles.
/// The main overload reads the gradient scale from a 1-element device view, so global-norm clipping
/// (<see cref="GradClip"/>) never has to wait for the host. A non-finite scale (the NaN coefficient of a NaN or infinite
/// gradient norm) skips the update: weights and moments keep their values, decided on the device.
/// <para>On the CPU accelerator the update runs by default as SIMD host code in place on the accelerator's
/// buffers (<see cref="KernelPath"/>), with the kernel's operations and roundings, so both paths give the same bits.</para>
/// </summary>
public sealed class AdamW
{
    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernel
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernel.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public AdamW(KernelCache kernels, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("AdamW", kernels, path);
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>The per-step scalars the kernel uses, rounded to float once on the host.</summary>
    public readonly struct StepScalars
    {
        /// <summary>1 − lr·wd.</summary>
        public readonly float Decay;
        /// <summary>1 − β1.</summary>
        public readonly float OneMinusBeta1;
        /// <summary>β2.</summary>
        public readonly float Beta2;
        /// <summary>1 − β2.</summary>
        public readonly float OneMinusBeta2;
        /// <summary>√(1 − β2^t).</summary>
        public readonly float Bc2Sqrt;
        /// <summary>eps.</summary>
        public readonly float Eps;
        /// <summary>−lr / (1 − β1^t).</summary>
        public readonly float NegStepSize;

        /// <summary>Computes the scalars of step <paramref name="t"/> (1-based) in double and rounds each to float.</summary>
        public StepScalars(int t, double lr, double beta1, double beta2, double eps, double weightDecay)
        {
            double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
            Decay = (float)(1 - lr * weightDecay);
            OneMinusBeta1 = (float)(1 - beta1);
            Beta2 = (float)beta2;
            OneMinusBeta2 = (float)(1 - beta2);
            Bc2Sqrt = (float)Math.Sqrt(bc2);
            Eps = (float)eps;
            NegStepSize = (float)(-(lr / bc1));
        }
    }

    /// <summary>
    /// One AdamW step over <paramref name="n"/> elements, with the gradient multiplied by
    /// <paramref name="gradScale"/>[0] (a device scalar such as <see cref="ClipScalars.Coefficient"/>).
    /// Updates <paramref name="p"/>, <paramref name="m"/> and <paramref name="v"/> in place; g is only read.
    /// </summary>
    /// <param name="p">Parameters [n].</param>
    /// <param name="g">Gradients [n].</param>
    /// <param name="m">First moments [n] (start at zero).</param>
    /// <param name="v">Second moments [n] (start at zero).</param>
    /// <param name="n">Number of elements.</param>
    /// <param name="t">Step number, 1 for the first step.</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="beta1">First-moment decay, in [0, 1).</param>
    /// <param name="beta2">Second-moment decay, in [0, 1).</param>
    /// <param name="eps">Denominator term.</param>
    /// <param name="weightDecay">Decoupled weight decay (0 for none).</param>
    /// <param name="gradScale">Device view whose element 0 multiplies every gradient.</param>
    public void Step(ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, int n,
        int t, double lr, double beta1, double beta2, double eps, double weightDecay, ArrayView<float> gradScale)
    {
        Validate(p, g, m, v, n, t, lr, beta1, beta2, eps, weightDecay);
        Check.Length("AdamW", nameof(gradScale), gradScale, 1);
        if (n == 0) return;
        var s = new StepScalars(t, lr, beta1, beta2, eps, weightDecay);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            float scale;
            unsafe { scale = *HostView.Ptr(gradScale, nameof(gradScale)); }
            if (float.IsFinite(scale)) RunHost(p, g, m, v, n, s, scale);
            return;
        }
        _k.Get("AdamW.Step", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, StepScalars, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(StepKernel))
            (G.Threads(n), G.PerThread(n), n, s, p, g, m, v, gradScale);
    }

    /// <summary>One AdamW step over <paramref name="n"/> elements with a host gradient scale (1 for none).
    /// See <see cref="Step(ArrayView{float}, ArrayView{float}, ArrayView{float}, ArrayView{float}, int, int, double, double, double, double, double, ArrayView{float})"/>.</summary>
    public void Step(ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, int n,
        int t, double lr, double beta1, double beta2, double eps, double weightDecay, float gradScale = 1f)
    {
        Validate(p, g, m, v, n, t, lr, beta1, beta2, eps, weightDecay);
        if (n == 0) return;
        var s = new StepScalars(t, lr, beta1, beta2, eps, weightDecay);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            if (float.IsFinite(gradScale)) RunHost(p, g, m, v, n, s, gradScale);
            return;
        }
        _k.Get("AdamW.StepHostScale", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, StepScalars, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(StepHostScaleKernel))
            (G.Threads(n), G.PerThread(n), n, s, gradScale, p, g, m, v);
    }

    private unsafe void RunHost(ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, int n, StepScalars s, float scale) =>
        AdamWCpu.Step(G.CpuChunks, HostView.Ptr(p, nameof(p)), HostView.Ptr(g, nameof(g)), HostView.Ptr(m, nameof(m)), HostView.Ptr(v, nameof(v)), n, s, scale);

    private static void Validate(ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, int n,
        int t, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        const string op = "AdamW";
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"{op}: size 'n' must be non-negative.");
        Check.Length(op, nameof(p), p, n); Check.Length(op, nameof(g), g, n);
        Check.Length(op, nameof(m), m, n); Check.Length(op, nameof(v), v, n);
        if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, $"{op}: step number 't' starts at 1.");
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, $"{op}: learning rate must be ≥ 0.");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, $"{op}: beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, $"{op}: beta2 must be in [0, 1).");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{op}: eps must be ≥ 0.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, $"{op}: weight decay must be ≥ 0.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(int i, float scale, StepScalars s, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v)
    {
        float gi = g[i] * scale;
        float pi = p[i] * s.Decay;
        float mi = m[i];
        mi += s.OneMinusBeta1 * (gi - mi);
        float vi = v[i] * s.Beta2 + s.OneMinusBeta2 * gi * gi;
        float denom = XMath.Sqrt(vi) / s.Bc2Sqrt + s.Eps;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi + s.NegStepSize * mi / denom;
    }

    private static void StepKernel(Index1D t, int per, int n, StepScalars s, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, ArrayView<float> gradScale)
    {
        float scale = gradScale[0];
        if (!XMath.IsFinite(scale)) return;
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) Update(i, scale, s, p, g, m, v);
    }

    private static void StepHostScaleKernel(Index1D t, int per, int n, StepScalars s, float gradScale, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v)
    {
        if (!XMath.IsFinite(gradScale)) return;
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) Update(i, gradScale, s, p, g, m, v);
    }
}
