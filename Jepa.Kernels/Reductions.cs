using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>What a reduction computes over its elements.</summary>
public enum ReductionKind
{
    /// <summary>Σ x.</summary>
    Sum,

    /// <summary>Σ x².</summary>
    SumOfSquares,

    /// <summary>max x (−∞ for no elements; NaN propagates).</summary>
    Max,

    /// <summary>max |x| (0 for no elements; NaN propagates).</summary>
    AbsMax,

    /// <summary>√(Σ x²).</summary>
    L2Norm,
}

/// <summary>
/// Deterministic reductions — sum, sum of squares, max, max |x|, L2 norm — over a whole view, over the
/// rows of a matrix, or over a list of views (the global gradient norm).
/// <para>
/// Every value is defined by one fixed tree that depends on nothing but the element count: elements are cut
/// into blocks of <see cref="LaunchGeometry.ReductionBlock"/> (1024), each block is padded with the identity
/// and reduced by the pairwise tree <c>s[i] ⊕= s[i + w]</c> for <c>w = 512, 256, …, 1</c>; the block results
/// are reduced the same way, level after level, until one value is left. The tree is computed either by one
/// group per block (GPUs: each thread first folds the levels whose stride is at least the group size on its own
/// indices, then the group finishes in shared memory with barriers) or, on the CPU accelerator, by each coarse
/// chunk thread for its run of whole blocks in a private workspace, with no barriers. Both compute the same
/// tree, so results are bitwise identical for any CPU chunk count, any group size and every GPU size, and the
/// two paths agree bit for bit. No atomics.
/// </para>
/// Results are written into device views, so training never has to wait for the host; the
/// <c>…ToHost</c> methods are conveniences for logging and tests.
/// <para>On the CPU accelerator the reductions run by default as SIMD host code in place on the accelerator's
/// buffers (<see cref="KernelPath"/>): the same tree, with the same additions, so both paths give the same bits.
/// The host path needs no scratch: the overloads that take one check its length and leave it unused.</para>
/// </summary>
public sealed class Reductions
{
    private const int Block = LaunchGeometry.ReductionBlock;
    private const int LoadIdentity = 0, LoadSquare = 1, LoadAbs = 2;
    private const int CombineAdd = 0, CombineMax = 1;

    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernels.</param>
    /// <param name="groupSize">0 (default): the device's own path — groups of 256 threads on GPUs, one chunk
    /// thread per run of blocks on the CPU accelerator. A power of two (at most 1024, the accelerator's limit,
    /// and 64 on the CPU accelerator) forces the group kernel with that many threads per group. The choice never
    /// changes a result. The host path ignores it.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernels
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public Reductions(KernelCache kernels, int groupSize = 0, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("Reductions", kernels, path);
        var g = kernels.Device.Geometry;
        int limit = Math.Min(Block, g.IsGpu ? g.MaxGroupSize : Math.Min(64, g.MaxGroupSize));
        if (groupSize == 0 && g.IsGpu) groupSize = g.RowGroupSize(256);
        if (groupSize != 0 && (groupSize < 1 || groupSize > limit || (groupSize & (groupSize - 1)) != 0))
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize,
                $"Reductions: group size must be a power of two ≤ {limit} on {kernels.Device.Kind.Name()}.");
        GroupSize = groupSize;
    }

    /// <summary>Threads per group of the group kernels, or 0 when the CPU chunk path is used.</summary>
    public int GroupSize { get; }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private bool Host => Path == KernelPath.Host;

    /// <summary>Workers of the host path; waits for queued kernels first (free on the CPU accelerator).</summary>
    private int HostThreads()
    {
        _k.Accelerator.DefaultStream.Synchronize();
        return G.CpuChunks;
    }

    private static ReductionMode HostMode(int mode) =>
        new(LoadOf(mode), CombineOf(mode) == CombineMax, (mode & SqrtBit) != 0);

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>Floats of per-thread workspace the chunk path needs (0 for the group path).</summary>
    private int Workspace => GroupSize == 0 ? G.CpuChunks * Block : 0;

    // ---------------------------------------------------------------- sizes

    /// <summary>Number of first-pass partials for <paramref name="n"/> elements: one per block of 1024.</summary>
    public static int BlockCount(int n) => n <= Block ? 1 : (int)(((long)n + Block - 1) / Block);

    /// <summary>Floats of scratch a reduction of <paramref name="n"/> elements needs on this device: the partials
    /// of every level but the last, plus, on the CPU chunk path, one 1024-float workspace per chunk thread.</summary>
    public int ScratchLength(int n) => Workspace + PartialsLength(n);

    /// <summary>Floats of scratch <see cref="Reduce(ReductionKind, IReadOnlyList{ArrayView{float}}, ArrayView{float}, ArrayView{float})"/>
    /// needs on this device for views of these lengths.</summary>
    public int ScratchLength(IReadOnlyList<ArrayView<float>> views)
    {
        ArgumentNullException.ThrowIfNull(views);
        int partials = MultiPartials(views);
        return Workspace + partials + PartialsLength(partials);
    }

    /// <summary>Partials stored for every level but the last (0 when n ≤ 1024).</summary>
    private static int PartialsLength(int n)
    {
        int total = 0;
        for (int m = n; m > Block; m = BlockCount(m)) total += BlockCount(m);
        return total;
    }

    // ---------------------------------------------------------------- whole view

    /// <summary>result[0] = Σ x over <paramref name="n"/> elements.</summary>
    public void Sum(ArrayView<float> x, int n, ArrayView<float> result) => Reduce(ReductionKind.Sum, x, n, result);

    /// <summary>result[0] = Σ x² over <paramref name="n"/> elements.</summary>
    public void SumOfSquares(ArrayView<float> x, int n, ArrayView<float> result) => Reduce(ReductionKind.SumOfSquares, x, n, result);

    /// <summary>result[0] = (Σ x) / <paramref name="divisor"/> on the device, or 0 when the divisor is 0 (nothing to average).</summary>
    public void Mean(ArrayView<float> x, int n, ArrayView<float> result, float divisor)
    {
        Sum(x, n, result);
        if (Host)
        {
            unsafe
            {
                float* r = HostView.Ptr(result, nameof(result));
                *r = divisor != 0f ? *r / divisor : 0f;
            }
            return;
        }
        _k.Get("Reductions.Divide", acc => acc.LoadAutoGroupedStreamKernel<Index1D, float, ArrayView<float>>(DivideKernel))(1, divisor, result);
    }

    private static void DivideKernel(Index1D t, float divisor, ArrayView<float> result) =>
        result[0] = divisor != 0f ? result[0] / divisor : 0f;

    /// <summary>result[0] = max x over <paramref name="n"/> elements.</summary>
    public void Max(ArrayView<float> x, int n, ArrayView<float> result) => Reduce(ReductionKind.Max, x, n, result);

    /// <summary>result[0] = max |x| over <paramref name="n"/> elements.</summary>
    public void AbsMax(ArrayView<float> x, int n, ArrayView<float> result) => Reduce(ReductionKind.AbsMax, x, n, result);

    /// <summary>result[0] = √(Σ x²) over <paramref name="n"/> elements.</summary>
    public void L2Norm(ArrayView<float> x, int n, ArrayView<float> result) => Reduce(ReductionKind.L2Norm, x, n, result);

    /// <summary>result[0] = the reduction of <paramref name="n"/> elements of <paramref name="x"/>, with
    /// scratch rented from the device pool.</summary>
    public void Reduce(ReductionKind kind, ArrayView<float> x, int n, ArrayView<float> result)
    {
        if (Host)
        {
            const string op = "Reduce";
            if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"{op}: size 'n' must be non-negative.");
            Check.Length(op, nameof(x), x, n);
            Check.Length(op, nameof(result), result, 1);
            ReduceHost(ModeOf(kind), x, n, result);
            return;
        }
        int need = ScratchLength(Math.Max(0, n));
        if (need == 0)
        {
            Reduce(kind, x, n, result, default);
            return;
        }
        using var scratch = Tensor.Empty(_k.Device, need);
        Reduce(kind, x, n, result, scratch.View);
    }

    /// <summary>result[0] = the reduction of <paramref name="n"/> elements of <paramref name="x"/>, using
    /// <paramref name="scratch"/> (at least <see cref="ScratchLength(int)"/> floats) for partials and workspace.</summary>
    public void Reduce(ReductionKind kind, ArrayView<float> x, int n, ArrayView<float> result, ArrayView<float> scratch)
    {
        const string op = "Reduce";
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, $"{op}: size 'n' must be non-negative.");
        Check.Length(op, nameof(x), x, n);
        Check.Length(op, nameof(result), result, 1);
        Check.Length(op, nameof(scratch), scratch, ScratchLength(n));
        int mode = ModeOf(kind);
        if (Host)
        {
            ReduceHost(mode, x, n, result);
            return;
        }
        var work = Workspace > 0 ? scratch.SubView(0, Workspace) : default;
        var rest = After(scratch, Workspace);
        if (n <= Block)
        {
            Launch(x, n, mode, result, work);
            return;
        }
        int m = BlockCount(n);
        var partials = rest.SubView(0, m);
        Launch(x, n, Partial(mode), partials, work);
        FinishPartials(partials, m, mode, result, After(rest, m), work);
    }

    /// <summary>The reduction of <paramref name="n"/> elements of <paramref name="x"/>, copied to the host
    /// (waits for the device).</summary>
    public float ReduceToHost(ReductionKind kind, ArrayView<float> x, int n)
    {
        using var result = Tensor.Empty(_k.Device, 1);
        Reduce(kind, x, n, result.View);
        return ToHost(result.View);
    }

    /// <summary>Σ x over <paramref name="n"/> elements, on the host.</summary>
    public float SumToHost(ArrayView<float> x, int n) => ReduceToHost(ReductionKind.Sum, x, n);

    /// <summary>max x over <paramref name="n"/> elements, on the host.</summary>
    public float MaxToHost(ArrayView<float> x, int n) => ReduceToHost(ReductionKind.Max, x, n);

    /// <summary>√(Σ x²) over <paramref name="n"/> elements, on the host.</summary>
    public float L2NormToHost(ArrayView<float> x, int n) => ReduceToHost(ReductionKind.L2Norm, x, n);

    /// <summary>Copies element 0 of a device view to the host, after everything queued before it.</summary>
    public float ToHost(ArrayView<float> scalar)
    {
        Check.Length("ToHost", nameof(scalar), scalar, 1);
        Span<float> one = stackalloc float[1];
        var stream = _k.Accelerator.DefaultStream;
        scalar.SubView(0, 1).CopyToCPU(stream, one);
        stream.Synchronize();
        return one[0];
    }

    // ---------------------------------------------------------------- rows

    /// <summary>y[r] = Σ_c x[r, c] for an <paramref name="N"/> × <paramref name="C"/> matrix (y is overwritten).</summary>
    public void SumRows(ArrayView<float> x, ArrayView<float> y, int N, int C) => ReduceRows(ReductionKind.Sum, x, y, N, C);

    /// <summary>y[r] = the reduction of row r of an <paramref name="N"/> × <paramref name="C"/> matrix (y is
    /// overwritten). Rows longer than 1024 are reduced block by block (each block by the fixed tree) and the block
    /// results combined in column order. One group per row on GPUs, one chunk thread per run of rows on the CPU.</summary>
    public void ReduceRows(ReductionKind kind, ArrayView<float> x, ArrayView<float> y, int N, int C)
    {
        const string op = "ReduceRows";
        int n = Check.Positive(op, (nameof(N), N), (nameof(C), C));
        Check.Length(op, nameof(x), x, n); Check.Length(op, nameof(y), y, N);
        int mode = ModeOf(kind);
        int width = Width(C);
        if (Host)
        {
            unsafe { ReductionsCpu.Rows(HostThreads(), HostView.Ptr(x, nameof(x)), N, C, HostMode(mode), HostView.Ptr(y, nameof(y))); }
            return;
        }
        if (GroupSize > 0)
        {
            _k.Get("Reductions.Rows", acc => acc.LoadStreamKernel<ArrayView<float>, int, int, int, ArrayView<float>>(RowReduceKernel))
                (new KernelConfig(N, Math.Min(GroupSize, width), SharedMemoryConfig.RequestDynamic<float>(width)), x, C, width, mode, y);
            return;
        }
        using var work = Tensor.Empty(_k.Device, G.Threads(N) * width);
        _k.Get("Reductions.RowsChunked", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, int, int, int, ArrayView<float>, ArrayView<float>>(RowReduceChunkedKernel))
            (G.Threads(N), G.PerThread(N), N, x, C, width, mode, y, work.View);
    }

    // ---------------------------------------------------------------- list of views

    /// <summary>result[0] = Σ over all views of Σ x² (each view reduced over its whole length), e.g. the squared
    /// global gradient norm. Scratch comes from the device pool.</summary>
    public void SumOfSquares(IReadOnlyList<ArrayView<float>> views, ArrayView<float> result) =>
        Reduce(ReductionKind.SumOfSquares, views, result);

    /// <summary>result[0] = √(Σ over all views of Σ x²): the global L2 norm of a list of tensors.</summary>
    public void L2Norm(IReadOnlyList<ArrayView<float>> views, ArrayView<float> result) =>
        Reduce(ReductionKind.L2Norm, views, result);

    /// <summary>result[0] = the reduction of every element of every view, with scratch from the device pool.</summary>
    public void Reduce(ReductionKind kind, IReadOnlyList<ArrayView<float>> views, ArrayView<float> result)
    {
        if (Host)
        {
            ArgumentNullException.ThrowIfNull(views);
            Check.Length("Reduce(views)", nameof(result), result, 1);
            MultiPartials(views);
            ReduceHost(ModeOf(kind), views, result);
            return;
        }
        using var scratch = Tensor.Empty(_k.Device, Math.Max(1, ScratchLength(views)));
        Reduce(kind, views, result, scratch.View);
    }

    /// <summary>result[0] = the reduction of every element of every view. Fixed order: each view's block partials
    /// (one per 1024 elements, the last block of a view padded) are laid out view after view, then reduced by the
    /// fixed tree. <paramref name="scratch"/> needs <see cref="ScratchLength(IReadOnlyList{ArrayView{float}})"/> floats.</summary>
    public void Reduce(ReductionKind kind, IReadOnlyList<ArrayView<float>> views, ArrayView<float> result, ArrayView<float> scratch)
    {
        const string op = "Reduce(views)";
        ArgumentNullException.ThrowIfNull(views);
        Check.Length(op, nameof(result), result, 1);
        int partials = MultiPartials(views);
        Check.Length(op, nameof(scratch), scratch, ScratchLength(views));
        int mode = ModeOf(kind);
        if (Host)
        {
            ReduceHost(mode, views, result);
            return;
        }
        var work = Workspace > 0 ? scratch.SubView(0, Workspace) : default;
        var rest = After(scratch, Workspace);
        if (partials == 0)
        {
            Launch(result, 0, mode, result, work);
            return;
        }
        int offset = 0;
        foreach (var v in views)
        {
            if (v.Length == 0) continue;
            int len = (int)v.Length, m = BlockCount(len);
            Launch(v, len, Partial(mode), rest.SubView(offset, m), work);
            offset += m;
        }
        FinishPartials(rest.SubView(0, partials), partials, mode, result, After(rest, partials), work);
    }

    private unsafe void ReduceHost(int mode, ArrayView<float> x, int n, ArrayView<float> result) =>
        ReductionsCpu.Reduce(HostThreads(), n > 0 ? HostView.Ptr(x, nameof(x)) : null, n, HostMode(mode), HostView.Ptr(result, nameof(result)));

    private unsafe void ReduceHost(int mode, IReadOnlyList<ArrayView<float>> views, ArrayView<float> result)
    {
        int threads = HostThreads();
        var ptrs = new nint[views.Count];
        var lengths = new int[views.Count];
        for (int i = 0; i < views.Count; i++)
        {
            lengths[i] = (int)views[i].Length;
            if (lengths[i] > 0) ptrs[i] = (nint)HostView.Ptr(views[i], nameof(views));
        }
        ReductionsCpu.Views(threads, ptrs, lengths, HostMode(mode), HostView.Ptr(result, nameof(result)));
    }

    private static int MultiPartials(IReadOnlyList<ArrayView<float>> views)
    {
        long total = 0;
        for (int i = 0; i < views.Count; i++)
        {
            long len = views[i].Length;
            if (len > int.MaxValue) throw new ArgumentException($"Reduce(views): view {i} has {len} elements, more than 2^31 − 1.", nameof(views));
            if (len > 0) total += BlockCount((int)len);
        }
        return checked((int)total);
    }

    // ---------------------------------------------------------------- launching

    // A pass's mode, packed in one int kernel argument: bits 0–1 how elements are loaded (identity, square, abs),
    // bit 2 how they combine (add, max), bit 3 whether the result gets a square root.
    private const int CombineShift = 2, SqrtBit = 8;

    private static int ModeOf(ReductionKind kind) => kind switch
    {
        ReductionKind.Sum => LoadIdentity | CombineAdd << CombineShift,
        ReductionKind.SumOfSquares => LoadSquare | CombineAdd << CombineShift,
        ReductionKind.L2Norm => LoadSquare | CombineAdd << CombineShift | SqrtBit,
        ReductionKind.Max => LoadIdentity | CombineMax << CombineShift,
        ReductionKind.AbsMax => LoadAbs | CombineMax << CombineShift,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown reduction."),
    };

    /// <summary>The same pass without the final square root (for partials).</summary>
    private static int Partial(int mode) => mode & ~SqrtBit;

    /// <summary>The pass that combines partials: plain loads, same combine and finish.</summary>
    private static int FinishMode(int mode) => mode & ~3;

    private static int LoadOf(int mode) => mode & 3;

    private static int CombineOf(int mode) => (mode >> CombineShift) & 1;

    /// <summary>The part of <paramref name="view"/> after its first <paramref name="offset"/> elements (empty at the end).</summary>
    private static ArrayView<float> After(ArrayView<float> view, int offset) =>
        offset < view.Length ? view.SubView(offset) : default;

    /// <summary>Tree width for <paramref name="n"/> elements: the next power of two, at most one block. Identity
    /// padding makes a wider tree give the same value, so this only saves work.</summary>
    private static int Width(int n)
    {
        int w = 1;
        while (w < n && w < Block) w *= 2;
        return w;
    }

    /// <summary>One pass: y[b] = the tree reduction of block b of x.</summary>
    private void Launch(ArrayView<float> x, int n, int mode, ArrayView<float> y, ArrayView<float> work)
    {
        int blocks = BlockCount(n);
        int width = blocks > 1 ? Block : Width(n);
        if (GroupSize > 0)
        {
            _k.Get("Reductions.Block", acc => acc.LoadStreamKernel<ArrayView<float>, int, int, int, ArrayView<float>>(BlockReduceKernel))
                (new KernelConfig(blocks, Math.Min(GroupSize, width), SharedMemoryConfig.RequestDynamic<float>(width)), x, n, width, mode, y);
            return;
        }
        _k.Get("Reductions.BlockChunked", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, int, int, int, ArrayView<float>, ArrayView<float>>(BlockReduceChunkedKernel))
            (G.Threads(blocks), G.PerThread(blocks), blocks, x, n, width, mode, y, work);
    }

    /// <summary>Reduces <paramref name="m"/> ≥ 1 partials level by level into result[0].</summary>
    private void FinishPartials(ArrayView<float> partials, int m, int mode, ArrayView<float> result, ArrayView<float> scratch, ArrayView<float> work)
    {
        int finish = FinishMode(mode);
        while (m > Block)
        {
            int next = BlockCount(m);
            var dst = scratch.SubView(0, next);
            Launch(partials, m, Partial(finish), dst, work);
            scratch = After(scratch, next);
            partials = dst;
            m = next;
        }
        Launch(partials, m, finish, result, work);
    }

    // ---------------------------------------------------------------- kernels

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Load(int mode, float v) => mode == LoadSquare ? v * v : mode == LoadAbs ? XMath.Abs(v) : v;

    /// <summary>a ⊕ b; max propagates NaN from either side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Combine(int mode, float a, float b)
    {
        if (mode == CombineAdd) return a + b;
        return float.IsNaN(a) || a > b ? a : b;
    }

    /// <summary>The padding value: 0 for sums and max |x|, −∞ for max.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Identity(int mode) => CombineOf(mode) == CombineMax && LoadOf(mode) != LoadAbs ? float.NegativeInfinity : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(int mode, float r) => (mode & SqrtBit) != 0 ? XMath.Sqrt(r) : r;

    /// <summary>x[k] loaded through the mode, or the identity at and past <paramref name="end"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Element(ArrayView<float> x, long k, long end, int mode, float identity) =>
        k < end ? Load(LoadOf(mode), x[k]) : identity;

    /// <summary>Loads the tree's leaves x[start, start + width) (identity at and past <paramref name="end"/>) into
    /// sh, thread <paramref name="j"/> of <paramref name="g"/> taking indices ≡ j (mod g). When the first two levels
    /// (strides width/2 and width/4) are both the thread's own (width ≥ 4g) they are folded while loading:
    /// sh[i] = (x_i ⊕ x_{i+w/2}) ⊕ (x_{i+w/4} ⊕ x_{i+3w/4}). Returns the first level still to fold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LoadLeaves(ArrayView<float> x, long start, long end, int width, int j, int g, int mode, ArrayView<float> sh)
    {
        float id = Identity(mode);
        int combine = CombineOf(mode);
        if (width >= 4 * g)
        {
            int q = width / 4;
            for (int i = j; i < q; i += g)
            {
                long k = start + i;
                float a = Combine(combine, Element(x, k, end, mode, id), Element(x, k + 2 * q, end, mode, id));
                float b = Combine(combine, Element(x, k + q, end, mode, id), Element(x, k + 3 * q, end, mode, id));
                sh[i] = Combine(combine, a, b);
            }
            return width / 8;
        }
        for (int i = j; i < width; i += g) sh[i] = Element(x, start + i, end, mode, id);
        return width / 2;
    }

    /// <summary>Folds the tree levels s, s/2, … while s ≥ <paramref name="g"/>, thread <paramref name="j"/> touching
    /// only indices ≡ j (mod g), so no other thread is involved. Returns the first level left to do (0 when
    /// <paramref name="g"/> is 1: sh[0] then holds the result).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FoldOwnLevels(ArrayView<float> sh, int s, int j, int g, int combine)
    {
        for (; s >= g; s /= 2)
            for (int i = j; i < s; i += g) sh[i] = Combine(combine, sh[i], sh[i + s]);
        return s;
    }

    /// <summary>Loads x[start, start + width) and reduces it into sh[0] by the fixed tree sh[i] ⊕= sh[i + s],
    /// s = width/2 … 1, across the group (group size ≤ width): own levels first, then the rest with barriers.
    /// Every thread of the group must call it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GroupTree(ArrayView<float> x, long start, long end, int width, int mode, ArrayView<float> sh)
    {
        int j = Group.IdxX, g = Group.DimX, combine = CombineOf(mode);
        int s = FoldOwnLevels(sh, LoadLeaves(x, start, end, width, j, g, mode, sh), j, g, combine);
        Group.Barrier();
        for (; s > 0; s /= 2)
        {
            if (j < s) sh[j] = Combine(combine, sh[j], sh[j + s]);
            Group.Barrier();
        }
    }

    /// <summary>The same tree computed by one thread alone; returns its value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SerialTree(ArrayView<float> x, long start, long end, int width, int mode, ArrayView<float> sh)
    {
        FoldOwnLevels(sh, LoadLeaves(x, start, end, width, 0, 1, mode, sh), 0, 1, CombineOf(mode));
        return sh[0];
    }

    /// <summary>Group b reduces x[b·width, min(n, (b+1)·width)) (identity-padded to width) into y[b].</summary>
    private static void BlockReduceKernel(ArrayView<float> x, int n, int width, int mode, ArrayView<float> y)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int b = Grid.IdxX;
        GroupTree(x, (long)b * width, n, width, mode, sh);
        if (Group.IdxX == 0) y[b] = Finish(mode, sh[0]);
    }

    /// <summary>CPU path of <see cref="BlockReduceKernel"/>: thread t reduces its run of whole blocks one after the
    /// other, each by the same tree, in its own workspace work[t·width, (t+1)·width).</summary>
    private static void BlockReduceChunkedKernel(Index1D t, int per, int blocks, ArrayView<float> x, int n, int width, int mode, ArrayView<float> y, ArrayView<float> work)
    {
        var sh = work.SubView((long)t.X * width, width);
        for (int b = Chunk.Start(t, per), e = Chunk.End(t, per, blocks); b < e; b++)
            y[b] = Finish(mode, SerialTree(x, (long)b * width, n, width, mode, sh));
    }

    /// <summary>Group r reduces row r of an N × C matrix into y[r]: blocks of <paramref name="width"/> columns, each by
    /// the fixed tree, folded in column order.</summary>
    private static void RowReduceKernel(ArrayView<float> x, int C, int width, int mode, ArrayView<float> y)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int r = Grid.IdxX;
        long row = (long)r * C, end = row + C;
        float acc = 0f;
        for (int c0 = 0; c0 < C; c0 += width)
        {
            GroupTree(x, row + c0, end, width, mode, sh);
            acc = c0 == 0 ? sh[0] : Combine(CombineOf(mode), acc, sh[0]);
            Group.Barrier();
        }
        if (Group.IdxX == 0) y[r] = Finish(mode, acc);
    }

    /// <summary>CPU path of <see cref="RowReduceKernel"/>: thread t reduces its run of rows in its own workspace.</summary>
    private static void RowReduceChunkedKernel(Index1D t, int per, int N, ArrayView<float> x, int C, int width, int mode, ArrayView<float> y, ArrayView<float> work)
    {
        var sh = work.SubView((long)t.X * width, width);
        for (int r = Chunk.Start(t, per), e = Chunk.End(t, per, N); r < e; r++)
        {
            long row = (long)r * C, end = row + C;
            float acc = 0f;
            for (int c0 = 0; c0 < C; c0 += width)
            {
                float v = SerialTree(x, row + c0, end, width, mode, sh);
                acc = c0 == 0 ? v : Combine(CombineOf(mode), acc, v);
            }
            y[r] = Finish(mode, acc);
        }
    }
}
