using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Elementwise ops — add, mul, scale, bias, axpy, copy, fill — each forward next to its backward.
/// Convention for every backward in this library: input gradients are accumulated (<c>+=</c>), never
/// overwritten, so a tensor used twice (a residual stream) just receives two contributions.
/// <para>On the CPU accelerator the ops run by default as SIMD host code in place on the accelerator's
/// buffers (<see cref="KernelPath"/>), with the same per-element operations, so both paths give the same bits.</para>
/// </summary>
public sealed class Elementwise
{
    private readonly KernelCache _k;
    private readonly bool _host;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernels
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public Elementwise(KernelCache kernels, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("Elementwise", kernels, path);
        _host = Path == KernelPath.Host;
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>Workers of the host path; waits for queued kernels first (free on the CPU accelerator).</summary>
    private int HostThreads()
    {
        _k.Accelerator.DefaultStream.Synchronize();
        return G.CpuChunks;
    }

    // ---------------------------------------------------------------- add

    /// <summary>y = a + b over <paramref name="n"/> elements (y may alias a or b).</summary>
    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int n)
    {
        Check.Length("Add", nameof(a), a, n); Check.Length("Add", nameof(b), b, n); Check.Length("Add", nameof(y), y, n);
        if (n == 0) return;
        if (_host) { unsafe { ElementwiseCpu.Add(HostThreads(), HostView.Ptr(a, nameof(a)), HostView.Ptr(b, nameof(b)), HostView.Ptr(y, nameof(y)), n); } return; }
        _k.Get("Elementwise.Add", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddKernel))
            (G.Threads(n), G.PerThread(n), n, a, b, y);
    }

    /// <summary>Backward of <see cref="Add"/>: da += dy, db += dy.</summary>
    public void AddBackward(ArrayView<float> dy, ArrayView<float> da, ArrayView<float> db, int n)
    {
        Axpy(1f, dy, da, n);
        Axpy(1f, dy, db, n);
    }

    private static void AddKernel(Index1D t, int per, int n, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) y[i] = a[i] + b[i];
    }

    // ---------------------------------------------------------------- mul

    /// <summary>y = a ⊙ b over <paramref name="n"/> elements (y may alias a or b).</summary>
    public void Mul(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int n)
    {
        Check.Length("Mul", nameof(a), a, n); Check.Length("Mul", nameof(b), b, n); Check.Length("Mul", nameof(y), y, n);
        if (n == 0) return;
        if (_host) { unsafe { ElementwiseCpu.Mul(HostThreads(), HostView.Ptr(a, nameof(a)), HostView.Ptr(b, nameof(b)), HostView.Ptr(y, nameof(y)), n); } return; }
        _k.Get("Elementwise.Mul", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MulKernel))
            (G.Threads(n), G.PerThread(n), n, a, b, y);
    }

    /// <summary>Backward of <see cref="Mul"/>: da += dy ⊙ b, db += dy ⊙ a.</summary>
    public void MulBackward(ArrayView<float> dy, ArrayView<float> a, ArrayView<float> b, ArrayView<float> da, ArrayView<float> db, int n)
    {
        Check.Length("MulBackward", nameof(dy), dy, n); Check.Length("MulBackward", nameof(a), a, n); Check.Length("MulBackward", nameof(b), b, n);
        Check.Length("MulBackward", nameof(da), da, n); Check.Length("MulBackward", nameof(db), db, n);
        if (n == 0) return;
        if (_host)
        {
            unsafe { ElementwiseCpu.MulBackward(HostThreads(), HostView.Ptr(dy, nameof(dy)), HostView.Ptr(a, nameof(a)), HostView.Ptr(b, nameof(b)), HostView.Ptr(da, nameof(da)), HostView.Ptr(db, nameof(db)), n); }
            return;
        }
        _k.Get("Elementwise.MulBackward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MulBackwardKernel))
            (G.Threads(n), G.PerThread(n), n, dy, a, b, da, db);
    }

    private static void MulKernel(Index1D t, int per, int n, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) y[i] = a[i] * b[i];
    }

    private static void MulBackwardKernel(Index1D t, int per, int n, ArrayView<float> dy, ArrayView<float> a, ArrayView<float> b, ArrayView<float> da, ArrayView<float> db)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            float g = dy[i];
            float ai = a[i];
            da[i] += g * b[i];
            db[i] += g * ai;
        }
    }

    // ---------------------------------------------------------------- scale

    /// <summary>y = s·x over <paramref name="n"/> elements (y may alias x).</summary>
    public void Scale(float s, ArrayView<float> x, ArrayView<float> y, int n)
    {
        Check.Length("Scale", nameof(x), x, n); Check.Length("Scale", nameof(y), y, n);
        if (n == 0) return;
        if (_host) { unsafe { ElementwiseCpu.Scale(HostThreads(), s, HostView.Ptr(x, nameof(x)), HostView.Ptr(y, nameof(y)), n); } return; }
        _k.Get("Elementwise.Scale", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>, ArrayView<float>>(ScaleKernel))
            (G.Threads(n), G.PerThread(n), n, s, x, y);
    }

    /// <summary>Backward of <see cref="Scale"/>: dx += s·dy.</summary>
    public void ScaleBackward(float s, ArrayView<float> dy, ArrayView<float> dx, int n) => Axpy(s, dy, dx, n);

    private static void ScaleKernel(Index1D t, int per, int n, float s, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) y[i] = s * x[i];
    }

    // ---------------------------------------------------------------- axpy

    /// <summary>y += a·x over <paramref name="n"/> elements (the gradient-accumulation primitive).</summary>
    public void Axpy(float a, ArrayView<float> x, ArrayView<float> y, int n)
    {
        Check.Length("Axpy", nameof(x), x, n); Check.Length("Axpy", nameof(y), y, n);
        if (n == 0) return;
        if (_host) { unsafe { ElementwiseCpu.Axpy(HostThreads(), a, HostView.Ptr(x, nameof(x)), HostView.Ptr(y, nameof(y)), n); } return; }
        _k.Get("Elementwise.Axpy", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>, ArrayView<float>>(AxpyKernel))
            (G.Threads(n), G.PerThread(n), n, a, x, y);
    }

    private static void AxpyKernel(Index1D t, int per, int n, float a, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) y[i] += a * x[i];
    }

    // ---------------------------------------------------------------- bias

    /// <summary>y[r, c] = x[r, c] + bias[c] for <paramref name="rows"/> × <paramref name="cols"/> (y may alias x).</summary>
    public void Bias(ArrayView<float> x, ArrayView<float> bias, ArrayView<float> y, int rows, int cols)
    {
        int n = Check.Positive("Bias", (nameof(rows), rows), (nameof(cols), cols));
        Check.Length("Bias", nameof(x), x, n); Check.Length("Bias", nameof(bias), bias, cols); Check.Length("Bias", nameof(y), y, n);
        if (_host)
        {
            unsafe { ElementwiseCpu.Bias(HostThreads(), HostView.Ptr(x, nameof(x)), HostView.Ptr(bias, nameof(bias)), HostView.Ptr(y, nameof(y)), rows, cols); }
            return;
        }
        _k.Get("Elementwise.Bias", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BiasKernel))
            (G.Threads(n), G.PerThread(n), n, cols, x, bias, y);
    }

    /// <summary>Backward of <see cref="Bias"/>: dx += dy; dbias[c] += Σ_r dy[r, c], summed over rows in order
    /// by one owner thread per column (deterministic, no atomics).</summary>
    public void BiasBackward(ArrayView<float> dy, ArrayView<float> dx, ArrayView<float> dbias, int rows, int cols)
    {
        int n = Check.Positive("BiasBackward", (nameof(rows), rows), (nameof(cols), cols));
        Check.Length("BiasBackward", nameof(dy), dy, n); Check.Length("BiasBackward", nameof(dx), dx, n); Check.Length("BiasBackward", nameof(dbias), dbias, cols);
        Axpy(1f, dy, dx, n);
        BiasGrad(dy, dbias, rows, cols);
    }

    /// <summary>The bias half of <see cref="BiasBackward"/>: dbias[c] += Σ_r dy[r, c] (for a bias added in place, where
    /// dx is dy itself), summed over rows in order by one owner thread per column.</summary>
    public void BiasGrad(ArrayView<float> dy, ArrayView<float> dbias, int rows, int cols)
    {
        int n = Check.Positive("BiasGrad", (nameof(rows), rows), (nameof(cols), cols));
        Check.Length("BiasGrad", nameof(dy), dy, n); Check.Length("BiasGrad", nameof(dbias), dbias, cols);
        if (_host) { unsafe { ElementwiseCpu.BiasGrad(HostThreads(), HostView.Ptr(dy, nameof(dy)), HostView.Ptr(dbias, nameof(dbias)), rows, cols); } return; }
        _k.Get("Elementwise.BiasBackward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(BiasBackwardKernel))
            (G.Threads(cols), G.PerThread(cols), rows, cols, dy, dbias);
    }

    private static void BiasKernel(Index1D t, int per, int n, int cols, ArrayView<float> x, ArrayView<float> bias, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) y[i] = x[i] + bias[i % cols];
    }

    private static void BiasBackwardKernel(Index1D t, int per, int rows, int cols, ArrayView<float> dy, ArrayView<float> dbias)
    {
        for (int c = Chunk.Start(t, per), e = Chunk.End(t, per, cols); c < e; c++)
        {
            float s = 0f;
            for (int r = 0; r < rows; r++) s += dy[(long)r * cols + c];
            dbias[c] += s;
        }
    }

    // ---------------------------------------------------------------- copy / fill

    /// <summary>y = x over <paramref name="n"/> elements.</summary>
    public void Copy(ArrayView<float> x, ArrayView<float> y, int n) => Scale(1f, x, y, n);

    /// <summary>Sets <paramref name="n"/> elements of <paramref name="y"/> to <paramref name="value"/>.</summary>
    public void Fill(float value, ArrayView<float> y, int n)
    {
        Check.Length("Fill", nameof(y), y, n);
        if (n == 0) return;
        if (_host) { unsafe { ElementwiseCpu.Fill(HostThreads(), value, HostView.Ptr(y, nameof(y)), n); } return; }
        _k.Get("Elementwise.Fill", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>>(FillKernel))
            (G.Threads(n), G.PerThread(n), n, value, y);
    }

    private static void FillKernel(Index1D t, int per, int n, float value, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++) y[i] = value;
    }
}
