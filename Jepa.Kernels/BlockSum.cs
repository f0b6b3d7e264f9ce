using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Deterministic sum of a vector into one scalar: the vector is cut into fixed blocks of
/// <see cref="LaunchGeometry.ReductionBlock"/> elements, each block is summed in index order by one thread,
/// then one thread adds the block sums in block order. The result depends on nothing but the data
/// (not on the device's thread count or chunking).
/// </summary>
internal static class BlockSum
{
    /// <summary>result[0] = (Σ_i x[i]) / divisor, or 0 when <paramref name="divisor"/> is 0 (nothing to average).</summary>
    public static void Mean(KernelCache k, ArrayView<float> x, ArrayView<float> result, int n, float divisor)
    {
        int blocks = (n + LaunchGeometry.ReductionBlock - 1) / LaunchGeometry.ReductionBlock;
        var g = k.Device.Geometry;
        var partials = k.Device.Pool.Rent(blocks);
        try
        {
            k.Get("BlockSum.Partial", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>>(PartialKernel))
                (g.Threads(blocks), g.PerThread(blocks), blocks, n, LaunchGeometry.ReductionBlock, x, partials.View);
            k.Get("BlockSum.Finish", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, float, ArrayView<float>, ArrayView<float>>(FinishKernel))
                (1, blocks, divisor, partials.View, result);
        }
        finally
        {
            // Kernels on the default stream run in order, so the next renter's kernels see the buffer only after these.
            k.Device.Pool.Return(partials);
        }
    }

    private static void PartialKernel(Index1D t, int per, int blocks, int n, int block, ArrayView<float> x, ArrayView<float> partials)
    {
        for (int b = Chunk.Start(t, per), e = Chunk.End(t, per, blocks); b < e; b++)
        {
            int start = b * block;
            int end = start + block < n ? start + block : n;
            float s = 0f;
            for (int i = start; i < end; i++) s += x[i];
            partials[b] = s;
        }
    }

    private static void FinishKernel(Index1D t, int blocks, float divisor, ArrayView<float> partials, ArrayView<float> result)
    {
        float s = 0f;
        for (int b = 0; b < blocks; b++) s += partials[b];
        result[0] = divisor != 0f ? s / divisor : 0f;
    }
}
