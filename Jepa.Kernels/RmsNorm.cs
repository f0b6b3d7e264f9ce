using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// RMS normalisation over the last axis: for each row of x [N, C],
/// <c>y = x / sqrt(mean(x²) + eps) ⊙ w</c>. The forward saves the per-row reciprocal root
/// <c>rstd [N]</c> for the backward. One group per row with a fixed-pattern shared-memory reduction;
/// the weight gradient is summed in fixed-size row blocks then in block order (no atomics).
/// <para>On the CPU accelerator the op runs by default as SIMD host code in place on the accelerator's buffers
/// (<see cref="KernelPath"/>): rows in fixed blocks over the CPU threads, row sums in an order fixed by C, the
/// weight gradient in the kernels' block order. Results are bitwise independent of the thread count and differ
/// from the kernels' only by the rounding of the row sums.</para>
/// </summary>
public sealed class RmsNorm
{
    private readonly KernelCache _k;
    private readonly int _groupSize;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernels.</param>
    /// <param name="rowGroupSize">Threads per row: 0 for the device's choice, else a power of two it can run
    /// (results are bitwise reproducible for a given size). The host path ignores it.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernels
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public RmsNorm(KernelCache kernels, int rowGroupSize = 0, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        _groupSize = RowReduce.Validate("RmsNorm", kernels, rowGroupSize);
        Path = KernelPaths.Resolve("RmsNorm", kernels, path);
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>y = x · rstd ⊙ w with rstd[n] = 1 / sqrt(mean_c x[n, c]² + eps), saved in <paramref name="rstd"/>.
    /// <paramref name="y"/> may alias <paramref name="x"/>.</summary>
    /// <param name="x">Input [N, C].</param>
    /// <param name="w">Gain [C].</param>
    /// <param name="y">Output [N, C].</param>
    /// <param name="rstd">Per-row reciprocal RMS [N], written for <see cref="Backward"/>.</param>
    /// <param name="N">Rows.</param>
    /// <param name="C">Channels.</param>
    /// <param name="eps">Added to the mean square.</param>
    public void Forward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, ArrayView<float> rstd, int N, int C, float eps = 1e-6f)
    {
        int n = Check.Positive("RmsNorm", (nameof(N), N), (nameof(C), C));
        Check.Length("RmsNorm", nameof(x), x, n); Check.Length("RmsNorm", nameof(w), w, C);
        Check.Length("RmsNorm", nameof(y), y, n); Check.Length("RmsNorm", nameof(rstd), rstd, N);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe
            {
                RmsNormCpu.Forward(G.CpuChunks, HostView.Ptr(x, nameof(x)), HostView.Ptr(w, nameof(w)), HostView.Ptr(y, nameof(y)),
                    HostView.Ptr(rstd, nameof(rstd)), N, C, eps);
            }
            return;
        }
        _k.Get("RmsNorm.Forward", acc => acc.LoadStreamKernel<int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (RowReduce.Config(G, N, C, _groupSize), N, C, eps, x, w, y, rstd);
    }

    /// <summary>Backward of <see cref="Forward"/>, accumulating:
    /// dx += rstd·(w ⊙ dy − x·rstd²·mean_c(dy ⊙ w ⊙ x)), dw += Σ_n dy ⊙ x · rstd.</summary>
    /// <param name="x">The forward input [N, C].</param>
    /// <param name="w">Gain [C].</param>
    /// <param name="rstd">The forward's saved [N].</param>
    /// <param name="dy">Output gradient [N, C].</param>
    /// <param name="dx">Input gradient [N, C], accumulated.</param>
    /// <param name="dw">Gain gradient [C], accumulated.</param>
    /// <param name="N">Rows.</param>
    /// <param name="C">Channels.</param>
    public void Backward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> rstd, ArrayView<float> dy,
        ArrayView<float> dx, ArrayView<float> dw, int N, int C)
    {
        int n = Check.Positive("RmsNormBackward", (nameof(N), N), (nameof(C), C));
        Check.Length("RmsNormBackward", nameof(x), x, n); Check.Length("RmsNormBackward", nameof(w), w, C);
        Check.Length("RmsNormBackward", nameof(rstd), rstd, N); Check.Length("RmsNormBackward", nameof(dy), dy, n);
        Check.Length("RmsNormBackward", nameof(dx), dx, n); Check.Length("RmsNormBackward", nameof(dw), dw, C);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe
            {
                RmsNormCpu.Backward(G.CpuChunks, HostView.Ptr(x, nameof(x)), HostView.Ptr(w, nameof(w)), HostView.Ptr(rstd, nameof(rstd)),
                    HostView.Ptr(dy, nameof(dy)), HostView.Ptr(dx, nameof(dx)), HostView.Ptr(dw, nameof(dw)), N, C);
            }
            return;
        }
        _k.Get("RmsNorm.Backward", acc => acc.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (RowReduce.Config(G, N, C, _groupSize), N, C, x, w, rstd, dy, dx);

        // Per-row-block partials; the scratch returns to the pool on exit, which is safe because any later
        // user of that buffer is queued behind these kernels on the same stream.
        int blocks = ColumnSums.Blocks(N);
        int items = blocks * C;
        using var partial = Tensor.Empty(_k.Device, items);
        _k.Get("RmsNorm.WeightGrad", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(WeightGradKernel))
            (G.Threads(items), G.PerThread(items), items, N, C, ColumnSums.RowBlock, x, rstd, dy, partial.View);
        ColumnSums.AddColumnSums(_k, partial.View, dw, blocks, C);
    }

    private static void ForwardKernel(int N, int C, float eps, ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, ArrayView<float> rstd)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tid = Group.IdxX, g = Group.DimX;
        for (int row = Grid.IdxX; row < N; row += Grid.DimX)
        {
            long o = (long)row * C;
            float ss = 0f;
            for (int c = tid; c < C; c += g)
            {
                float v = x[o + c];
                ss += v * v;
            }
            ss = RowReduce.Sum(shared, ss);
            float r = 1f / XMath.Sqrt(ss / C + eps);
            if (tid == 0) rstd[row] = r;
            for (int c = tid; c < C; c += g) y[o + c] = x[o + c] * r * w[c];
        }
    }

    private static void BackwardKernel(int N, int C, ArrayView<float> x, ArrayView<float> w, ArrayView<float> rstd, ArrayView<float> dy, ArrayView<float> dx)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tid = Group.IdxX, g = Group.DimX;
        for (int row = Grid.IdxX; row < N; row += Grid.DimX)
        {
            long o = (long)row * C;
            float s = 0f;
            for (int c = tid; c < C; c += g) s += dy[o + c] * w[c] * x[o + c];
            s = RowReduce.Sum(shared, s);
            float r = rstd[row];
            float k = s / C * r * r;
            for (int c = tid; c < C; c += g) dx[o + c] += r * (w[c] * dy[o + c] - x[o + c] * k);
        }
    }

    private static void WeightGradKernel(Index1D t, int per, int items, int N, int C, int rowBlock,
        ArrayView<float> x, ArrayView<float> rstd, ArrayView<float> dy, ArrayView<float> partial)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, items); i < e; i++)
        {
            int b = i / C, c = i - b * C;
            int r0 = b * rowBlock, r1 = XMath.Min(N, r0 + rowBlock);
            float s = 0f;
            for (int r = r0; r < r1; r++)
            {
                long j = (long)r * C + c;
                s += dy[j] * x[j] * rstd[r];
            }
            partial[i] = s;
        }
    }
}
