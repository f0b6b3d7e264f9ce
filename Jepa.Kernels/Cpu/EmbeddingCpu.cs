using System.Buffers;
using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="Embedding"/>: the lookup copies rows (NaN rows for ids outside the table), and the
/// backward gives each distinct token of the <see cref="EmbeddingGradIndex"/> one owner that adds its positions'
/// gradient rows in increasing position order, from zero, then adds the sum to the table's row, as the kernel
/// does, so both paths give the same bits.
/// </summary>
internal static unsafe class EmbeddingCpu
{
    public static void Forward(int threads, int* tokens, float* W, float* y, int N, int V, int C)
    {
        int per = Math.Max(1, HostParallel.Chunk / C);
        HostParallel.ForRanges(N, per, threads, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                int id = tokens[r];
                var dst = new Span<float>(y + r * C, C);
                if (id >= 0 && id < V) new ReadOnlySpan<float>(W + (long)id * C, C).CopyTo(dst);
                else dst.Fill(float.NaN);
            }
        });
    }

    public static void Backward(int threads, int* unique, int* offsets, int* positions, int U, float* dy, float* dW, int C)
    {
        int per = Math.Max(1, HostParallel.Chunk / C);
        HostParallel.ForRanges(U, per, threads, (u0, u1) =>
        {
            var rented = ArrayPool<float>.Shared.Rent(C);
            try
            {
                fixed (float* s = rented)
                {
                    for (long u = u0; u < u1; u++)
                    {
                        new Span<float>(s, C).Clear();
                        for (int k = offsets[u], end = offsets[u + 1]; k < end; k++)
                        {
                            float* row = dy + (long)positions[k] * C;
                            int c = 0;
                            for (; c + 8 <= C; c += 8) (Vector256.Load(s + c) + Vector256.Load(row + c)).Store(s + c);
                            for (; c < C; c++) s[c] += row[c];
                        }
                        float* dst = dW + (long)unique[u] * C;
                        int j = 0;
                        for (; j + 8 <= C; j += 8) (Vector256.Load(dst + j) + Vector256.Load(s + j)).Store(dst + j);
                        for (; j < C; j++) dst[j] += s[j];
                    }
                }
            }
            finally { ArrayPool<float>.Shared.Return(rented); }
        });
    }
}
