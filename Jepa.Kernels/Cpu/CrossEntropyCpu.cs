using System.Buffers;
using System.Numerics.Tensors;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host path of <see cref="CrossEntropy"/>: rows in fixed blocks; per row the maximum, the vectorised
/// exp(x − max) (<see cref="TensorPrimitives.Exp{T}(ReadOnlySpan{T}, Span{T})"/>) summed in the
/// <see cref="HostVector"/> order, lse = max + log Σ, loss = lse − x[target]; the backward adds
/// (exp(x − lse) − [v = target])·scale. Ignored rows and invalid targets behave as in the kernels.
/// </summary>
internal static unsafe class CrossEntropyCpu
{
    public static void Forward(int threads, float* logits, int* targets, float* losses, float* lse, int N, int V, int ignoreIndex) =>
        Rows(threads, N, V, (r, tmp) =>
        {
            int target = targets[r];
            if (target == ignoreIndex)
            {
                losses[r] = 0f;
                lse[r] = 0f;
                return;
            }
            float* row = logits + r * V;
            float m = HostVector.Max(row, V);
            var t = new Span<float>(tmp, V);
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(row, V), m, t);
            TensorPrimitives.Exp(t, t);
            float l = m + MathF.Log(HostVector.Sum(tmp, V));
            lse[r] = l;
            losses[r] = target >= 0 && target < V ? l - row[target] : float.NaN;
        });

    public static void Backward(int threads, float* logits, int* targets, float* lse, float* dlogits, int N, int V, int ignoreIndex, float scale) =>
        Rows(threads, N, V, (r, tmp) =>
        {
            int target = targets[r];
            if (target == ignoreIndex) return;
            var d = new Span<float>(dlogits + r * V, V);
            var t = new Span<float>(tmp, V);
            if (target < 0 || target >= V)
            {
                t.Fill(float.NaN);
            }
            else
            {
                TensorPrimitives.Subtract(new ReadOnlySpan<float>(logits + r * V, V), lse[r], t);
                TensorPrimitives.Exp(t, t);
                t[target] -= 1f;
            }
            TensorPrimitives.MultiplyAdd(t, scale, d, d);
        });

    private delegate void RowBody(long row, float* tmp);

    /// <summary>Runs <paramref name="body"/> for every row, rows in fixed blocks, with a V-float scratch row per block.</summary>
    private static void Rows(int threads, int N, int V, RowBody body)
    {
        int per = Math.Max(1, HostParallel.Chunk / V);
        HostParallel.ForRanges(N, per, threads, (r0, r1) =>
        {
            var rented = ArrayPool<float>.Shared.Rent(V);
            try
            {
                fixed (float* tmp = rented)
                    for (long r = r0; r < r1; r++) body(r, tmp);
            }
            finally { ArrayPool<float>.Shared.Return(rented); }
        });
    }
}
