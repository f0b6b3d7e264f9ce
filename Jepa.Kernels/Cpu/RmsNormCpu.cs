using System.Buffers;
using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="RmsNorm"/>. Rows are cut into fixed blocks of <see cref="ColumnSums.RowBlock"/>;
/// a row's mean square and its backward dot product are <see cref="HostVector"/> sums (an order fixed by C),
/// and the elementwise formulas are the kernels' (y = x·rstd·w, dx += rstd·(w·dy − x·k)). The backward is one
/// pass over the data: each row block writes dx and its column partial Σ_rows dy·x·rstd (rows in order), and
/// the partials are then added to dw in block order, exactly as the kernels' <see cref="ColumnSums"/> do, so dw
/// equals the kernels' bit for bit.
/// </summary>
internal static unsafe class RmsNormCpu
{
    private const int Rows = ColumnSums.RowBlock;

    /// <summary>Columns of dw owned by one item of the final column sum.</summary>
    private const int SumColumns = 512;

    public static void Forward(int threads, float* x, float* w, float* y, float* rstd, int N, int C, float eps) =>
        HostParallel.ForRanges(N, Rows, threads, (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                float* xr = x + r * C, yr = y + r * C;
                float ss = HostVector.SumOfSquares(xr, C);
                float rs = 1f / MathF.Sqrt(ss / C + eps);
                rstd[r] = rs;
                var rv = Vector256.Create(rs);
                int c = 0;
                for (; c + 8 <= C; c += 8) (Vector256.Load(xr + c) * rv * Vector256.Load(w + c)).Store(yr + c);
                for (; c < C; c++) yr[c] = xr[c] * rs * w[c];
            }
        });

    public static void Backward(int threads, float* x, float* w, float* rstd, float* dy, float* dx, float* dw, int N, int C)
    {
        int blocks = ColumnSums.Blocks(N);
        var rented = ArrayPool<float>.Shared.Rent(blocks * C);
        try
        {
            fixed (float* partial = rented)
            {
                float* part = partial;
                HostParallel.For(blocks, threads, b =>
                {
                    float* pb = part + (long)b * C;
                    new Span<float>(pb, C).Clear();
                    int r0 = b * Rows, r1 = Math.Min(N, r0 + Rows);
                    for (long r = r0; r < r1; r++)
                    {
                        float* xr = x + r * C, gr = dy + r * C, dxr = dx + r * C;
                        float rs = rstd[r];
                        float k = HostVector.Dot3(gr, w, xr, C) / C * rs * rs;
                        Vector256<float> rv = Vector256.Create(rs), kv = Vector256.Create(k);
                        int c = 0;
                        for (; c + 8 <= C; c += 8)
                        {
                            var xv = Vector256.Load(xr + c);
                            var g = Vector256.Load(gr + c);
                            (Vector256.Load(dxr + c) + rv * (Vector256.Load(w + c) * g - xv * kv)).Store(dxr + c);
                            (Vector256.Load(pb + c) + g * xv * rv).Store(pb + c);
                        }
                        for (; c < C; c++)
                        {
                            float xv = xr[c], g = gr[c];
                            dxr[c] += rs * (w[c] * g - xv * k);
                            pb[c] += g * xv * rs;
                        }
                    }
                });
                HostParallel.ForRanges(C, SumColumns, threads, (c0, c1) =>
                {
                    for (long c = c0; c < c1; c++)
                    {
                        float s = 0f;
                        for (int b = 0; b < blocks; b++) s += part[(long)b * C + c];
                        dw[c] += s;
                    }
                });
            }
        }
        finally { ArrayPool<float>.Shared.Return(rented); }
    }
}
