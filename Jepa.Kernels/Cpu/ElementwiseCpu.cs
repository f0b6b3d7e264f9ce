using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="Elementwise"/>: the same formulas, element by element, in fixed ranges of
/// <see cref="HostParallel.Chunk"/> elements on the CPU accelerator's threads. Every element is computed by
/// the same operations, rounded the same way, as in the kernels (a product is rounded before it is added), so
/// these results equal the kernels' bit for bit. Column sums (the bias gradient) add rows in order, one owner
/// per column, as the kernel does.
/// </summary>
internal static unsafe class ElementwiseCpu
{
    /// <summary>Columns owned by one item of the bias gradient.</summary>
    private const int BiasColumns = 256;

    public static void Add(int threads, float* a, float* b, float* y, int n) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (s, e) =>
            TensorPrimitives.Add(Span(a, s, e), Span(b, s, e), Span(y, s, e)));

    public static void Mul(int threads, float* a, float* b, float* y, int n) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (s, e) =>
            TensorPrimitives.Multiply(Span(a, s, e), Span(b, s, e), Span(y, s, e)));

    /// <summary>da += dy ⊙ b, db += dy ⊙ a.</summary>
    public static void MulBackward(int threads, float* dy, float* a, float* b, float* da, float* db, int n) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (s, e) =>
        {
            long i = s;
            for (; i + 8 <= e; i += 8)
            {
                var g = Vector256.Load(dy + i);
                var ai = Vector256.Load(a + i);
                (Vector256.Load(da + i) + g * Vector256.Load(b + i)).Store(da + i);
                (Vector256.Load(db + i) + g * ai).Store(db + i);
            }
            for (; i < e; i++)
            {
                float g = dy[i], ai = a[i];
                da[i] += g * b[i];
                db[i] += g * ai;
            }
        });

    /// <summary>y = s·x.</summary>
    public static void Scale(int threads, float s, float* x, float* y, int n) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (b, e) =>
            TensorPrimitives.Multiply(Span(x, b, e), s, Span(y, b, e)));

    /// <summary>y += a·x.</summary>
    public static void Axpy(int threads, float a, float* x, float* y, int n) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (s, e) =>
        {
            var ys = Span(y, s, e);
            TensorPrimitives.MultiplyAdd(Span(x, s, e), a, ys, ys);
        });

    /// <summary>y[r, :] = x[r, :] + bias.</summary>
    public static void Bias(int threads, float* x, float* bias, float* y, int rows, int cols)
    {
        int per = Math.Max(1, HostParallel.Chunk / cols);
        HostParallel.ForRanges(rows, per, threads, (r0, r1) =>
        {
            var bs = new ReadOnlySpan<float>(bias, cols);
            for (long r = r0; r < r1; r++)
                TensorPrimitives.Add(Span(x, r * cols, (r + 1) * cols), bs, Span(y, r * cols, (r + 1) * cols));
        });
    }

    /// <summary>dbias[c] += Σ_r dy[r, c], rows added in order from zero (one owner per column).</summary>
    public static void BiasGrad(int threads, float* dy, float* dbias, int rows, int cols) =>
        HostParallel.ForRanges(cols, BiasColumns, threads, (c0, c1) =>
        {
            int w = (int)(c1 - c0);
            float* s = stackalloc float[BiasColumns];
            new Span<float>(s, w).Clear();
            for (long r = 0; r < rows; r++)
            {
                float* row = dy + r * cols + c0;
                int c = 0;
                for (; c + 8 <= w; c += 8) (Vector256.Load(s + c) + Vector256.Load(row + c)).Store(s + c);
                for (; c < w; c++) s[c] += row[c];
            }
            for (int c = 0; c < w; c++) dbias[c0 + c] += s[c];
        });

    /// <summary>y = value.</summary>
    public static void Fill(int threads, float value, float* y, int n) =>
        HostParallel.ForRanges(n, HostParallel.Chunk, threads, (s, e) => Span(y, s, e).Fill(value));

    private static Span<float> Span(float* p, long start, long end) => new(p + start, (int)(end - start));
}
