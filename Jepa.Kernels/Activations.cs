using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Pointwise activations — SiLU, GELU (exact or tanh form), SwiGLU and the tanh soft cap — each forward next to its backward.
/// Backwards take the forward input and accumulate (<c>dx += …</c>). Every formula is written so that no
/// finite input produces NaN or infinity: the logistic function is <c>1 / (1 + exp(−x))</c>, the tanh GELU
/// uses the identity <c>½(1 + tanh u) = σ(2u)</c>, and erf is the Numerical Recipes <c>erfc</c> Chebyshev fit
/// (fractional error below 1.2·10⁻⁷; ILGPU has no erf).
/// <para>On the CPU accelerator SiLU and SwiGLU run by default as SIMD host code in place on the accelerator's
/// buffers (<see cref="KernelPath"/>), with a vectorised exp (results within about an ulp of the kernels'); GELU
/// always runs its kernels.</para>
/// </summary>
public sealed class Activations
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;
    private const float GeluCubic = 0.044715f;

    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">Which implementation SiLU and SwiGLU run: by default the host path on the CPU accelerator and
    /// the kernels elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public Activations(KernelCache kernels, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("Activations", kernels, path);
    }

    /// <summary>The path SiLU and SwiGLU run on this instance: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>Workers of the host path; waits for queued kernels first (free on the CPU accelerator).</summary>
    private int HostThreads()
    {
        _k.Accelerator.DefaultStream.Synchronize();
        return G.CpuChunks;
    }

    // ---------------------------------------------------------------- SiLU

    /// <summary>y = x·σ(x) over <paramref name="n"/> elements (y may alias x).</summary>
    public void Silu(ArrayView<float> x, ArrayView<float> y, int n)
    {
        Check.Length("Silu", nameof(x), x, n); Check.Length("Silu", nameof(y), y, n);
        if (n == 0) return;
        if (Path == KernelPath.Host) { unsafe { ActivationsCpu.Silu(HostThreads(), HostView.Ptr(x, nameof(x)), HostView.Ptr(y, nameof(y)), n); } return; }
        _k.Get("Activations.Silu", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(SiluKernel))
            (G.Threads(n), G.PerThread(n), n, x, y);
    }

    /// <summary>Backward of <see cref="Silu"/>: dx += dy·σ(x)(1 + x(1 − σ(x))).</summary>
    public void SiluBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int n)
    {
        Check.Length("SiluBackward", nameof(x), x, n); Check.Length("SiluBackward", nameof(dy), dy, n); Check.Length("SiluBackward", nameof(dx), dx, n);
        if (n == 0) return;
        if (Path == KernelPath.Host)
        {
            unsafe { ActivationsCpu.SiluBackward(HostThreads(), HostView.Ptr(x, nameof(x)), HostView.Ptr(dy, nameof(dy)), HostView.Ptr(dx, nameof(dx)), n); }
            return;
        }
        _k.Get("Activations.SiluBackward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SiluBackwardKernel))
            (G.Threads(n), G.PerThread(n), n, x, dy, dx);
    }

    private static void SiluKernel(Index1D t, int per, int n, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            float v = x[i];
            y[i] = v * Sigmoid(v);
        }
    }

    private static void SiluBackwardKernel(Index1D t, int per, int n, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) dx[i] += dy[i] * SiluGrad(x[i]);
    }

    // ---------------------------------------------------------------- GELU

    /// <summary>y = GELU(x) over <paramref name="n"/> elements (y may alias x), exact or tanh form.</summary>
    public void Gelu(ArrayView<float> x, ArrayView<float> y, int n, GeluApproximation approximation = GeluApproximation.None)
    {
        Check.Length("Gelu", nameof(x), x, n); Check.Length("Gelu", nameof(y), y, n);
        if (n == 0) return;
        _k.Get("Activations.Gelu", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(GeluKernel))
            (G.Threads(n), G.PerThread(n), n, TanhFlag(approximation), x, y);
    }

    /// <summary>Backward of <see cref="Gelu"/> with the same <paramref name="approximation"/>: dx += dy·GELU′(x).</summary>
    public void GeluBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int n, GeluApproximation approximation = GeluApproximation.None)
    {
        Check.Length("GeluBackward", nameof(x), x, n); Check.Length("GeluBackward", nameof(dy), dy, n); Check.Length("GeluBackward", nameof(dx), dx, n);
        if (n == 0) return;
        _k.Get("Activations.GeluBackward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GeluBackwardKernel))
            (G.Threads(n), G.PerThread(n), n, TanhFlag(approximation), x, dy, dx);
    }

    // ---------------------------------------------------------------- soft cap

    /// <summary>y = c·tanh(x / c) over <paramref name="n"/> elements (y may alias x): Gemma-2's final-logit soft-capping.</summary>
    public void SoftCap(ArrayView<float> x, ArrayView<float> y, int n, float cap)
    {
        Check.Length("SoftCap", nameof(x), x, n); Check.Length("SoftCap", nameof(y), y, n);
        CheckCap("SoftCap", cap);
        if (n == 0) return;
        _k.Get("Activations.SoftCap", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>, ArrayView<float>>(SoftCapKernel))
            (G.Threads(n), G.PerThread(n), n, cap, x, y);
    }

    /// <summary>Backward of <see cref="SoftCap"/>: dx += dy·(1 − tanh²(x / c)).</summary>
    public void SoftCapBackward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, int n, float cap)
    {
        Check.Length("SoftCapBackward", nameof(x), x, n); Check.Length("SoftCapBackward", nameof(dy), dy, n); Check.Length("SoftCapBackward", nameof(dx), dx, n);
        CheckCap("SoftCapBackward", cap);
        if (n == 0) return;
        _k.Get("Activations.SoftCapBackward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SoftCapBackwardKernel))
            (G.Threads(n), G.PerThread(n), n, cap, x, dy, dx);
    }

    private static void CheckCap(string op, float cap)
    {
        if (!(cap > 0f) || !float.IsFinite(cap)) throw new ArgumentOutOfRangeException(nameof(cap), cap, $"{op}: the cap must be a positive finite number.");
    }

    private static void SoftCapKernel(Index1D t, int per, int n, float cap, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) y[i] = cap * XMath.Tanh(x[i] / cap);
    }

    private static void SoftCapBackwardKernel(Index1D t, int per, int n, float cap, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            float th = XMath.Tanh(x[i] / cap);
            dx[i] += dy[i] * (1f - th * th);
        }
    }

    private static int TanhFlag(GeluApproximation a) => a switch
    {
        GeluApproximation.None => 0,
        GeluApproximation.Tanh => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, "Unknown GELU approximation."),
    };

    private static void GeluKernel(Index1D t, int per, int n, int tanhForm, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            float v = x[i];
            y[i] = tanhForm != 0 ? v * Sigmoid(2f * TanhArgument(v)) : 0.5f * v * TwoPhi(v);
        }
    }

    private static void GeluBackwardKernel(Index1D t, int per, int n, int tanhForm, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            float v = x[i];
            float d;
            if (tanhForm != 0)
            {
                // y = v·s with s = σ(2u): dy/dv = s + v·2s(1 − s)·u′. Where s(1 − s) underflows to 0, |v| may be
                // large enough for v² to overflow, so the term is skipped rather than computed as 0·∞.
                float s = Sigmoid(2f * TanhArgument(v));
                float q = s * (1f - s);
                d = q > 0f ? s + 2f * v * q * SqrtTwoOverPi * (1f + 3f * GeluCubic * v * v) : s;
            }
            else
            {
                d = 0.5f * TwoPhi(v) + v * InvSqrt2Pi * XMath.Exp(-0.5f * v * v);
            }
            dx[i] += dy[i] * d;
        }
    }

    // ---------------------------------------------------------------- SwiGLU

    /// <summary>y = silu(gate) ⊙ up over <paramref name="n"/> elements, gate and up separate views
    /// (y may alias either).</summary>
    public void SwiGlu(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, int n)
    {
        Check.Length("SwiGlu", nameof(gate), gate, n); Check.Length("SwiGlu", nameof(up), up, n); Check.Length("SwiGlu", nameof(y), y, n);
        if (n == 0) return;
        LaunchSwiGlu(gate, up, y, n, n, n);
    }

    /// <summary>Backward of <see cref="SwiGlu"/>: dgate += dy ⊙ up ⊙ silu′(gate), dup += dy ⊙ silu(gate).</summary>
    public void SwiGluBackward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dgate, ArrayView<float> dup, int n)
    {
        Check.Length("SwiGluBackward", nameof(gate), gate, n); Check.Length("SwiGluBackward", nameof(up), up, n); Check.Length("SwiGluBackward", nameof(dy), dy, n);
        Check.Length("SwiGluBackward", nameof(dgate), dgate, n); Check.Length("SwiGluBackward", nameof(dup), dup, n);
        if (n == 0) return;
        LaunchSwiGluBackward(gate, up, dy, dgate, dup, n, n, n);
    }

    /// <summary>SwiGLU on a packed projection: gateUp [N, 2F] holds each row's gate in its first F columns and
    /// its up in the last F; y [N, F] = silu(gate) ⊙ up.</summary>
    public void SwiGluPacked(ArrayView<float> gateUp, ArrayView<float> y, int N, int F)
    {
        int n = Check.Positive("SwiGluPacked", (nameof(N), N), (nameof(F), F));
        Check.Length("SwiGluPacked", nameof(gateUp), gateUp, 2L * n); Check.Length("SwiGluPacked", nameof(y), y, n);
        LaunchSwiGlu(gateUp, gateUp.SubView(F), y, n, F, 2 * F);
    }

    /// <summary>Backward of <see cref="SwiGluPacked"/>: accumulates into both halves of dGateUp [N, 2F].</summary>
    public void SwiGluPackedBackward(ArrayView<float> gateUp, ArrayView<float> dy, ArrayView<float> dGateUp, int N, int F)
    {
        int n = Check.Positive("SwiGluPackedBackward", (nameof(N), N), (nameof(F), F));
        Check.Length("SwiGluPackedBackward", nameof(gateUp), gateUp, 2L * n); Check.Length("SwiGluPackedBackward", nameof(dy), dy, n);
        Check.Length("SwiGluPackedBackward", nameof(dGateUp), dGateUp, 2L * n);
        LaunchSwiGluBackward(gateUp, gateUp.SubView(F), dy, dGateUp, dGateUp.SubView(F), n, F, 2 * F);
    }

    // Element i of the [n / F, F] output reads gate and up at row·stride + column.
    private void LaunchSwiGlu(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, int n, int F, int stride)
    {
        if (Path == KernelPath.Host)
        {
            unsafe { ActivationsCpu.SwiGlu(HostThreads(), HostView.Ptr(gate, nameof(gate)), HostView.Ptr(up, nameof(up)), HostView.Ptr(y, nameof(y)), n, F, stride); }
            return;
        }
        _k.Get("Activations.SwiGlu", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SwiGluKernel))
            (G.Threads(n), G.PerThread(n), n, F, stride, gate, up, y);
    }

    private void LaunchSwiGluBackward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dgate, ArrayView<float> dup, int n, int F, int stride)
    {
        if (Path == KernelPath.Host)
        {
            unsafe
            {
                ActivationsCpu.SwiGluBackward(HostThreads(), HostView.Ptr(gate, nameof(gate)), HostView.Ptr(up, nameof(up)), HostView.Ptr(dy, nameof(dy)),
                    HostView.Ptr(dgate, nameof(dgate)), HostView.Ptr(dup, nameof(dup)), n, F, stride);
            }
            return;
        }
        _k.Get("Activations.SwiGluBackward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SwiGluBackwardKernel))
            (G.Threads(n), G.PerThread(n), n, F, stride, gate, up, dy, dgate, dup);
    }

    private static void SwiGluKernel(Index1D t, int per, int n, int F, int stride, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            int r = i / F;
            long j = (long)r * stride + (i - r * F);
            float g = gate[j];
            y[i] = g * Sigmoid(g) * up[j];
        }
    }

    private static void SwiGluBackwardKernel(Index1D t, int per, int n, int F, int stride, ArrayView<float> gate, ArrayView<float> up,
        ArrayView<float> dy, ArrayView<float> dgate, ArrayView<float> dup)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            int r = i / F;
            long j = (long)r * stride + (i - r * F);
            float g = gate[j], u = up[j], d = dy[i];
            dgate[j] += d * u * SiluGrad(g);
            dup[j] += d * g * Sigmoid(g);
        }
    }

    // ---------------------------------------------------------------- scalar helpers (inlined into kernels)

    private static float Sigmoid(float v) => 1f / (1f + XMath.Exp(-v));

    private static float SiluGrad(float v)
    {
        float s = Sigmoid(v);
        return s * (1f + v * (1f - s));
    }

    private static float TanhArgument(float v) => SqrtTwoOverPi * (v + GeluCubic * v * v * v);

    /// <summary>2Φ(v) = 1 + erf(v/√2), from the Numerical Recipes Chebyshev fit of erfc (fractional error
    /// &lt; 1.2·10⁻⁷): erfc(|v|/√2) for v &lt; 0 and 2 − erfc(v/√2) otherwise, so the negative tail keeps its
    /// relative accuracy instead of cancelling in 1 + (−1 + tiny). The exponent's z² is formed as ½v² (one
    /// rounding) because exp(−z²) amplifies z²'s relative error by z².</summary>
    private static float TwoPhi(float v)
    {
        float z = XMath.Abs(v) * InvSqrt2;
        float t = 1f / (1f + 0.5f * z);
        float p = -0.82215223f + t * 0.17087277f;
        p = 1.48851587f + t * p;
        p = -1.13520398f + t * p;
        p = 0.27886807f + t * p;
        p = -0.18628806f + t * p;
        p = 0.09678418f + t * p;
        p = 0.37409196f + t * p;
        p = 1.00002368f + t * p;
        float erfc = t * XMath.Exp(-0.5f * v * v - 1.26551223f + t * p);
        return v < 0f ? erfc : 2f - erfc;
    }
}
