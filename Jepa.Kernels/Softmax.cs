using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Row softmax over the last axis of x [N, C], numerically stable (the row maximum is subtracted before
/// exponentiating), with its backward. One group per row with fixed-pattern shared-memory reductions.
/// </summary>
public sealed class Softmax
{
    private readonly KernelCache _k;
    private readonly int _groupSize;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernels.</param>
    /// <param name="rowGroupSize">Threads per row: 0 for the device's choice, else a power of two it can run
    /// (results are bitwise reproducible for a given size).</param>
    public Softmax(KernelCache kernels, int rowGroupSize = 0)
    {
        _k = kernels;
        _groupSize = RowReduce.Validate("Softmax", kernels, rowGroupSize);
    }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>y[n, c] = exp(x[n, c] − max_c x[n, ·]) / Σ_c exp(x[n, c] − max). <paramref name="y"/> may alias <paramref name="x"/>.</summary>
    /// <param name="x">Input [N, C].</param>
    /// <param name="y">Output [N, C].</param>
    /// <param name="N">Rows.</param>
    /// <param name="C">Columns.</param>
    public void Forward(ArrayView<float> x, ArrayView<float> y, int N, int C)
    {
        int n = Check.Positive("Softmax", (nameof(N), N), (nameof(C), C));
        Check.Length("Softmax", nameof(x), x, n); Check.Length("Softmax", nameof(y), y, n);
        _k.Get("Softmax.Forward", acc => acc.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (RowReduce.Config(G, N, C, _groupSize), N, C, x, y);
    }

    /// <summary>Backward of <see cref="Forward"/> from its output, accumulating: dx += y ⊙ (dy − Σ_c dy ⊙ y).</summary>
    /// <param name="y">The forward output [N, C].</param>
    /// <param name="dy">Output gradient [N, C].</param>
    /// <param name="dx">Input gradient [N, C], accumulated.</param>
    /// <param name="N">Rows.</param>
    /// <param name="C">Columns.</param>
    public void Backward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int N, int C)
    {
        int n = Check.Positive("SoftmaxBackward", (nameof(N), N), (nameof(C), C));
        Check.Length("SoftmaxBackward", nameof(y), y, n); Check.Length("SoftmaxBackward", nameof(dy), dy, n); Check.Length("SoftmaxBackward", nameof(dx), dx, n);
        _k.Get("Softmax.Backward", acc => acc.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (RowReduce.Config(G, N, C, _groupSize), N, C, y, dy, dx);
    }

    private static void ForwardKernel(int N, int C, ArrayView<float> x, ArrayView<float> y)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tid = Group.IdxX, g = Group.DimX;
        for (int row = Grid.IdxX; row < N; row += Grid.DimX)
        {
            long o = (long)row * C;
            float m = float.NegativeInfinity;
            for (int c = tid; c < C; c += g)
            {
                float v = x[o + c];
                if (v > m) m = v;
            }
            m = RowReduce.Max(shared, m);
            float s = 0f;
            for (int c = tid; c < C; c += g) s += XMath.Exp(x[o + c] - m);
            float inv = 1f / RowReduce.Sum(shared, s);
            for (int c = tid; c < C; c += g) y[o + c] = XMath.Exp(x[o + c] - m) * inv;
        }
    }

    private static void BackwardKernel(int N, int C, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tid = Group.IdxX, g = Group.DimX;
        for (int row = Grid.IdxX; row < N; row += Grid.DimX)
        {
            long o = (long)row * C;
            float s = 0f;
            for (int c = tid; c < C; c += g) s += dy[o + c] * y[o + c];
            s = RowReduce.Sum(shared, s);
            for (int c = tid; c < C; c += g) dx[o + c] += y[o + c] * (dy[o + c] - s);
        }
    }
}
