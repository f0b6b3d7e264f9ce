using ILGPU;
using ILGPU.Runtime;

namespace Jepa.Kernels;

/// <summary>
/// Centres a batch of rows on their mean: for x [N, C],
/// <code>
///   y_nc = x_nc − μ_c,   μ_c = (1/N) Σ_m x_mc.
/// </code>
/// The centring matrix I − 11ᵀ/N is symmetric, so the backward is the same map on the upstream gradient:
/// <code>
///   dx_nc += dy_nc − (1/N) Σ_m dy_mc.
/// </code>
/// The JEPA distance on centred embeddings compares what distinguishes each example within the batch, not the direction
/// every embedding shares, so one constant vector no longer satisfies it. Deterministic: one thread owns each column and
/// sums its rows in order. No atomics.
/// </summary>
public sealed class CenterRows
{
    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    public CenterRows(KernelCache kernels) => _k = kernels;

    /// <summary>y [N, C] = x − its column means (y may not alias x).</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> y, int N, int C) => Run("CenterRows", x, y, N, C, accumulate: false);

    /// <summary>dx [N, C] += dy − its column means.</summary>
    public void Backward(ArrayView<float> dy, ArrayView<float> dx, int N, int C) => Run("CenterRowsBackward", dy, dx, N, C, accumulate: true);

    private void Run(string op, ArrayView<float> src, ArrayView<float> dst, int N, int C, bool accumulate)
    {
        int n = Check.Positive(op, (nameof(N), N), (nameof(C), C));
        Check.Length(op, "input", src, n);
        Check.Length(op, "output", dst, n);
        var g = _k.Device.Geometry;
        _k.Get("CenterRows", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>>(Kernel))
            (g.Threads(C), g.PerThread(C), N, C, accumulate ? 1 : 0, src, dst);
    }

    private static void Kernel(Index1D t, int per, int N, int C, int accumulate, ArrayView<float> src, ArrayView<float> dst)
    {
        for (int c = Chunk.Start(t, per), e = Chunk.End(t, per, C); c < e; c++)
        {
            float mean = 0f;
            for (int r = 0; r < N; r++) mean += src[(long)r * C + c];
            mean /= N;
            for (int r = 0; r < N; r++)
            {
                long i = (long)r * C + c;
                dst[i] = (accumulate != 0 ? dst[i] : 0f) + (src[i] - mean);
            }
        }
    }
}
