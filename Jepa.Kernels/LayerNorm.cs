using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Layer normalisation over the last axis: for each row of x [N, C],
/// <c>y = (x − mean)·rstd ⊙ w + b</c> with <c>rstd = 1 / sqrt(var + eps)</c> (biased variance, computed
/// in a second pass around the mean). The forward saves mean and rstd [N] for the backward. One group
/// per row with fixed-pattern shared-memory reductions; weight and bias gradients are summed in fixed-size
/// row blocks then in block order (no atomics).
/// </summary>
public sealed class LayerNorm
{
    private readonly KernelCache _k;
    private readonly int _groupSize;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernels.</param>
    /// <param name="rowGroupSize">Threads per row: 0 for the device's choice, else a power of two it can run
    /// (results are bitwise reproducible for a given size).</param>
    public LayerNorm(KernelCache kernels, int rowGroupSize = 0)
    {
        _k = kernels;
        _groupSize = RowReduce.Validate("LayerNorm", kernels, rowGroupSize);
    }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>y = (x − mean)·rstd ⊙ w + b per row; mean and rstd are saved. <paramref name="y"/> may alias <paramref name="x"/>.</summary>
    /// <param name="x">Input [N, C].</param>
    /// <param name="w">Gain [C].</param>
    /// <param name="b">Bias [C].</param>
    /// <param name="y">Output [N, C].</param>
    /// <param name="mean">Per-row mean [N], written for <see cref="Backward"/>.</param>
    /// <param name="rstd">Per-row 1/sqrt(var + eps) [N], written for <see cref="Backward"/>.</param>
    /// <param name="N">Rows.</param>
    /// <param name="C">Channels.</param>
    /// <param name="eps">Added to the variance.</param>
    public void Forward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y,
        ArrayView<float> mean, ArrayView<float> rstd, int N, int C, float eps = 1e-5f)
    {
        int n = Check.Positive("LayerNorm", (nameof(N), N), (nameof(C), C));
        Check.Length("LayerNorm", nameof(x), x, n); Check.Length("LayerNorm", nameof(w), w, C); Check.Length("LayerNorm", nameof(b), b, C);
        Check.Length("LayerNorm", nameof(y), y, n); Check.Length("LayerNorm", nameof(mean), mean, N); Check.Length("LayerNorm", nameof(rstd), rstd, N);
        _k.Get("LayerNorm.Forward", acc => acc.LoadStreamKernel<int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (RowReduce.Config(G, N, C, _groupSize), N, C, eps, x, w, b, y, mean, rstd);
    }

    /// <summary>Backward of <see cref="Forward"/>, accumulating, with x̂ = (x − mean)·rstd and g = dy ⊙ w:
    /// dx += rstd·(g − mean_c g − x̂·mean_c(g ⊙ x̂)), dw += Σ_n dy ⊙ x̂, db += Σ_n dy.</summary>
    /// <param name="x">The forward input [N, C].</param>
    /// <param name="w">Gain [C].</param>
    /// <param name="mean">The forward's saved mean [N].</param>
    /// <param name="rstd">The forward's saved rstd [N].</param>
    /// <param name="dy">Output gradient [N, C].</param>
    /// <param name="dx">Input gradient [N, C], accumulated.</param>
    /// <param name="dw">Gain gradient [C], accumulated.</param>
    /// <param name="db">Bias gradient [C], accumulated.</param>
    /// <param name="N">Rows.</param>
    /// <param name="C">Channels.</param>
    public void Backward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dy,
        ArrayView<float> dx, ArrayView<float> dw, ArrayView<float> db, int N, int C)
    {
        int n = Check.Positive("LayerNormBackward", (nameof(N), N), (nameof(C), C));
        Check.Length("LayerNormBackward", nameof(x), x, n); Check.Length("LayerNormBackward", nameof(w), w, C);
        Check.Length("LayerNormBackward", nameof(mean), mean, N); Check.Length("LayerNormBackward", nameof(rstd), rstd, N);
        Check.Length("LayerNormBackward", nameof(dy), dy, n); Check.Length("LayerNormBackward", nameof(dx), dx, n);
        Check.Length("LayerNormBackward", nameof(dw), dw, C); Check.Length("LayerNormBackward", nameof(db), db, C);
        _k.Get("LayerNorm.Backward", acc => acc.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (RowReduce.Config(G, N, C, _groupSize), N, C, x, w, mean, rstd, dy, dx);

        // Per-row-block partials; the scratch returns to the pool on exit, which is safe because any later
        // user of that buffer is queued behind these kernels on the same stream.
        int blocks = ColumnSums.Blocks(N);
        int items = blocks * C;
        using var partial = Tensor.Empty(_k.Device, 2, items);
        var pw = partial.View.SubView(0, items);
        var pb = partial.View.SubView(items, items);
        _k.Get("LayerNorm.ParamGrad", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ParamGradKernel))
            (G.Threads(items), G.PerThread(items), items, N, C, ColumnSums.RowBlock, x, mean, rstd, dy, pw, pb);
        ColumnSums.AddColumnSums(_k, pw, dw, blocks, C);
        ColumnSums.AddColumnSums(_k, pb, db, blocks, C);
    }

    private static void ForwardKernel(int N, int C, float eps, ArrayView<float> x, ArrayView<float> w, ArrayView<float> b,
        ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tid = Group.IdxX, g = Group.DimX;
        for (int row = Grid.IdxX; row < N; row += Grid.DimX)
        {
            long o = (long)row * C;
            float s = 0f;
            for (int c = tid; c < C; c += g) s += x[o + c];
            float m = RowReduce.Sum(shared, s) / C;
            float v = 0f;
            for (int c = tid; c < C; c += g)
            {
                float d = x[o + c] - m;
                v += d * d;
            }
            float r = 1f / XMath.Sqrt(RowReduce.Sum(shared, v) / C + eps);
            if (tid == 0)
            {
                mean[row] = m;
                rstd[row] = r;
            }
            for (int c = tid; c < C; c += g) y[o + c] = (x[o + c] - m) * r * w[c] + b[c];
        }
    }

    private static void BackwardKernel(int N, int C, ArrayView<float> x, ArrayView<float> w, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> dy, ArrayView<float> dx)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tid = Group.IdxX, g = Group.DimX;
        for (int row = Grid.IdxX; row < N; row += Grid.DimX)
        {
            long o = (long)row * C;
            float m = mean[row], r = rstd[row];
            float sg = 0f, sgx = 0f;
            for (int c = tid; c < C; c += g)
            {
                float gc = dy[o + c] * w[c];
                sg += gc;
                sgx += gc * (x[o + c] - m) * r;
            }
            float mg = RowReduce.Sum(shared, sg) / C;
            float mgx = RowReduce.Sum(shared, sgx) / C;
            for (int c = tid; c < C; c += g)
            {
                float xhat = (x[o + c] - m) * r;
                dx[o + c] += r * (dy[o + c] * w[c] - mg - xhat * mgx);
            }
        }
    }

    private static void ParamGradKernel(Index1D t, int per, int items, int N, int C, int rowBlock,
        ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dy, ArrayView<float> pw, ArrayView<float> pb)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, items); i < e; i++)
        {
            int blk = i / C, c = i - blk * C;
            int r0 = blk * rowBlock, r1 = XMath.Min(N, r0 + rowBlock);
            float sw = 0f, sb = 0f;
            for (int r = r0; r < r1; r++)
            {
                long j = (long)r * C + c;
                float d = dy[j];
                sw += d * (x[j] - mean[r]) * rstd[r];
                sb += d;
            }
            pw[i] = sw;
            pb[i] = sb;
        }
    }
}
