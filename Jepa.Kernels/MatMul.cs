using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Batched row-major matrix products <c>C[i] = α·op(A[i])·op(B[i]) + β·C[i]</c> in the forms
/// <see cref="MatMulForm.NN"/>, <see cref="MatMulForm.NT"/> and <see cref="MatMulForm.TN"/>, with their
/// backward next to them. One shared-memory tiled kernel serves every form: a group computes a
/// <c>BM×BN</c> tile of C, stages <c>BK</c>-wide slices of A and B in dynamic shared memory (transposing
/// at the load), and each thread keeps a 4×4 micro-tile of C in registers. Tile sizes come from the
/// device's <see cref="LaunchGeometry"/>. Every C element is summed by one thread over k = 0, 1, …, K − 1
/// in order (over the batch first when C is shared), so results are deterministic and do not depend on
/// the tile sizes or the CPU thread count.
/// <para>
/// On the CPU accelerator, where that kernel runs at 0.1–0.2 GFLOP/s, the same products run by default on a
/// SIMD host implementation (packed panels, a 6×16 Vector256 FMA micro-tile, cache blocking, one task per
/// block of C on <see cref="LaunchGeometry.CpuChunks"/> threads) working in place on the accelerator's
/// buffers, which are host memory. It too sums each C element in k order in one chain, so its results are
/// bitwise independent of the thread count; they differ from the kernel's only by rounding.
/// <see cref="KernelPath"/> picks the path.
/// </para>
/// </summary>
public sealed class MatMul
{
    /// <summary>Rows of C per thread (the micro-tile height), fixed in the kernel.</summary>
    private const int TM = 4;

    /// <summary>Columns of C per thread (the micro-tile width), fixed in the kernel.</summary>
    private const int TN = 4;

    private readonly KernelCache _k;
    private readonly int _bm, _bn, _bk;
    private readonly MatMulCpu? _host;
    private readonly TensorCoreMatMul? _tensorCores;

    /// <summary>Creates the op on a device's kernel cache. Unless <paramref name="tile"/> is given, tile sizes
    /// come from the device's geometry: 64×64 tiles, 16 deep (256 threads) on GPUs; 32×32 tiles up to 1024
    /// deep (64 threads) on the CPU accelerator, whose group barriers are OS-thread barriers (around a
    /// millisecond each on a 2-core machine), so it stages as much of K at once as it can. Results do not
    /// depend on the tile sizes (bitwise).</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="tile">Optional (BM, BN, BK) of the kernel path: BM and BN multiples of 4 with (BM/4)·(BN/4)
    /// threads within the device's group limit, and two BK-deep slices within its shared memory. A launch
    /// stages min(BK, K). The host path ignores it.</param>
    /// <param name="path">Which implementation runs: by default the SIMD host path on the CPU accelerator and the
    /// kernel elsewhere; <see cref="KernelPath.Kernel"/> forces the ILGPU kernel (to test it on the CPU).</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public MatMul(KernelCache kernels, (int BM, int BN, int BK)? tile = null, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        var g = kernels.Device.Geometry;
        if (path is not (KernelPath.Auto or KernelPath.Kernel or KernelPath.Host))
            throw new ArgumentOutOfRangeException(nameof(path), path, "MatMul: unknown path.");
        if (path == KernelPath.Host && g.IsGpu)
            throw new ArgumentException($"MatMul: the host path runs only on the CPU accelerator, not on {kernels.Device}; use {nameof(KernelPath)}.{nameof(KernelPath.Auto)} or {nameof(KernelPath.Kernel)}.", nameof(path));
        Path = path == KernelPath.Kernel || g.IsGpu ? KernelPath.Kernel : KernelPath.Host;
        if (Path == KernelPath.Host) _host = new MatMulCpu(g.CpuChunks, MatMulSimdSupport.Best);
        Precision = kernels.Device.MatMulPrecision;
        if (Precision != MatMulPrecision.Fp32) _tensorCores = new TensorCoreMatMul(kernels);
        if (tile is { } t)
        {
            if (t.BM <= 0 || t.BN <= 0 || t.BK <= 0 || t.BM % TM != 0 || t.BN % TN != 0)
                throw new ArgumentOutOfRangeException(nameof(tile), t, $"MatMul: tile sizes must be positive and BM, BN multiples of {TM}.");
            if ((t.BM / TM) * (t.BN / TN) > g.MaxGroupSize)
                throw new ArgumentOutOfRangeException(nameof(tile), t, $"MatMul: tile {t} needs {(t.BM / TM) * (t.BN / TN)} threads per group; the device runs at most {g.MaxGroupSize}.");
            long bytes = (long)SharedFloats(t.BM, t.BN, t.BK) * sizeof(float);
            if (bytes > kernels.Accelerator.MaxSharedMemoryPerGroup)
                throw new ArgumentOutOfRangeException(nameof(tile), t, $"MatMul: tile {t} needs {bytes} bytes of shared memory; the device has {kernels.Accelerator.MaxSharedMemoryPerGroup} per group.");
            (_bm, _bn, _bk) = t;
            return;
        }
        int limit = Math.Min(g.MaxGroupSize, g.IsGpu ? 256 : 64);
        int side = limit >= 256 ? 64 : limit >= 64 ? 32 : 16;
        _bm = side;
        _bn = side;
        _bk = g.IsGpu ? 16 : CpuDepth;
    }

    /// <summary>Deepest K slice on the CPU accelerator: 1024 × (32 + 32 + 2) floats ≈ 264 KiB per group.</summary>
    private const int CpuDepth = 1024;

    /// <summary>Tile of C computed by one group of the kernel path, as (BM, BN, BK), BK the deepest K slice
    /// staged at once; the group has (BM/4)·(BN/4) threads.</summary>
    public (int BM, int BN, int BK) Tile => (_bm, _bn, _bk);

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>
    /// (never <see cref="KernelPath.Auto"/>).</summary>
    public KernelPath Path { get; }

    /// <summary>The device's <see cref="MatMulPrecision"/>: with TF32 or BF16, unbatched <see cref="MatMulForm.NT"/> forward
    /// products (the linear layers' x·Wᵀ) run on <see cref="TensorCoreMatMul"/>; the other forms and every backward product
    /// stay float32.</summary>
    public MatMulPrecision Precision { get; }

    // ---------------------------------------------------------------- forward

    /// <summary>
    /// <c>C = α·op(A)·op(B) + β·C</c> with C <c>[M, N]</c>, op(A) <c>[M, K]</c> and op(B) <c>[K, N]</c>
    /// (storage shapes per <see cref="MatMulForm"/>), for each product of <paramref name="batch"/>
    /// (default: one). With β = 0, C is not read (it may hold anything). C must not overlap A or B.
    /// </summary>
    public void Forward(MatMulForm form, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        int M, int N, int K, float alpha = 1f, float beta = 0f, MatMulBatch? batch = null)
    {
        const string op = "MatMul";
        var s = Validate(op, M, N, K, batch);
        CheckOperand(op, nameof(a), a, s.Count, s.StrideA, M * K, output: false);
        CheckOperand(op, nameof(b), b, s.Count, s.StrideB, K * N, output: false);
        CheckOperand(op, nameof(c), c, s.Count, s.StrideC, M * N, output: true);
        if (_tensorCores is { } tc && form == MatMulForm.NT && s.Count == 1)
        {
            tc.ForwardNT(Precision, a, b, c, M, N, K, alpha, beta);
            return;
        }
        Launch(op, form, a, b, c, M, N, K, s, alpha, beta);
    }

    // ---------------------------------------------------------------- backward

    /// <summary>
    /// Backward of <see cref="Forward"/> (with β = 0 there): <c>dA += α·∂</c> and <c>dB += α·∂</c> for the
    /// upstream gradient <paramref name="dc"/> of C. For <see cref="MatMulForm.NT"/> (a linear layer
    /// <c>y = x·Wᵀ</c>) that is <c>dA += dC·B</c> and <c>dB += dCᵀ·A</c>; for <see cref="MatMulForm.NN"/>
    /// <c>dA += dC·Bᵀ</c> and <c>dB += Aᵀ·dC</c>; for <see cref="MatMulForm.TN"/> <c>dA += B·dCᵀ</c> and
    /// <c>dB += A·dC</c>. Gradients share the layout (and batch strides) of their operands; a broadcast
    /// operand (stride 0) receives the sum over the batch.
    /// </summary>
    public void Backward(MatMulForm form, ArrayView<float> dc, ArrayView<float> a, ArrayView<float> b,
        ArrayView<float> da, ArrayView<float> db, int M, int N, int K, float alpha = 1f, MatMulBatch? batch = null)
    {
        BackwardA(form, dc, b, da, M, N, K, alpha, batch);
        BackwardB(form, dc, a, db, M, N, K, alpha, batch);
    }

    /// <summary>The A half of <see cref="Backward"/>: <c>dA += α·∂L/∂A</c> (needs only dC and B).</summary>
    public void BackwardA(MatMulForm form, ArrayView<float> dc, ArrayView<float> b, ArrayView<float> da,
        int M, int N, int K, float alpha = 1f, MatMulBatch? batch = null)
    {
        const string op = "MatMul.BackwardA";
        var s = Validate(op, M, N, K, batch);
        CheckOperand(op, nameof(dc), dc, s.Count, s.StrideC, M * N, output: false);
        CheckOperand(op, nameof(b), b, s.Count, s.StrideB, K * N, output: false);
        CheckOperand(op, nameof(da), da, s.Count, s.StrideA, M * K, output: true);
        switch (form)
        {
            case MatMulForm.NN: // dA[M,K] += dC[M,N]·B[K,N]ᵀ
                Launch(op, MatMulForm.NT, dc, b, da, M, K, N, new(s.Count, s.StrideC, s.StrideB, s.StrideA), alpha, 1f);
                break;
            case MatMulForm.NT: // dA[M,K] += dC[M,N]·B[N,K]
                Launch(op, MatMulForm.NN, dc, b, da, M, K, N, new(s.Count, s.StrideC, s.StrideB, s.StrideA), alpha, 1f);
                break;
            case MatMulForm.TN: // dA[K,M] += B[K,N]·dC[M,N]ᵀ
                Launch(op, MatMulForm.NT, b, dc, da, K, M, N, new(s.Count, s.StrideB, s.StrideC, s.StrideA), alpha, 1f);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(form), form, $"{op}: unknown form.");
        }
    }

    /// <summary>The B half of <see cref="Backward"/>: <c>dB += α·∂L/∂B</c> (needs only dC and A).</summary>
    public void BackwardB(MatMulForm form, ArrayView<float> dc, ArrayView<float> a, ArrayView<float> db,
        int M, int N, int K, float alpha = 1f, MatMulBatch? batch = null)
    {
        const string op = "MatMul.BackwardB";
        var s = Validate(op, M, N, K, batch);
        CheckOperand(op, nameof(dc), dc, s.Count, s.StrideC, M * N, output: false);
        CheckOperand(op, nameof(a), a, s.Count, s.StrideA, M * K, output: false);
        CheckOperand(op, nameof(db), db, s.Count, s.StrideB, K * N, output: true);
        switch (form)
        {
            case MatMulForm.NN: // dB[K,N] += A[M,K]ᵀ·dC[M,N]
                Launch(op, MatMulForm.TN, a, dc, db, K, N, M, new(s.Count, s.StrideA, s.StrideC, s.StrideB), alpha, 1f);
                break;
            case MatMulForm.NT: // dB[N,K] += dC[M,N]ᵀ·A[M,K]
                Launch(op, MatMulForm.TN, dc, a, db, N, K, M, new(s.Count, s.StrideC, s.StrideA, s.StrideB), alpha, 1f);
                break;
            case MatMulForm.TN: // dB[K,N] += A[K,M]·dC[M,N]
                Launch(op, MatMulForm.NN, a, dc, db, K, N, M, new(s.Count, s.StrideA, s.StrideC, s.StrideB), alpha, 1f);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(form), form, $"{op}: unknown form.");
        }
    }

    // ---------------------------------------------------------------- launch

    private static MatMulBatch Validate(string op, int M, int N, int K, MatMulBatch? batch)
    {
        var s = batch ?? MatMulBatch.Single;
        Check.Positive(op, (nameof(M), M), (nameof(K), K));
        Check.Positive(op, (nameof(K), K), (nameof(N), N));
        Check.Positive(op, (nameof(M), M), (nameof(N), N));
        Check.Positive(op, ("batch.Count", s.Count));
        if (s.StrideA < 0 || s.StrideB < 0 || s.StrideC < 0)
            throw new ArgumentOutOfRangeException(nameof(batch), s, $"{op}: batch strides must not be negative.");
        return s;
    }

    /// <summary>Checks one operand's view covers <paramref name="count"/> matrices of <paramref name="size"/>
    /// elements <paramref name="stride"/> apart; an output's matrices must not overlap unless all coincide.</summary>
    private static void CheckOperand(string op, string name, ArrayView<float> view, int count, long stride, int size, bool output)
    {
        if (output && count > 1 && stride != 0 && stride < size)
            throw new ArgumentException($"{op}: the batch stride of '{name}' ({stride}) is smaller than one matrix ({size} elements), so outputs would overlap; use 0 to sum the batch.", name);
        Check.Length(op, name, view, (count - 1) * stride + size);
    }

    private void Launch(string op, MatMulForm form, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        int M, int N, int K, MatMulBatch s, float alpha, float beta)
    {
        if (_host is { } host)
        {
            RunHost(host, form, a, b, c, M, N, K, s, alpha, beta);
            return;
        }
        bool sum = s.StrideC == 0 && s.Count > 1;
        var grid = new Index3D((N + _bn - 1) / _bn, (M + _bm - 1) / _bm, sum ? 1 : s.Count);
        var max = _k.Accelerator.MaxGridSize;
        if (grid.X > max.X || grid.Y > max.Y || grid.Z > max.Z)
            throw new ArgumentException($"{op}: {M}×{N} in {s.Count} batches needs a grid of {grid}, beyond the device's {max}.");
        var args = new Args(M, N, K, form == MatMulForm.TN ? 1 : 0, form == MatMulForm.NT ? 1 : 0,
            sum ? s.Count : 1, s.StrideA, s.StrideB, s.StrideC, alpha, beta);
        int threads = (_bm / TM) * (_bn / TN), bk = Math.Min(_bk, K);
        var config = new KernelConfig(grid, new Index3D(threads, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(SharedFloats(_bm, _bn, bk)));
        _k.Get("MatMul.Tiled", acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, Args, int, int, int>(TiledKernel))
            (config, a, b, c, args, _bm, _bn, bk);
    }

    /// <summary>Runs the product on the host path, in place on the CPU accelerator's buffers (<see cref="HostView"/>).
    /// Work queued on the accelerator's stream finishes first (the CPU accelerator launches synchronously,
    /// so this costs nothing there).</summary>
    private unsafe void RunHost(MatMulCpu host, MatMulForm form, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        int M, int N, int K, MatMulBatch s, float alpha, float beta)
    {
        _k.Accelerator.DefaultStream.Synchronize();
        host.Run(form, HostView.Ptr(a, nameof(a)), HostView.Ptr(b, nameof(b)), HostView.Ptr(c, nameof(c)), M, N, K, s, alpha, beta);
    }

    /// <summary>Shared memory of one group: a BK×(BM+1) slice of op(A) and a BK×(BN+1) slice of op(B),
    /// k-major; the extra column keeps transposing stores off a single bank.</summary>
    private static int SharedFloats(int bm, int bn, int bk) => bk * (bm + 1) + bk * (bn + 1);

    /// <summary>Sizes, layout and scalars of one launch (a struct keeps the kernel's parameter list short).
    /// Internal, not private: ILGPU's CPU accelerator builds its launcher in the <c>ILGPURuntime</c> assembly.</summary>
    internal readonly struct Args(int m, int n, int k, int transA, int transB, int sumBatches,
        long strideA, long strideB, long strideC, float alpha, float beta)
    {
        public readonly int M = m, N = n, K = k;
        /// <summary>1 when A is stored [K, M] (form TN).</summary>
        public readonly int TransA = transA;
        /// <summary>1 when B is stored [N, K] (form NT).</summary>
        public readonly int TransB = transB;
        /// <summary>Batches summed into one C by each group (1 unless C's stride is 0).</summary>
        public readonly int SumBatches = sumBatches;
        public readonly long StrideA = strideA, StrideB = strideB, StrideC = strideC;
        public readonly float Alpha = alpha, Beta = beta;
    }

    // ---------------------------------------------------------------- kernel

    /// <summary>
    /// Group (x, y, z) computes rows [y·BM, y·BM + BM) and columns [x·BN, x·BN + BN) of C in batch z.
    /// Thread (tx, ty) of the (BN/4)×(BM/4) group owns rows ty + i·BM/4 and columns tx + j·BN/4
    /// (i, j &lt; 4), which keeps shared-memory reads and C stores contiguous across neighbouring threads.
    /// </summary>
    private static void TiledKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, Args p, int bm, int bn, int bk)
    {
        var tile = SharedMemory.GetDynamic<float>();
        int lda = bm + 1, ldb = bn + 1, bBase = bk * lda;
        int tid = Group.IdxX, threads = Group.DimX;
        int colThreads = bn / TN, rowThreads = bm / TM;
        int tx = tid % colThreads, ty = tid / colThreads;
        int m0 = Grid.IdxY * bm, n0 = Grid.IdxX * bn;

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        for (int s = 0; s < p.SumBatches; s++)
        {
            long batch = p.SumBatches > 1 ? s : Grid.IdxZ;
            long aOff = batch * p.StrideA, bOff = batch * p.StrideB;
            for (int k0 = 0; k0 < p.K; k0 += bk)
            {
                // Stage op(A)[m0.., k0..] as tile[kk·lda + m]; neighbouring threads read neighbouring addresses.
                for (int i = tid; i < bm * bk; i += threads)
                {
                    int m, kk;
                    if (p.TransA != 0) { kk = i / bm; m = i - kk * bm; }
                    else { m = i / bk; kk = i - m * bk; }
                    int gm = m0 + m, gk = k0 + kk;
                    float v = 0f;
                    if (gm < p.M && gk < p.K)
                        v = a[aOff + (p.TransA != 0 ? (long)gk * p.M + gm : (long)gm * p.K + gk)];
                    tile[kk * lda + m] = v;
                }
                // Stage op(B)[k0.., n0..] as tile[bBase + kk·ldb + n].
                for (int i = tid; i < bn * bk; i += threads)
                {
                    int n, kk;
                    if (p.TransB != 0) { n = i / bk; kk = i - n * bk; }
                    else { kk = i / bn; n = i - kk * bn; }
                    int gn = n0 + n, gk = k0 + kk;
                    float v = 0f;
                    if (gn < p.N && gk < p.K)
                        v = b[bOff + (p.TransB != 0 ? (long)gn * p.K + gk : (long)gk * p.N + gn)];
                    tile[bBase + kk * ldb + n] = v;
                }
                Group.Barrier();

                int kEnd = Math.Min(bk, p.K - k0);
                for (int kk = 0; kk < kEnd; kk++)
                {
                    int ai = kk * lda + ty, bi = bBase + kk * ldb + tx;
                    float a0 = tile[ai], a1 = tile[ai + rowThreads], a2 = tile[ai + 2 * rowThreads], a3 = tile[ai + 3 * rowThreads];
                    float b0 = tile[bi], b1 = tile[bi + colThreads], b2 = tile[bi + 2 * colThreads], b3 = tile[bi + 3 * colThreads];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
                Group.Barrier();
            }
        }

        long cOff = Grid.IdxZ * p.StrideC;
        int r0 = m0 + ty, r1 = r0 + rowThreads, r2 = r1 + rowThreads, r3 = r2 + rowThreads;
        int q0 = n0 + tx, q1 = q0 + colThreads, q2 = q1 + colThreads, q3 = q2 + colThreads;
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r0, q0, c00); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r0, q1, c01);
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r0, q2, c02); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r0, q3, c03);
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r1, q0, c10); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r1, q1, c11);
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r1, q2, c12); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r1, q3, c13);
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r2, q0, c20); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r2, q1, c21);
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r2, q2, c22); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r2, q3, c23);
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r3, q0, c30); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r3, q1, c31);
        Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r3, q2, c32); Store(c, cOff, p.M, p.N, p.Alpha, p.Beta, r3, q3, c33);
    }

    /// <summary>C[row, col] = α·acc + β·C[row, col] inside the matrix (C is not read when β = 0).</summary>
    private static void Store(ArrayView<float> c, long off, int M, int N, float alpha, float beta, int row, int col, float acc)
    {
        if (row >= M || col >= N) return;
        long i = off + (long)row * N + col;
        c[i] = beta == 0f ? alpha * acc : alpha * acc + beta * c[i];
    }
}
