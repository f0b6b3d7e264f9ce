using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using ILGPU;
using Jepa.Core;
using static Jepa.Kernels.Cpu.AttentionCpuSimd;
using Device = Jepa.Core.Device;
using Tensor = Jepa.Core.Tensor;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// <see cref="Attention"/> as SIMD host code working in place on the CPU accelerator's buffers (which are host
/// memory), with the same semantics as the ILGPU kernels: layouts, lse, masking, scale, accumulated gradients.
/// <para>Work items are blocks of <see cref="Rows"/> rows of one (batch, head): query rows for the forward pass
/// and dQ, key rows of one kv head for dK/dV. Each item computes its block's dot products with all keys (or
/// queries) it may see as a small matrix product against a transposed, padded copy of K (V, Q, dO) made once
/// per call, applies the mask and the softmax on whole vectors, then accumulates its rows' outputs as weighted
/// sums of rows. Each output element is owned by one item and summed in a fixed order (one FMA chain), so
/// results are bitwise independent of the number of threads (<see cref="LaunchGeometry.CpuChunks"/>), which
/// only sets how many items run at once.</para>
/// <para>The forward pass scores each row's visible keys, takes their max m and sum l of exp(s − m), and
/// writes o = Σ exp(s − m)·v / l and lse = m + log l. The backward pass first writes dq row by row
/// (D_i = dO_i·O_i, p = exp(s − lse), ds = p·(dO_i·v_j − D_i), dq_i += scale·Σ_j ds·k_j), then dk and dv per key
/// row, looping over the group's query heads in order and their query rows ascending.</para>
/// <para>With segment ids, a block of query rows starts at the first key of its rows' segments and a block of
/// key rows ends at the last query of theirs: the skipped keys (queries) are masked for every row of the block,
/// so skipping them changes no bit, and a packed [text ‖ code] batch costs what two separate halves would.</para>
/// </summary>
internal sealed unsafe class AttentionCpu
{
    /// <summary>Rows per work item (the micro-tile height of <see cref="AttentionCpuSimd.Dots"/>).</summary>
    private const int Rows = 4;

    private readonly Device _device;
    private readonly ParallelOptions _parallel;

    /// <summary>Binds the host path to a CPU-accelerator device; it runs on its <see cref="LaunchGeometry.CpuChunks"/> threads.</summary>
    public AttentionCpu(Device device)
    {
        _device = device;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = device.Geometry.CpuChunks };
    }

    /// <summary>Host addresses and sizes of one call.</summary>
    private struct Call
    {
        public float* Q, K, V, O, Lse, DO, DQ, DK, DV;
        public float* Kt, Vt, Qt, DOt, LseP, Delta;
        public int* Seg;

        /// <summary>Per token [B, Tp]: the first key of its segment (the first token with its segment id), and
        /// the last query of its segment; 0 and T − 1 without segments. Keys before First[i] are masked for query
        /// i and queries after Last[j] for key j, so those ranges are skipped (they would add exact zeros).</summary>
        public int* First, Last;
        public int B, T, Tp, Hq, Hkv, G, D;
        public float Scale;

        /// <summary>Soft cap c of the scores (c·tanh(s / c)), 0: none; sliding window W (query i sees keys j &gt; i − W), 0: none.</summary>
        public float SoftCap;
        public int Window;

        /// <summary>Floats between consecutive tokens of q, o (QS) and of k, v (KS).</summary>
        public readonly long QS => (long)Hq * D;
        public readonly long KS => (long)Hkv * D;

        /// <summary>Offset of row (b, t, head) in a [B, T, H, D] tensor.</summary>
        public readonly long Row(int b, int t, int H, int head) => (((long)b * T + t) * H + head) * D;

        /// <summary>Offset of (b, head) in a transposed [B·H, D, Tp] copy.</summary>
        public readonly long Transposed(int b, int H, int head) => ((long)b * H + head) * D * Tp;
    }

    /// <summary>Scratch for <see cref="Begin"/>: segment ids, first keys and last queries, [3, B, Tp].</summary>
    private Tensor SegmentScratch(int B, int T) => Tensor.Empty(_device, 3 * B, Pad(T));

    private Call Begin(int B, int T, int Hq, int Hkv, int D, float scale, float softCap, int window, ArrayView<int> segments, Tensor seg)
    {
        _device.Synchronize(); // kernels queued before may still use these buffers
        int Tp = Pad(T);
        int* scratch = HostView.Ptr(seg.AsInt32(), "segments scratch");
        var c = new Call
        {
            B = B, T = T, Tp = Tp, Hq = Hq, Hkv = Hkv, G = Hq / Hkv, D = D, Scale = scale, SoftCap = softCap, Window = window,
            Seg = scratch, First = scratch + (long)B * Tp, Last = scratch + 2L * B * Tp,
        };
        int* src = segments.IsValid ? HostView.Ptr(segments, nameof(segments)) : null;
        var seen = src is not null ? new Dictionary<int, int>() : null;
        for (int b = 0; b < B; b++)
        {
            long row = (long)b * Tp;
            for (int t = 0; t < Tp; t++)
            {
                c.Seg[row + t] = src is not null && t < T ? src[(long)b * T + t] : 0;
                c.First[row + t] = 0;
                c.Last[row + t] = T - 1;
            }
            if (seen is null) continue;
            seen.Clear();
            for (int t = 0; t < T; t++)
            {
                if (!seen.TryGetValue(c.Seg[row + t], out int first)) seen[c.Seg[row + t]] = first = t;
                c.First[row + t] = first;
            }
            seen.Clear();
            for (int t = T - 1; t >= 0; t--)
            {
                if (!seen.TryGetValue(c.Seg[row + t], out int last)) seen[c.Seg[row + t]] = last = t;
                c.Last[row + t] = last;
            }
        }
        return c;
    }

    /// <summary>The first key any of query rows [i0, i0 + rows) of batch b may see (its segment's first, or the first
    /// inside its window), rounded down to a vector.</summary>
    private static int FirstKey(in Call c, int b, int i0, int rows)
    {
        int lo = int.MaxValue;
        for (int r = 0; r < rows; r++)
        {
            int first = c.First[(long)b * c.Tp + i0 + r];
            if (c.Window > 0) first = Math.Max(first, i0 + r - c.Window + 1);
            lo = Math.Min(lo, first);
        }
        return lo / W * W;
    }

    /// <summary>One past the last query any of key rows [j0, j0 + rows) of batch b may be seen by (its segment's last, or
    /// the last whose window reaches it).</summary>
    private static int QueryEnd(in Call c, int b, int j0, int rows)
    {
        int hi = 0;
        for (int r = 0; r < rows; r++)
        {
            int end = c.Last[(long)b * c.Tp + j0 + r] + 1;
            if (c.Window > 0) end = Math.Min(end, j0 + r + c.Window);
            hi = Math.Max(hi, end);
        }
        return hi;
    }

    /// <summary>The lowest key index visible to query row <paramref name="i"/> is above this (−1 without a window).</summary>
    private static Vector256<int> WindowFloor(in Call c, int i) => Vector256.Create(c.Window > 0 ? i - c.Window : -1);

    /// <summary>Soft-capping of a row of raw dot products x[0, n): x ← tanh(scale·x / c), the capped score being c·x.</summary>
    private static void TanhOfScaled(float* x, int n, float scale, float cap)
    {
        var row = new Span<float>(x, n);
        TensorPrimitives.Multiply(row, scale, row);
        TensorPrimitives.Divide(row, cap, row);
        TensorPrimitives.Tanh(row, row);
    }

    private static float* P(ArrayView<float> view, string name) => HostView.Ptr(view, name);

    // ---------------------------------------------------------------- forward

    /// <summary>See <see cref="Attention.Forward"/>; sizes already checked.</summary>
    public void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o, ArrayView<float> lse,
        int B, int T, int Hq, int Hkv, int D, ArrayView<int> segments, float scale, float softCap, int window)
    {
        int Tp = Pad(T);
        using var seg = SegmentScratch(B, T);
        using var kt = Tensor.Empty(_device, B * Hkv, D, Tp);
        var c = Begin(B, T, Hq, Hkv, D, scale, softCap, window, segments, seg);
        c.Q = P(q, nameof(q)); c.K = P(k, nameof(k)); c.V = P(v, nameof(v)); c.O = P(o, nameof(o)); c.Lse = P(lse, nameof(lse));
        c.Kt = P(kt.View, "kᵀ scratch");

        Parallel.For(0, B * Hkv, _parallel, bh =>
            Transpose(c.K + c.Row(bh / Hkv, 0, Hkv, bh % Hkv), c.KS, T, D, c.Kt + (long)bh * D * Tp, Tp));
        int blocks = (T + Rows - 1) / Rows;
        Parallel.For(0, B * Hq * blocks, _parallel, item => ForwardRows(c, item, blocks));
    }

    private static void ForwardRows(in Call c, int item, int blocks)
    {
        int blk = item % blocks, b = item / blocks / c.Hq, h = item / blocks % c.Hq, hkv = h / c.G;
        int i0 = blk * Rows, rows = Math.Min(Rows, c.T - i0), n = Pad(i0 + rows);
        float[] scratch = ArrayPool<float>.Shared.Rent(Rows * n + Rows * c.D);
        fixed (float* s = scratch)
        {
            float* acc = s + Rows * n;
            int* seg = c.Seg + (long)b * c.Tp;
            float* v0 = c.V + c.Row(b, 0, c.Hkv, hkv);
            int lo = FirstKey(c, b, i0, rows);
            Dots(c.Q + c.Row(b, i0, c.Hq, h), c.QS, rows, c.Kt + c.Transposed(b, c.Hkv, hkv) + lo, c.Tp, n - lo, c.D, s + lo, n);
            Span<float> sums = stackalloc float[Rows];
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                float m = Softmax(c, s + r * n, lo, n, i, seg, out sums[r]);
                c.Lse[((long)b * c.Hq + h) * c.T + i] = m + MathF.Log(sums[r]);
            }
            // Keys past a row's own index have weight zero (masked) in the rows' common range.
            new Span<float>(acc, Rows * c.D).Clear();
            WeightedRowSums(s, n, rows, lo, i0 + rows, v0, c.KS, c.D, acc, c.D);
            for (int r = 0; r < rows; r++) Scale(acc + r * c.D, 1f / sums[r], c.O + c.Row(b, i0 + r, c.Hq, h), c.D);
        }
        ArrayPool<float>.Shared.Return(scratch);
    }

    /// <summary>Turns the raw dot products p[lo, n) of query row <paramref name="i"/> into exp(s_j − m) for the keys it
    /// sees (j ≤ i, same segment, inside the window), s_j = scale·p_j (soft-capped: c·tanh(scale·p_j / c)), and 0 for the
    /// others; returns m, their max, and their sum. Keys before <paramref name="lo"/> (a multiple of the vector width)
    /// are all masked for this row.</summary>
    private static float Softmax(in Call c, float* p, int lo, int n, int i, int* seg, out float sum)
    {
        float mul = c.Scale;
        if (c.SoftCap > 0f)
        {
            TanhOfScaled(p + lo, n - lo, c.Scale, c.SoftCap);
            mul = c.SoftCap;
        }
        var vi = Vector256.Create(i);
        var floor = WindowFloor(c, i);
        var segI = Vector256.Create(seg[i]);
        var sc = Vector256.Create(mul);
        var none = Vector256.Create(float.NegativeInfinity);
        var vm = none;
        for (int j = lo; j < n; j += W)
        {
            var idx = Vector256.Create(j) + Vector256<int>.Indices;
            var visible = Vector256.LessThanOrEqual(idx, vi) & Vector256.GreaterThan(idx, floor) & Vector256.Equals(Vector256.Load(seg + j), segI);
            var x = Vector256.ConditionalSelect(visible.AsSingle(), Vector256.Load(p + j) * sc, none);
            x.Store(p + j);
            vm = Vector256.Max(vm, x);
        }
        float m = MaxLane(vm);
        var mv = Vector256.Create(m);
        var vs = Vector256<float>.Zero;
        for (int j = lo; j < n; j += W)
        {
            var e = Vector256.Exp(Vector256.Load(p + j) - mv);
            e.Store(p + j);
            vs += e;
        }
        sum = Vector256.Sum(vs);
        return m;
    }

    // ---------------------------------------------------------------- backward

    /// <summary>See <see cref="Attention.Backward"/>; sizes already checked.</summary>
    public void Backward(ArrayView<float> dO, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        ArrayView<float> lse, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv,
        int B, int T, int Hq, int Hkv, int D, ArrayView<int> segments, float scale, float softCap, int window)
    {
        int Tp = Pad(T);
        using var seg = SegmentScratch(B, T);
        using var kt = Tensor.Empty(_device, B * Hkv, D, Tp);
        using var vt = Tensor.Empty(_device, B * Hkv, D, Tp);
        using var qt = Tensor.Empty(_device, B * Hq, D, Tp);
        using var dOt = Tensor.Empty(_device, B * Hq, D, Tp);
        using var lseP = Tensor.Empty(_device, B * Hq, Tp);
        using var delta = Tensor.Empty(_device, B * Hq, Tp);
        var c = Begin(B, T, Hq, Hkv, D, scale, softCap, window, segments, seg);
        c.DO = P(dO, nameof(dO)); c.Q = P(q, nameof(q)); c.K = P(k, nameof(k)); c.V = P(v, nameof(v)); c.O = P(o, nameof(o));
        c.Lse = P(lse, nameof(lse)); c.DQ = P(dq, nameof(dq)); c.DK = P(dk, nameof(dk)); c.DV = P(dv, nameof(dv));
        c.Kt = P(kt.View, "kᵀ scratch"); c.Vt = P(vt.View, "vᵀ scratch"); c.Qt = P(qt.View, "qᵀ scratch");
        c.DOt = P(dOt.View, "dOᵀ scratch"); c.LseP = P(lseP.View, "lse scratch"); c.Delta = P(delta.View, "delta scratch");

        Parallel.For(0, B * (Hkv + Hq), _parallel, x => Prepare(c, x));
        int blocks = (T + Rows - 1) / Rows;
        Parallel.For(0, B * Hq * blocks, _parallel, item => QueryRows(c, item, blocks));
        Parallel.For(0, B * Hkv * blocks, _parallel, item => KeyRows(c, item, blocks));
    }

    /// <summary>Item x &lt; B·Hkv transposes k and v of one (b, kv head); the others transpose q and dO of one
    /// (b, query head) and copy its lse row into a padded one (delta's padding is zeroed).</summary>
    private static void Prepare(in Call c, int x)
    {
        int nkv = c.B * c.Hkv;
        if (x < nkv)
        {
            int b = x / c.Hkv, hkv = x % c.Hkv;
            Transpose(c.K + c.Row(b, 0, c.Hkv, hkv), c.KS, c.T, c.D, c.Kt + c.Transposed(b, c.Hkv, hkv), c.Tp);
            Transpose(c.V + c.Row(b, 0, c.Hkv, hkv), c.KS, c.T, c.D, c.Vt + c.Transposed(b, c.Hkv, hkv), c.Tp);
        }
        else
        {
            int bh = x - nkv, b = bh / c.Hq, h = bh % c.Hq;
            Transpose(c.Q + c.Row(b, 0, c.Hq, h), c.QS, c.T, c.D, c.Qt + c.Transposed(b, c.Hq, h), c.Tp);
            Transpose(c.DO + c.Row(b, 0, c.Hq, h), c.QS, c.T, c.D, c.DOt + c.Transposed(b, c.Hq, h), c.Tp);
            float* lp = c.LseP + (long)bh * c.Tp, dp = c.Delta + (long)bh * c.Tp;
            new ReadOnlySpan<float>(c.Lse + (long)bh * c.T, c.T).CopyTo(new Span<float>(lp, c.T));
            for (int t = c.T; t < c.Tp; t++) lp[t] = dp[t] = 0f;
        }
    }

    /// <summary>dq for a block of query rows of one (b, h), and delta_i = dO_i·O_i for them.</summary>
    private static void QueryRows(in Call c, int item, int blocks)
    {
        int blk = item % blocks, b = item / blocks / c.Hq, h = item / blocks % c.Hq, hkv = h / c.G;
        int i0 = blk * Rows, rows = Math.Min(Rows, c.T - i0), n = Pad(i0 + rows);
        float[] scratch = ArrayPool<float>.Shared.Rent(2 * Rows * n + Rows * c.D);
        fixed (float* s = scratch)
        {
            float* dp = s + Rows * n, acc = dp + Rows * n;
            int* seg = c.Seg + (long)b * c.Tp;
            long lseRow = ((long)b * c.Hq + h) * c.Tp;
            int lo = FirstKey(c, b, i0, rows);
            Dots(c.Q + c.Row(b, i0, c.Hq, h), c.QS, rows, c.Kt + c.Transposed(b, c.Hkv, hkv) + lo, c.Tp, n - lo, c.D, s + lo, n);
            Dots(c.DO + c.Row(b, i0, c.Hq, h), c.QS, rows, c.Vt + c.Transposed(b, c.Hkv, hkv) + lo, c.Tp, n - lo, c.D, dp + lo, n);
            bool capped = c.SoftCap > 0f;
            var sc = Vector256.Create(capped ? c.SoftCap : c.Scale);
            var one = Vector256.Create(1f);
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                long at = c.Row(b, i, c.Hq, h);
                float di = TensorPrimitives.Dot(new ReadOnlySpan<float>(c.DO + at, c.D), new ReadOnlySpan<float>(c.O + at, c.D));
                c.Delta[lseRow + i] = di;
                var li = Vector256.Create(c.LseP[lseRow + i]);
                var dv = Vector256.Create(di);
                var vi = Vector256.Create(i);
                var floor = WindowFloor(c, i);
                var segI = Vector256.Create(seg[i]);
                float* sr = s + r * n, dr = dp + r * n;
                if (capped) TanhOfScaled(sr + lo, n - lo, c.Scale, c.SoftCap); // sr = t = tanh(scale·q·k / c)
                for (int j = lo; j < n; j += W)
                {
                    var idx = Vector256.Create(j) + Vector256<int>.Indices;
                    var visible = Vector256.LessThanOrEqual(idx, vi) & Vector256.GreaterThan(idx, floor) & Vector256.Equals(Vector256.Load(seg + j), segI);
                    var x = Vector256.Load(sr + j);
                    var p = Vector256.Exp(x * sc - li);
                    var ds = p * (Vector256.Load(dr + j) - dv);
                    if (capped) ds *= one - x * x;
                    Vector256.ConditionalSelect(visible.AsSingle(), ds, Vector256<float>.Zero).Store(sr + j);
                }
            }
            new Span<float>(acc, Rows * c.D).Clear();
            WeightedRowSums(s, n, rows, lo, i0 + rows, c.K + c.Row(b, 0, c.Hkv, hkv), c.KS, c.D, acc, c.D);
            for (int r = 0; r < rows; r++) AddScaled(c.DQ + c.Row(b, i0 + r, c.Hq, h), acc + r * c.D, c.Scale, c.D);
        }
        ArrayPool<float>.Shared.Return(scratch);
    }

    /// <summary>dk and dv for a block of key rows of one (b, kv head): over the group's query heads in order,
    /// and per head over the query rows at or after each key, ascending.</summary>
    private static void KeyRows(in Call c, int item, int blocks)
    {
        int blk = item % blocks, b = item / blocks / c.Hkv, hkv = item / blocks % c.Hkv;
        int j0 = blk * Rows, rows = Math.Min(Rows, c.T - j0);
        // Query rows before the aligned block start never see its keys, nor do those past the block's segments.
        int hi = QueryEnd(c, b, j0, rows);
        int i0 = j0 / W * W, n = Pad(hi) - i0;
        float[] scratch = ArrayPool<float>.Shared.Rent(2 * Rows * n + 2 * Rows * c.D);
        fixed (float* s = scratch)
        {
            float* dp = s + Rows * n, dkAcc = dp + Rows * n, dvAcc = dkAcc + Rows * c.D;
            new Span<float>(dkAcc, 2 * Rows * c.D).Clear();
            int* seg = c.Seg + (long)b * c.Tp + i0;
            float* kRows = c.K + c.Row(b, j0, c.Hkv, hkv), vRows = c.V + c.Row(b, j0, c.Hkv, hkv);
            bool capped = c.SoftCap > 0f;
            var sc = Vector256.Create(capped ? c.SoftCap : c.Scale);
            var one = Vector256.Create(1f);
            var end = Vector256.Create(c.T);
            for (int g = 0; g < c.G; g++)
            {
                int h = hkv * c.G + g;
                Dots(kRows, c.KS, rows, c.Qt + c.Transposed(b, c.Hq, h) + i0, c.Tp, n, c.D, s, n);
                Dots(vRows, c.KS, rows, c.DOt + c.Transposed(b, c.Hq, h) + i0, c.Tp, n, c.D, dp, n);
                float* lse = c.LseP + ((long)b * c.Hq + h) * c.Tp + i0, delta = c.Delta + ((long)b * c.Hq + h) * c.Tp + i0;
                float* qRows = c.Q + c.Row(b, i0, c.Hq, h), dORows = c.DO + c.Row(b, i0, c.Hq, h);
                for (int r = 0; r < rows; r++)
                {
                    int j = j0 + r;
                    var vj = Vector256.Create(j);
                    var ceiling = Vector256.Create(c.Window > 0 ? Math.Min(c.T, j + c.Window) : c.T); // window: queries i < j + W
                    var segJ = Vector256.Create(c.Seg[(long)b * c.Tp + j]);
                    float* sr = s + r * n, dr = dp + r * n;
                    if (capped) TanhOfScaled(sr, n, c.Scale, c.SoftCap); // sr = t = tanh(scale·q·k / c)
                    for (int x = 0; x < n; x += W)
                    {
                        var idx = Vector256.Create(i0 + x) + Vector256<int>.Indices;
                        var visible = (Vector256.GreaterThanOrEqual(idx, vj) & Vector256.LessThan(idx, ceiling)
                            & Vector256.Equals(Vector256.Load(seg + x), segJ)).AsSingle();
                        var t = Vector256.Load(sr + x);
                        var p = Vector256.ConditionalSelect(visible, Vector256.Exp(t * sc - Vector256.Load(lse + x)), Vector256<float>.Zero);
                        var grad = p * (Vector256.Load(dr + x) - Vector256.Load(delta + x));
                        if (capped) grad *= one - t * t;
                        var ds = Vector256.ConditionalSelect(visible, grad, Vector256<float>.Zero);
                        p.Store(sr + x);
                        ds.Store(dr + x);
                    }
                }
                // Queries before a key row's own index have weight zero (masked) in the rows' common range.
                WeightedRowSums(s, n, rows, j0 - i0, hi - i0, dORows, c.QS, c.D, dvAcc, c.D);
                WeightedRowSums(dp, n, rows, j0 - i0, hi - i0, qRows, c.QS, c.D, dkAcc, c.D);
            }
            for (int r = 0; r < rows; r++)
            {
                AddScaled(c.DK + c.Row(b, j0 + r, c.Hkv, hkv), dkAcc + r * c.D, c.Scale, c.D);
                AddScaled(c.DV + c.Row(b, j0 + r, c.Hkv, hkv), dvAcc + r * c.D, 1f, c.D);
            }
        }
        ArrayPool<float>.Shared.Return(scratch);
    }

    /// <summary>dst += mul · acc, rounding the product before the sum (so a gradient accumulated onto g0 is
    /// exactly g0 + the gradient accumulated onto zeros); mul = 1 adds acc as it is. Inline vector code: a
    /// TensorPrimitives call costs several times the work on a row of a few dozen floats.</summary>
    private static void AddScaled(float* dst, float* acc, float mul, int D)
    {
        var m = Vector256.Create(mul);
        int d = 0;
        if (mul != 1f)
        {
            for (; d + W <= D; d += W) (Vector256.Load(dst + d) + Vector256.Load(acc + d) * m).Store(dst + d);
            for (; d < D; d++) dst[d] += acc[d] * mul;
        }
        else
        {
            for (; d + W <= D; d += W) (Vector256.Load(dst + d) + Vector256.Load(acc + d)).Store(dst + d);
            for (; d < D; d++) dst[d] += acc[d];
        }
    }

    /// <summary>dst = acc · mul.</summary>
    private static void Scale(float* acc, float mul, float* dst, int D)
    {
        var m = Vector256.Create(mul);
        int d = 0;
        for (; d + W <= D; d += W) (Vector256.Load(acc + d) * m).Store(dst + d);
        for (; d < D; d++) dst[d] = acc[d] * mul;
    }
}
