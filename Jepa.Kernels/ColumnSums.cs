using ILGPU;
using ILGPU.Runtime;

namespace Jepa.Kernels;

/// <summary>
/// Deterministic column reductions over many rows (weight and bias gradients of row ops), without atomics.
/// Stage one: each (row block, column) item sums the <see cref="RowBlock"/> rows of its block in row order
/// into a partial buffer <c>[blocks, cols]</c>. Stage two (<see cref="AddColumnSums"/>): one owner per column
/// adds the partials in block order. The block size is the same on every device, so the value depends on
/// neither thread counts nor the accelerator.
/// </summary>
internal static class ColumnSums
{
    /// <summary>Rows summed by one stage-one item.</summary>
    public const int RowBlock = 32;

    /// <summary>Number of row blocks for <paramref name="rows"/> rows.</summary>
    public static int Blocks(int rows) => (rows + RowBlock - 1) / RowBlock;

    /// <summary>dst[c] += Σ_b partial[b, c] for b in block order.</summary>
    public static void AddColumnSums(KernelCache k, ArrayView<float> partial, ArrayView<float> dst, int blocks, int cols)
    {
        var g = k.Device.Geometry;
        k.Get("ColumnSums.AddColumnSums", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(AddColumnSumsKernel))
            (g.Threads(cols), g.PerThread(cols), blocks, cols, partial, dst);
    }

    private static void AddColumnSumsKernel(Index1D t, int per, int blocks, int cols, ArrayView<float> partial, ArrayView<float> dst)
    {
        for (int c = Chunk.Start(t, per), e = Chunk.End(t, per, cols); c < e; c++)
        {
            float s = 0f;
            for (int b = 0; b < blocks; b++) s += partial[(long)b * cols + c];
            dst[c] += s;
        }
    }
}
