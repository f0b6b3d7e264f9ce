using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Causal multi-head attention with grouped-query heads and optional block-causal segments, in the
/// FlashAttention-2 style: the forward pass runs an online softmax over key tiles staged in shared memory
/// and never holds a T×T matrix; it saves the per-row log-sum-exp, and the backward pass recomputes the
/// probabilities from it.
/// <para>Layouts (row-major): q, o, dq [B, T, Hq, D]; k, v, dk, dv [B, T, Hkv, D]; lse [B, Hq, T];
/// segment ids [B, T]. Query head h reads kv head h / (Hq / Hkv). Token i attends to token j iff
/// j ≤ i and, when segment ids are given, seg[b, i] = seg[b, j], and, with a sliding window W &gt; 0, i − j &lt; W
/// (Gemma-2's local layers). With a soft cap c &gt; 0 each score s = scale·q·k becomes c·tanh(s / c) before the
/// softmax (Gemma-2's attention-logit soft-capping), and the backward pass multiplies by 1 − tanh².</para>
/// <para>Work split: a group owns a block of rows (query rows in the forward and dQ kernels, key rows in
/// the dK/dV kernel) of one (batch, head). Each row is held in registers by a team of R lanes of one warp
/// (R = D / <see cref="LaneDims"/> rounded up to a power of two), lane l holding dims l, l + R, l + 2R, ….
/// Per shared tile, phase 1 forms the team's dot products (on GPUs summed by a fixed xor butterfly of
/// warp shuffles; on the CPU accelerator, where a shuffle costs three thread barriers, each lane parks its
/// partial sum in shared memory and readers add the R partials in lane order), then after one warp
/// barrier phase 2 applies the softmax and accumulates. Every output element has one owner and a fixed
/// summation order: no atomics, and results do not depend on the CPU thread count.</para>
/// <para>On the CPU accelerator, where these kernels run at about 0.04 GFLOP/s, the same computation runs by
/// default as SIMD host code in place on the accelerator's buffers (host memory), split into fixed blocks of
/// rows over <see cref="LaunchGeometry.CpuChunks"/> threads, with the same ownership rule; its results are
/// bitwise independent of the thread count and differ from the kernels' only by rounding.
/// <see cref="KernelPath"/> picks the path.</para>
/// </summary>
public sealed class Attention
{
    /// <summary>Head dimensions one lane holds in registers; D ≤ LaneDims · warp size (128 on the CPU accelerator).</summary>
    public const int LaneDims = LaneVector.Length;

    private readonly KernelCache _k;
    private readonly bool _shuffle;
    private readonly AttentionCpu? _host;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">Which implementation runs: by default the SIMD host path on the CPU accelerator and the
    /// kernels elsewhere (warp-shuffle team sums on GPUs); <see cref="KernelPath.Kernel"/> forces the kernels,
    /// which then sum row teams through shared memory on the CPU accelerator.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public Attention(KernelCache kernels, KernelPath path = KernelPath.Auto)
        : this(kernels, path, kernels.Device.Geometry.IsGpu) { }

    /// <summary>Creates the op on the kernel path with an explicit team-sum strategy, so tests can run the GPU
    /// strategy (warp shuffles) on the CPU accelerator, where it is correct but slow.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="warpShuffles">True: sum a row team's partial dot products by warp shuffles.</param>
    public Attention(KernelCache kernels, bool warpShuffles) : this(kernels, KernelPath.Kernel, warpShuffles) { }

    private Attention(KernelCache kernels, KernelPath path, bool warpShuffles)
    {
        if (path is not (KernelPath.Auto or KernelPath.Kernel or KernelPath.Host))
            throw new ArgumentOutOfRangeException(nameof(path), path, "Attention: unknown path.");
        bool gpu = kernels.Device.Geometry.IsGpu;
        if (path == KernelPath.Host && gpu)
            throw new ArgumentException($"Attention: the host path runs only on the CPU accelerator, not on {kernels.Device}; use {nameof(KernelPath)}.{nameof(KernelPath.Auto)} or {nameof(KernelPath.Kernel)}.", nameof(path));
        _k = kernels;
        _shuffle = warpShuffles;
        Path = path == KernelPath.Kernel || gpu ? KernelPath.Kernel : KernelPath.Host;
        if (Path == KernelPath.Host) _host = new AttentionCpu(kernels.Device);
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>
    /// (never <see cref="KernelPath.Auto"/>).</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>The largest head dimension this device runs (the lanes of one row must share a warp); the host
    /// path keeps the same limit, so a model that runs on one path runs on the other.</summary>
    public int MaxHeadDim => LaneDims * Math.Min(G.WarpSize, 32);

    /// <summary>Sizes and launch plan of one call, as handed to the kernels (public because ILGPU's CPU
    /// backend needs kernel parameter types to be visible; built only by the launchers).</summary>
    public struct Plan
    {
        /// <summary>Batch.</summary>
        public int B;
        /// <summary>Sequence length.</summary>
        public int T;
        /// <summary>Query heads.</summary>
        public int Hq;
        /// <summary>Key/value heads.</summary>
        public int Hkv;
        /// <summary>Head dimension.</summary>
        public int D;
        /// <summary>Lanes per row, R (a power of two ≤ warp size).</summary>
        public int Lanes;
        /// <summary>Padded head dimension R · LaneDims: row stride of the shared tiles.</summary>
        public int Dp;
        /// <summary>Rows owned by one group: query rows (forward, dQ) or key rows (dK/dV).</summary>
        public int Rows;
        /// <summary>Rows per shared tile: keys (forward, dQ) or queries (dK/dV).</summary>
        public int Tile;
        /// <summary>1: team sums by warp shuffles (GPUs); 0: by partial sums in shared memory (CPU accelerator).</summary>
        public int Shuffle;
        /// <summary>1 when segment ids are given.</summary>
        public int HasSegments;
        /// <summary>Softmax scale applied to q·k.</summary>
        public float Scale;
        /// <summary>Soft cap c of the scores (c·tanh(s / c)); 0: none.</summary>
        public float SoftCap;
        /// <summary>Sliding window: token i sees keys j with i − j &lt; Window; 0: all earlier keys.</summary>
        public int Window;

        /// <summary>True without a soft cap and a window: the key/value backward then runs its plain variant.</summary>
        public readonly bool IsPlain => SoftCap == 0f && Window == 0;

        /// <summary>This plan with the soft cap and the window set to constant zeros, so that a kernel that starts from it has
        /// their branches folded away by the compiler (the plain variants).</summary>
        public readonly Plan Plain()
        {
            var plain = this;
            plain.SoftCap = 0f;
            plain.Window = 0;
            return plain;
        }

        /// <summary>Score-buffer lines per row: 1 sum, or R partial sums.</summary>
        public readonly int ScoreLines => Shuffle != 0 ? 1 : Lanes;

        /// <summary>Stride of a score-buffer line: Tile + 1, odd, so rows of a warp hit distinct banks.</summary>
        public readonly int ScoreStride => Tile + 1;

        /// <summary>Floats of one shared score buffer.</summary>
        public readonly int ScoreLength => Rows * ScoreLines * ScoreStride;

        /// <summary>Floats of dynamic shared memory a kernel with <paramref name="buffers"/> score buffers and
        /// <paramref name="rowValues"/> per-row values next to its two tiles needs.</summary>
        public readonly int SharedFloats(int buffers, int rowValues) => 2 * Tile * Dp + rowValues * Tile + buffers * ScoreLength;
    }

    private Plan MakePlan(string op, int B, int T, int Hq, int Hkv, int D, bool hasSegments, float? scale, float softCap, int window)
    {
        CheckCapAndWindow(op, softCap, window);
        Check.Positive(op, (nameof(B), B), (nameof(T), T), (nameof(Hq), Hq), (nameof(D), D));
        Check.Positive(op, (nameof(Hkv), Hkv));
        if (Hq % Hkv != 0)
            throw new ArgumentException($"{op}: query heads Hq={Hq} must be a multiple of key/value heads Hkv={Hkv}.", nameof(Hkv));
        if (D > MaxHeadDim)
            throw new ArgumentOutOfRangeException(nameof(D), D, $"{op}: head dimension D={D} exceeds {MaxHeadDim}, the largest this device runs.");
        float s = scale ?? 1f / MathF.Sqrt(D);
        if (!float.IsFinite(s)) throw new ArgumentOutOfRangeException(nameof(scale), s, $"{op}: scale must be finite.");

        int lanes = 1;
        while (lanes * LaneDims < D) lanes *= 2;
        var p = new Plan
        {
            B = B, T = T, Hq = Hq, Hkv = Hkv, D = D, Lanes = lanes, Dp = lanes * LaneDims,
            Shuffle = _shuffle ? 1 : 0, HasSegments = hasSegments ? 1 : 0, Scale = s, SoftCap = softCap, Window = window,
        };
        // Groups are whole warps (every shuffle has its full warp): GPUs run 64 rows per group, the CPU
        // accelerator groups of at most 64 threads, both fewer when T is short.
        int maxThreads = G.RowGroupSize(G.IsGpu ? 512 : 64);
        int unit = Math.Max(1, G.WarpSize / lanes);
        p.Rows = Math.Min(Math.Min(64, maxThreads / lanes), (T + unit - 1) / unit * unit);
        if (G.IsGpu)
        {
            // The largest tile (≤ 64 rows, a multiple of 8) whose buffers fit the key/value kernel's shared memory.
            int budget = (int)Math.Min(_k.Accelerator.MaxSharedMemoryPerGroup, 48 * 1024) / sizeof(float);
            int fixedFloats = 2 * p.Rows * p.ScoreLines;                          // the two score buffers' padding
            int floatsPerTileRow = 2 * p.Dp + 3 + 2 * p.Rows * p.ScoreLines;     // the key/value kernel's needs
            p.Tile = Math.Clamp((budget - fixedFloats) / floatsPerTileRow / 8 * 8, 8, 64);
            if (p.SharedFloats(2, 3) > budget)
                throw new ArgumentOutOfRangeException(nameof(D), D,
                    $"{op}: head dimension D={D} needs {p.SharedFloats(2, 3) * sizeof(float)} bytes of shared memory per group; the device has {budget * sizeof(float)}.");
        }
        else
        {
            // 24 divides none of the CPU row blocks (64, 32, 16, 8), so CPU tests also cover the key/value
            // kernel's first query tile that starts before its key block, as GPU tiles (40, 56, …) do.
            p.Tile = 24;
        }
        return p;
    }

    /// <summary>Checks a soft cap (finite, ≥ 0) and a sliding window (≥ 0); shared with <see cref="CachedAttention"/>.</summary>
    internal static void CheckCapAndWindow(string op, float softCap, int window)
    {
        if (!(softCap >= 0f) || !float.IsFinite(softCap))
            throw new ArgumentOutOfRangeException(nameof(softCap), softCap, $"{op}: the soft cap must be 0 (none) or a positive finite number.");
        if (window < 0) throw new ArgumentOutOfRangeException(nameof(window), window, $"{op}: the sliding window must be 0 (none) or positive.");
    }

    private static KernelConfig Config(Plan p, int blocksX, int blocksY, int sharedFloats) =>
        new(new Index2D(blocksX, blocksY), new Index2D(p.Rows * p.Lanes, 1), SharedMemoryConfig.RequestDynamic<float>(sharedFloats));

    private static int Blocks(int n, int per) => (n + per - 1) / per;

    /// <summary>A view to bind when no segment ids are given; the kernels never read it.</summary>
    private static ArrayView<int> NoSegments(ArrayView<float> any) => any.SubView(0, 1).Cast<int>();

    private static void CheckSegments(string op, ArrayView<int> segments, int B, int T)
    {
        if (segments.IsValid) Check.Length(op, nameof(segments), segments, (long)B * T);
    }

    // ---------------------------------------------------------------- forward

    /// <summary>
    /// o = softmax(scale · q kᵀ + mask) v per (batch, query head), and lse[b, h, i] = log Σ_j exp(scale · q_i·k_j)
    /// over the keys row i attends to (saved for <see cref="Backward"/>).
    /// </summary>
    /// <param name="q">Queries [B, T, Hq, D].</param>
    /// <param name="k">Keys [B, T, Hkv, D].</param>
    /// <param name="v">Values [B, T, Hkv, D].</param>
    /// <param name="o">Output [B, T, Hq, D] (overwritten).</param>
    /// <param name="lse">Row log-sum-exp [B, Hq, T] (overwritten).</param>
    /// <param name="B">Batch.</param>
    /// <param name="T">Sequence length.</param>
    /// <param name="Hq">Query heads (a multiple of <paramref name="Hkv"/>).</param>
    /// <param name="Hkv">Key/value heads.</param>
    /// <param name="D">Head dimension (at most <see cref="MaxHeadDim"/>).</param>
    /// <param name="segments">Segment ids [B, T] for block-causal masking, or <c>default</c> for plain causal.</param>
    /// <param name="scale">Softmax scale; 1/√D when null.</param>
    /// <param name="softCap">Soft cap c of the scores, c·tanh(s / c); 0: none.</param>
    /// <param name="window">Sliding window: query i sees keys j with i − j &lt; window; 0: every earlier key.</param>
    public void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o, ArrayView<float> lse,
        int B, int T, int Hq, int Hkv, int D, ArrayView<int> segments = default, float? scale = null, float softCap = 0f, int window = 0)
    {
        const string op = "Attention.Forward";
        var p = MakePlan(op, B, T, Hq, Hkv, D, segments.IsValid, scale, softCap, window);
        long nq = (long)B * T * Hq * D, nkv = (long)B * T * Hkv * D;
        Check.Length(op, nameof(q), q, nq); Check.Length(op, nameof(k), k, nkv); Check.Length(op, nameof(v), v, nkv);
        Check.Length(op, nameof(o), o, nq); Check.Length(op, nameof(lse), lse, (long)B * Hq * T);
        CheckSegments(op, segments, B, T);
        if (_host is not null)
        {
            _host.Forward(q, k, v, o, lse, B, T, Hq, Hkv, D, segments, p.Scale, p.SoftCap, p.Window);
            return;
        }
        _k.Get("Attention.Forward", acc => acc.LoadStreamKernel<Plan, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (Config(p, Blocks(T, p.Rows), B * Hq, p.SharedFloats(1, 1)), p, q, k, v, segments.IsValid ? segments : NoSegments(lse), o, lse);
    }

    private static void ForwardKernel(Plan p, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> seg,
        ArrayView<float> o, ArrayView<float> lse)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tileLen = p.Tile * p.Dp;
        var ks = shared.SubView(0, tileLen);
        var vs = shared.SubView(tileLen, tileLen);
        var segs = shared.SubView(2 * tileLen, p.Tile);
        var sc = shared.SubView(2 * tileLen + p.Tile, p.ScoreLength);

        int lane = Group.IdxX % p.Lanes, row = Group.IdxX / p.Lanes;
        int q0 = Grid.IdxX * p.Rows;
        int b = Grid.IdxY / p.Hq, h = Grid.IdxY % p.Hq;
        int hkv = h / (p.Hq / p.Hkv);
        int i = q0 + row;
        int iq = i < p.T ? i : p.T - 1; // rows past T compute on the last row and write nothing
        long rowBase = ((long)(b * p.T + iq) * p.Hq + h) * p.D;
        uint segI = p.HasSegments != 0 ? (uint)seg[b * p.T + iq] : 0u;
        int count = LaneCount(p, lane);
        var qr = LaneVector.Load(q, rowBase + lane, p.Lanes, count, p.Scale);
        var acc = default(LaneVector);

        float m = float.NegativeInfinity, l = 0f;
        int keyEnd = XMath.Min(p.T, q0 + p.Rows); // causal: later key tiles are fully masked for this block
        long kvStride = (long)p.Hkv * p.D, kvBase = ((long)b * p.T * p.Hkv + hkv) * p.D;
        for (int k0 = KeyStart(p, q0); k0 < keyEnd; k0 += p.Tile)
        {
            int n = XMath.Min(p.Tile, keyEnd - k0);
            Group.Barrier();
            StageRows(k, ks, kvBase + k0 * kvStride, kvStride, n, p.D, p.Dp, 1f);
            StageRows(v, vs, kvBase + k0 * kvStride, kvStride, n, p.D, p.Dp, 1f);
            StageSegments(seg, segs, b * p.T + k0, n, p.HasSegments);
            Group.Barrier();
            for (int kk = 0; kk < n; kk++) PutScore(p, sc, row, lane, kk, qr.Dot(ks, kk * p.Dp + lane, p.Lanes));
            Warp.Barrier();

            int visible = XMath.Min(n, iq - k0 + 1), from = WindowFrom(p, iq, k0);
            if (p.SoftCap > 0f)
            {
                for (int kk = from; kk < visible; kk++) CapScore(p, sc, row, lane, kk);
                Warp.Barrier();
            }
            float mt = float.NegativeInfinity;
            for (int kk = from; kk < visible; kk++)
                if (Interop.FloatAsInt(segs[kk]) == segI) mt = XMath.Max(mt, GetScore(p, sc, row, kk));
            if (mt > m)
            {
                float a = XMath.Exp(m - mt); // 0 while no key was seen (m = −∞)
                l *= a;
                acc.Scale(a);
                m = mt;
            }
            for (int kk = from; kk < visible; kk++)
            {
                if (Interop.FloatAsInt(segs[kk]) != segI) continue;
                float pr = XMath.Exp(GetScore(p, sc, row, kk) - m);
                l += pr;
                acc.Axpy(pr, vs, kk * p.Dp + lane, p.Lanes);
            }
        }

        if (i < p.T)
        {
            acc.Store(o, rowBase + lane, p.Lanes, count, 1f / l);
            if (lane == 0) lse[((long)b * p.Hq + h) * p.T + i] = m + XMath.Log(l);
        }
    }

    // ---------------------------------------------------------------- backward

    /// <summary>
    /// Backward of <see cref="Forward"/> (recomputes the probabilities from <paramref name="lse"/>):
    /// dq += ∂L/∂q, dk += ∂L/∂k, dv += ∂L/∂v for upstream gradient <paramref name="dO"/>.
    /// Two kernels, neither with atomics: one owns blocks of query rows and loops over keys (dq, and
    /// D_i = Σ_d dO·O), the other owns blocks of keys of one kv head and loops, in a fixed order, over
    /// the query heads that share it and their rows (dk, dv). Rents a [B, Hq, T] scratch from the pool (the host
    /// path: transposed copies of q, k, v, dO and padded lse, delta and segment rows).
    /// </summary>
    /// <param name="dO">Upstream gradient [B, T, Hq, D].</param>
    /// <param name="q">Queries [B, T, Hq, D] as given to the forward pass.</param>
    /// <param name="k">Keys [B, T, Hkv, D].</param>
    /// <param name="v">Values [B, T, Hkv, D].</param>
    /// <param name="o">The forward output [B, T, Hq, D].</param>
    /// <param name="lse">The forward log-sum-exp [B, Hq, T].</param>
    /// <param name="dq">Query gradient [B, T, Hq, D] (accumulated).</param>
    /// <param name="dk">Key gradient [B, T, Hkv, D] (accumulated).</param>
    /// <param name="dv">Value gradient [B, T, Hkv, D] (accumulated).</param>
    /// <param name="B">Batch.</param>
    /// <param name="T">Sequence length.</param>
    /// <param name="Hq">Query heads.</param>
    /// <param name="Hkv">Key/value heads.</param>
    /// <param name="D">Head dimension.</param>
    /// <param name="segments">The forward pass's segment ids, or <c>default</c>.</param>
    /// <param name="scale">The forward pass's scale; 1/√D when null.</param>
    /// <param name="softCap">The forward pass's soft cap; 0: none.</param>
    /// <param name="window">The forward pass's sliding window; 0: none.</param>
    public void Backward(ArrayView<float> dO, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        ArrayView<float> lse, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv,
        int B, int T, int Hq, int Hkv, int D, ArrayView<int> segments = default, float? scale = null, float softCap = 0f, int window = 0)
    {
        const string op = "Attention.Backward";
        var p = MakePlan(op, B, T, Hq, Hkv, D, segments.IsValid, scale, softCap, window);
        long nq = (long)B * T * Hq * D, nkv = (long)B * T * Hkv * D, nl = (long)B * Hq * T;
        Check.Length(op, nameof(dO), dO, nq); Check.Length(op, nameof(q), q, nq); Check.Length(op, nameof(k), k, nkv);
        Check.Length(op, nameof(v), v, nkv); Check.Length(op, nameof(o), o, nq); Check.Length(op, nameof(lse), lse, nl);
        Check.Length(op, nameof(dq), dq, nq); Check.Length(op, nameof(dk), dk, nkv); Check.Length(op, nameof(dv), dv, nkv);
        CheckSegments(op, segments, B, T);
        if (_host is not null)
        {
            _host.Backward(dO, q, k, v, o, lse, dq, dk, dv, B, T, Hq, Hkv, D, segments, p.Scale, p.SoftCap, p.Window);
            return;
        }
        var seg = segments.IsValid ? segments : NoSegments(lse);

        using var delta = Tensor.Empty(_k.Device, B, Hq, T);
        _k.Get("Attention.BackwardQuery", acc => acc.LoadStreamKernel<Plan, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(BackwardQueryKernel))
            (Config(p, Blocks(T, p.Rows), B * Hq, p.SharedFloats(2, 1)), p, dO, q, k, v, o, lse, seg, delta.View, dq);
        // without a soft cap and a window the key/value kernel runs a variant with them folded away: 96 registers on SM 90
        // instead of 128 (ptxas), the same arithmetic
        var backwardKeyValue = p.IsPlain
            ? _k.Get("Attention.BackwardKeyValuePlain", acc => acc.LoadStreamKernel<Plan, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(BackwardKeyValuePlainKernel))
            : _k.Get("Attention.BackwardKeyValue", acc => acc.LoadStreamKernel<Plan, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(BackwardKeyValueKernel));
        backwardKeyValue(Config(p, Blocks(T, p.Rows), B * Hkv, p.SharedFloats(2, 3)), p, dO, q, k, v, lse, delta.View, seg, dk, dv);
    }

    /// <summary><see cref="BackwardKeyValueKernel"/> without a soft cap or a window, as constants: the same arithmetic, fewer registers.</summary>
    private static void BackwardKeyValuePlainKernel(Plan p, ArrayView<float> dO, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> lse, ArrayView<float> delta, ArrayView<int> seg, ArrayView<float> dk, ArrayView<float> dv) =>
        BackwardKeyValueKernel(p.Plain(), dO, q, k, v, lse, delta, seg, dk, dv);

    /// <summary>dq for a block of query rows of one (b, h); also writes delta[b, h, i] = Σ_d dO·O for the key kernel.</summary>
    private static void BackwardQueryKernel(Plan p, ArrayView<float> dO, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> o, ArrayView<float> lse, ArrayView<int> seg, ArrayView<float> delta, ArrayView<float> dq)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tileLen = p.Tile * p.Dp;
        var ks = shared.SubView(0, tileLen);
        var vs = shared.SubView(tileLen, tileLen);
        var segs = shared.SubView(2 * tileLen, p.Tile);
        var sc = shared.SubView(2 * tileLen + p.Tile, p.ScoreLength);
        var dps = shared.SubView(2 * tileLen + p.Tile + p.ScoreLength, p.ScoreLength);

        int lane = Group.IdxX % p.Lanes, row = Group.IdxX / p.Lanes;
        int q0 = Grid.IdxX * p.Rows;
        int b = Grid.IdxY / p.Hq, h = Grid.IdxY % p.Hq;
        int hkv = h / (p.Hq / p.Hkv);
        int i = q0 + row;
        int iq = i < p.T ? i : p.T - 1;
        long rowBase = ((long)(b * p.T + iq) * p.Hq + h) * p.D;
        long lseIdx = ((long)b * p.Hq + h) * p.T + iq;
        uint segI = p.HasSegments != 0 ? (uint)seg[b * p.T + iq] : 0u;
        int count = LaneCount(p, lane);
        var qr = LaneVector.Load(q, rowBase + lane, p.Lanes, count, p.Scale);
        var gr = LaneVector.Load(dO, rowBase + lane, p.Lanes, count, 1f);
        var orow = LaneVector.Load(o, rowBase + lane, p.Lanes, count, 1f);
        var dqr = default(LaneVector);
        float li = lse[lseIdx];

        // delta_i = Σ_d dO·O through the score buffer's first column, the same way scores are summed.
        PutScore(p, sc, row, lane, 0, gr.Dot(orow));
        Warp.Barrier();
        float di = GetScore(p, sc, row, 0);
        if (i < p.T && lane == 0) delta[lseIdx] = di;

        int keyEnd = XMath.Min(p.T, q0 + p.Rows);
        long kvStride = (long)p.Hkv * p.D, kvBase = ((long)b * p.T * p.Hkv + hkv) * p.D;
        for (int k0 = KeyStart(p, q0); k0 < keyEnd; k0 += p.Tile)
        {
            int n = XMath.Min(p.Tile, keyEnd - k0);
            Group.Barrier();
            StageRows(k, ks, kvBase + k0 * kvStride, kvStride, n, p.D, p.Dp, 1f);
            StageRows(v, vs, kvBase + k0 * kvStride, kvStride, n, p.D, p.Dp, 1f);
            StageSegments(seg, segs, b * p.T + k0, n, p.HasSegments);
            Group.Barrier();
            for (int kk = 0; kk < n; kk++)
            {
                int off = kk * p.Dp + lane;
                PutScore(p, sc, row, lane, kk, qr.Dot(ks, off, p.Lanes));
                PutScore(p, dps, row, lane, kk, gr.Dot(vs, off, p.Lanes));
            }
            Warp.Barrier();
            int visible = XMath.Min(n, iq - k0 + 1);
            for (int kk = WindowFrom(p, iq, k0); kk < visible; kk++)
            {
                if (Interop.FloatAsInt(segs[kk]) != segI) continue;
                float ds = ScoreGradient(p, GetScore(p, sc, row, kk), li, GetScore(p, dps, row, kk) - di, out _);
                dqr.Axpy(ds, ks, kk * p.Dp + lane, p.Lanes);
            }
        }

        if (i < p.T) dqr.AddTo(dq, rowBase + lane, p.Lanes, count, p.Scale);
    }

    /// <summary>dk and dv for a block of key rows of one (b, kv head): loops over the query heads of its
    /// group and, per head, over the query rows at or after the block, in ascending order.</summary>
    private static void BackwardKeyValueKernel(Plan p, ArrayView<float> dO, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> lse, ArrayView<float> delta, ArrayView<int> seg, ArrayView<float> dk, ArrayView<float> dv)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tileLen = p.Tile * p.Dp;
        var qs = shared.SubView(0, tileLen);
        var gs = shared.SubView(tileLen, tileLen);
        var segs = shared.SubView(2 * tileLen, p.Tile);
        var lses = shared.SubView(2 * tileLen + p.Tile, p.Tile);
        var deltas = shared.SubView(2 * tileLen + 2 * p.Tile, p.Tile);
        var sc = shared.SubView(2 * tileLen + 3 * p.Tile, p.ScoreLength);
        var dps = shared.SubView(2 * tileLen + 3 * p.Tile + p.ScoreLength, p.ScoreLength);

        int lane = Group.IdxX % p.Lanes, row = Group.IdxX / p.Lanes;
        int k0 = Grid.IdxX * p.Rows;
        int b = Grid.IdxY / p.Hkv, hkv = Grid.IdxY % p.Hkv;
        int groupHeads = p.Hq / p.Hkv;
        int j = k0 + row;
        int jk = j < p.T ? j : p.T - 1;
        long rowBase = ((long)(b * p.T + jk) * p.Hkv + hkv) * p.D;
        uint segJ = p.HasSegments != 0 ? (uint)seg[b * p.T + jk] : 0u;
        int count = LaneCount(p, lane);
        var kr = LaneVector.Load(k, rowBase + lane, p.Lanes, count, 1f);
        var vr = LaneVector.Load(v, rowBase + lane, p.Lanes, count, 1f);
        var dkr = default(LaneVector);
        var dvr = default(LaneVector);

        long qStride = (long)p.Hq * p.D;
        int firstTile = k0 / p.Tile * p.Tile; // causal: query rows before the block never see its keys
        // with a window, query rows at or past the block's last key + W see none of its keys
        int queryEnd = p.Window > 0 ? XMath.Min(p.T, k0 + p.Rows - 1 + p.Window) : p.T;
        for (int g = 0; g < groupHeads; g++)
        {
            int h = hkv * groupHeads + g;
            long qBase = ((long)b * p.T * p.Hq + h) * p.D;
            long lBase = ((long)b * p.Hq + h) * p.T;
            for (int t0 = firstTile; t0 < queryEnd; t0 += p.Tile)
            {
                int n = XMath.Min(p.Tile, queryEnd - t0);
                int first = XMath.Max(0, k0 - t0);
                Group.Barrier();
                StageRows(q, qs, qBase + t0 * qStride, qStride, n, p.D, p.Dp, p.Scale);
                StageRows(dO, gs, qBase + t0 * qStride, qStride, n, p.D, p.Dp, 1f);
                StageSegments(seg, segs, b * p.T + t0, n, p.HasSegments);
                for (int r = Group.IdxX; r < n; r += Group.DimX)
                {
                    lses[r] = lse[lBase + t0 + r];
                    deltas[r] = delta[lBase + t0 + r];
                }
                Group.Barrier();
                for (int r = first; r < n; r++)
                {
                    int off = r * p.Dp + lane;
                    PutScore(p, sc, row, lane, r, kr.Dot(qs, off, p.Lanes));
                    PutScore(p, dps, row, lane, r, vr.Dot(gs, off, p.Lanes));
                }
                Warp.Barrier();
                int last = p.Window > 0 ? XMath.Min(n, jk + p.Window - t0) : n; // window: query rows i < j + W
                for (int r = XMath.Max(first, jk - t0); r < last; r++) // causal: query rows i ≥ j
                {
                    if (Interop.FloatAsInt(segs[r]) != segJ) continue;
                    int off = r * p.Dp + lane;
                    float ds = ScoreGradient(p, GetScore(p, sc, row, r), lses[r], GetScore(p, dps, row, r) - deltas[r], out float pr);
                    dvr.Axpy(pr, gs, off, p.Lanes);
                    dkr.Axpy(ds, qs, off, p.Lanes);
                }
            }
        }

        if (j < p.T)
        {
            dkr.AddTo(dk, rowBase + lane, p.Lanes, count, 1f);
            dvr.AddTo(dv, rowBase + lane, p.Lanes, count, 1f);
        }
    }

    // ---------------------------------------------------------------- helpers (run inside kernels)

    /// <summary>The first key a block of query rows from <paramref name="q0"/> may see: 0, or with a window the first key
    /// inside the window of its first row (earlier keys are masked for every row of the block).</summary>
    private static int KeyStart(Plan p, int q0) => p.Window > 0 ? XMath.Max(0, q0 - p.Window + 1) : 0;

    /// <summary>The first column of the key tile at <paramref name="k0"/> inside row <paramref name="i"/>'s window (0 without one).</summary>
    private static int WindowFrom(Plan p, int i, int k0) => p.Window > 0 ? XMath.Max(0, i - p.Window + 1 - k0) : 0;

    /// <summary>Replaces column <paramref name="col"/>'s score of a row by its soft-capped value c·tanh(s / c), so that
    /// <see cref="GetScore"/> returns it: one lane of the row's team (the one holding the sum with shuffles, else lane 0,
    /// which then zeroes the other lanes' partials) reads and writes it, so no barrier is needed between; read the scores
    /// back only after a warp barrier.</summary>
    private static void CapScore(Plan p, ArrayView<float> buf, int row, int lane, int col)
    {
        if (p.Shuffle != 0)
        {
            if (lane != (col & (p.Lanes - 1))) return;
            int at = row * p.ScoreStride + col;
            buf[at] = p.SoftCap * XMath.Tanh(buf[at] / p.SoftCap);
        }
        else
        {
            if (lane != 0) return;
            float capped = p.SoftCap * XMath.Tanh(GetScore(p, buf, row, col) / p.SoftCap);
            int at = row * p.Lanes * p.ScoreStride + col;
            buf[at] = capped;
            for (int l = 1; l < p.Lanes; l++) buf[at + l * p.ScoreStride] = 0f;
        }
    }

    /// <summary>∂L/∂s for a raw score s (scale·q·k) of a row with log-sum-exp <paramref name="lse"/> and
    /// <paramref name="dpMinusDelta"/> = dO·v − Σ dO·O: p·(dO·v − Δ), times 1 − tanh²(s / c) under a soft cap c, where
    /// p = exp(capped s − lse) (returned in <paramref name="prob"/>).</summary>
    private static float ScoreGradient(Plan p, float s, float lse, float dpMinusDelta, out float prob)
    {
        if (p.SoftCap > 0f)
        {
            float t = XMath.Tanh(s / p.SoftCap);
            prob = XMath.Exp(p.SoftCap * t - lse);
            return prob * dpMinusDelta * (1f - t * t);
        }
        prob = XMath.Exp(s - lse);
        return prob * dpMinusDelta;
    }

    /// <summary>How many of the dims lane, lane + R, lane + 2R, … lie below D.</summary>
    private static int LaneCount(Plan p, int lane) => (p.D - lane + p.Lanes - 1) / p.Lanes;

    /// <summary>Records this lane's partial dot product for column <paramref name="col"/> of its row. With
    /// shuffles the team sums it at once by a fixed xor butterfly (every lane gets the same bits) and one
    /// lane stores the sum; without, each lane stores its partial for <see cref="GetScore"/> to add.
    /// Every thread of the warp must call it (it may shuffle). Read back only after a warp barrier.</summary>
    private static void PutScore(Plan p, ArrayView<float> buf, int row, int lane, int col, float partial)
    {
        if (p.Shuffle != 0)
        {
            for (int mask = 1; mask < p.Lanes; mask <<= 1) partial += Warp.ShuffleXor(partial, mask);
            if (lane == (col & (p.Lanes - 1))) buf[row * p.ScoreStride + col] = partial;
        }
        else
        {
            buf[(row * p.Lanes + lane) * p.ScoreStride + col] = partial;
        }
    }

    /// <summary>The full dot product of column <paramref name="col"/> of a row (see <see cref="PutScore"/>):
    /// the stored sum, or the lanes' partials added in lane order.</summary>
    private static float GetScore(Plan p, ArrayView<float> buf, int row, int col)
    {
        if (p.Shuffle != 0) return buf[row * p.ScoreStride + col];
        int at = row * p.Lanes * p.ScoreStride + col;
        float s = buf[at];
        for (int l = 1; l < p.Lanes; l++) s += buf[at + l * p.ScoreStride];
        return s;
    }

    /// <summary>Copies <paramref name="n"/> rows of <paramref name="D"/> floats (row i at src[start + i·stride])
    /// into a shared tile of row stride <paramref name="Dp"/>, times <paramref name="mul"/>, zero-padding dims D..Dp.</summary>
    private static void StageRows(ArrayView<float> src, ArrayView<float> dst, long start, long stride, int n, int D, int Dp, float mul)
    {
        for (int e = Group.IdxX; e < n * Dp; e += Group.DimX)
        {
            int r = e / Dp, d = e - r * Dp;
            dst[e] = d < D ? src[start + r * stride + d] * mul : 0f;
        }
    }

    /// <summary>Copies <paramref name="n"/> segment ids (bit patterns) into a shared tile, or zeros when there are none.</summary>
    private static void StageSegments(ArrayView<int> seg, ArrayView<float> dst, int start, int n, int hasSegments)
    {
        for (int r = Group.IdxX; r < n; r += Group.DimX)
            dst[r] = Interop.IntAsFloat(hasSegments != 0 ? (uint)seg[start + r] : 0u);
    }
}
