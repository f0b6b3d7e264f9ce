using System.Buffers;
using static Jepa.Kernels.Cpu.MatMulCpuTile;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host (SIMD) implementation of <see cref="MatMul"/> for the CPU accelerator, working in place on host
/// memory: <c>C[i] = α·op(A[i])·op(B[i]) + β·C[i]</c> in the forms NN, NT, TN, batched with strides (stride 0
/// broadcasts A or B; a C stride of 0 sums the batch into one C), the same semantics as the ILGPU kernel.
/// <para>
/// Blocking: the K dimension (over the batch first when C sums it) is walked in steps of at most
/// <see cref="KcMax"/> terms. Each step first packs op(B)'s K block once for the outputs at hand, shared by all
/// workers (each NR-wide sliver one work item; the block stays in L2 for the whole step), then runs one work item
/// per block of at most <see cref="McMax"/> rows of one output: it packs its rows of op(A) (kept in L1/L2) and runs
/// the <see cref="MatMulCpuTile"/> micro-tile over every MR×NR block of its rows, sliver after sliver of B. Partial
/// sums between steps are saved raw in a C-shaped scratch and reloaded, so every C element is one multiply-add
/// chain over k = 0, 1, …, K − 1 in order, finished once as <c>α·acc + β·C</c>. Nothing is packed twice, and the
/// row items are small enough to keep every worker busy (a 1024-row output makes 16). Batch outputs are taken in
/// groups so that packed B and saved partials each stay within <see cref="PackCap"/> floats.
/// </para>
/// <para>
/// Determinism: each C element belongs to exactly one item and its chain never depends on the blocking, so
/// results are bitwise identical for any number of threads (and any block sizes). Items run on
/// <see cref="Threads"/> workers (<see cref="HostParallel"/>); packing buffers come from
/// <see cref="ArrayPool{T}.Shared"/> (no large allocation in steady state).
/// </para>
/// </summary>
internal sealed unsafe class MatMulCpu
{
    /// <summary>Most k terms packed at once: a B sliver (KC·NR floats, 16 KiB) stays in L1.</summary>
    public const int KcMax = 256;

    /// <summary>Most rows of one work item (rounded to a multiple of MR): its packed A block (KC·MC floats, 64 KiB)
    /// stays in L2 while it meets every sliver of B, and a 1024-row output makes 16 items.</summary>
    public const int McMax = 64;

    /// <summary>Most floats of packed B (and, separately, of saved partial sums) held at once (16 MiB): batch outputs
    /// beyond it are handled group by group.</summary>
    public const int PackCap = 1 << 22;

    /// <summary>Floats per 64-byte cache line: every packed buffer starts on one.</summary>
    private const int Align = 16;

    /// <summary>Creates the host product with <paramref name="threads"/> workers and the given instruction set;
    /// <paramref name="packCap"/> (tests) bounds the packed B and the saved partials held at once.</summary>
    public MatMulCpu(int threads, MatMulSimd simd, int packCap = PackCap)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "MatMul host path: at least one thread.");
        if (packCap < 1) throw new ArgumentOutOfRangeException(nameof(packCap), packCap, "MatMul host path: the packing cap must be positive.");
        Threads = threads;
        Simd = simd;
        Cap = packCap;
    }

    /// <summary>Most floats of packed B (and of saved partials) held at once.</summary>
    public int Cap { get; }

    /// <summary>Workers that run the items of one product.</summary>
    public int Threads { get; }

    /// <summary>The micro-tile's instruction set.</summary>
    public MatMulSimd Simd { get; }

    /// <summary>Computes the product (arguments already validated by <see cref="MatMul"/>). C must not overlap A or B.</summary>
    public void Run(MatMulForm form, float* a, float* b, float* c, int M, int N, int K, MatMulBatch s, float alpha, float beta) =>
        new Job(form, a, b, c, M, N, K, s, alpha, beta, Simd, Cap).Run(Threads);

    /// <summary>One product: its operands, its fixed blocking and its buffers.</summary>
    private sealed class Job
    {
        private readonly float* _a, _b, _c;
        private readonly int _m, _n, _k;
        private readonly bool _transA, _transB, _sum, _sharedB;
        private readonly long _strideA, _strideB, _strideC;
        private readonly float _alpha, _beta;
        private readonly MatMulSimd _simd;
        private readonly int _outputs, _kc, _kBlocks, _steps, _mc, _rowItems, _nPad, _mPad, _slivers;
        private readonly int _zGroup, _bOut;
        private float* _bPack, _scratch;
        private int _z0;

        public Job(MatMulForm form, float* a, float* b, float* c, int M, int N, int K, MatMulBatch s, float alpha, float beta, MatMulSimd simd, int packCap)
        {
            _a = a; _b = b; _c = c;
            (_m, _n, _k, _alpha, _beta, _simd) = (M, N, K, alpha, beta, simd);
            _transA = form == MatMulForm.TN;
            _transB = form == MatMulForm.NT;
            _sum = s.StrideC == 0 && s.Count > 1;
            (_strideA, _strideB, _strideC) = (s.StrideA, s.StrideB, s.StrideC);
            _outputs = _sum ? 1 : s.Count;
            // One packed B serves every output when they all read the same B at each step.
            _sharedB = _sum || s.StrideB == 0;

            _kBlocks = Ceil(K, KcMax);
            _kc = Ceil(K, _kBlocks);
            _steps = (_sum ? s.Count : 1) * _kBlocks;

            _mc = RoundUp(Ceil(M, Ceil(M, McMax)), MR);
            _rowItems = Ceil(M, _mc);
            _nPad = RoundUp(N, NR);
            _mPad = RoundUp(M, MR);
            _slivers = _nPad / NR;
            // Outputs per group: bounded by the packed B of one step and by the saved partials.
            long perOutput = Math.Max(_sharedB ? 0 : BFloats, _steps > 1 ? ScratchFloats : 0);
            _zGroup = perOutput == 0 ? _outputs : (int)Math.Clamp(packCap / perOutput, 1, _outputs);
            _bOut = _sharedB ? 1 : _zGroup;
        }

        /// <summary>Floats of one packed B block (one step, one output).</summary>
        private long BFloats => (long)_kc * _nPad;

        /// <summary>Floats of one output's saved partial sums.</summary>
        private long ScratchFloats => (long)_mPad * _nPad;

        public void Run(int threads)
        {
            long bTotal = _bOut * BFloats + Align;
            long scratchTotal = _steps > 1 ? _zGroup * ScratchFloats : 0;
            var bRented = ArrayPool<float>.Shared.Rent(checked((int)bTotal));
            var sRented = scratchTotal > 0 ? ArrayPool<float>.Shared.Rent(checked((int)scratchTotal)) : null;
            try
            {
                fixed (float* bRaw = bRented, sRaw = sRented)
                {
                    _bPack = Aligned(bRaw);
                    _scratch = sRaw;
                    for (_z0 = 0; _z0 < _outputs; _z0 += _zGroup)
                    {
                        int outputs = Math.Min(_zGroup, _outputs - _z0), packs = (_sharedB ? 1 : outputs) * _slivers;
                        for (int step = 0; step < _steps; step++)
                        {
                            int st = step;
                            HostParallel.For(packs, threads, i => PackB(st, i));
                            HostParallel.For(outputs * _rowItems, threads, i => RunRows(st, i));
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(bRented);
                if (sRented is not null) ArrayPool<float>.Shared.Return(sRented);
            }
        }

        private (int K0, int Kc, long Batch) Step(int step, int z)
        {
            int kb = step % _kBlocks, k0 = kb * _kc;
            return (k0, Math.Min(_kc, _k - k0), _sum ? step / _kBlocks : z);
        }

        /// <summary>The current step's packed B block for output z of the current output group.</summary>
        private float* PackedB(int z) => _bPack + (_sharedB ? 0 : z - _z0) * BFloats;

        /// <summary>Packs sliver i (of output z0 + i / slivers) of this step's B block.</summary>
        private void PackB(int step, int i)
        {
            int z = _z0 + i / _slivers, sl = i % _slivers;
            var (k0, kc, batch) = Step(step, z);
            int n0 = sl * NR;
            MatMulCpuPack.B(_transB, _b + batch * _strideB, _n, _k, n0, Math.Min(NR, _n - n0), k0, kc,
                PackedB(z) + (long)n0 * kc);
        }

        /// <summary>Runs row item i (rows of output z0 + i / rowItems) for this step.</summary>
        private void RunRows(int step, int i)
        {
            int z = _z0 + i / _rowItems, m0 = i % _rowItems * _mc, rows = Math.Min(_mc, _m - m0);
            var rented = ArrayPool<float>.Shared.Rent(RoundUp(rows, MR) * _kc + MR * NR + 2 * Align);
            try
            {
                fixed (float* raw = rented)
                {
                    float* ap = Aligned(raw);
                    float* edge = ap + RoundUp(RoundUp(rows, MR) * _kc, Align);
                    RunStep(step, z, m0, rows, ap, edge);
                }
            }
            finally { ArrayPool<float>.Shared.Return(rented); }
        }

        /// <summary>A row item's step: packs its rows of A for the step's K block into <paramref name="ap"/> and runs
        /// every micro-tile of its rows.</summary>
        private void RunStep(int step, int z, int m0, int rows, float* ap, float* edge)
        {
            var (k0, kc, batch) = Step(step, z);
            bool first = step == 0, last = step == _steps - 1;
            float* bz = PackedB(z);
            float* scratch = _scratch + (z - _z0) * ScratchFloats;
            float* cz = _c + z * _strideC;
            MatMulCpuPack.A(_transA, _a + batch * _strideA, _m, _k, m0, rows, k0, kc, ap);
            for (int jr = 0; jr < _n; jr += NR)
            {
                int w = Math.Min(NR, _n - jr);
                float* bs = bz + (long)jr * kc;
                for (int ir = 0; ir < rows; ir += MR)
                {
                    int h = Math.Min(MR, rows - ir);
                    float* aSliver = ap + (long)ir * kc;
                    float* saved = scratch + (long)(m0 + ir) * _nPad + jr;
                    float* src = first ? null : saved;
                    if (!last)
                    {
                        MatMulCpuTile.Run(_simd, kc, aSliver, bs, src, _nPad, saved, _nPad, raw: true, 0f, 0f);
                        continue;
                    }
                    float* cTile = cz + (long)(m0 + ir) * _n + jr;
                    if (h == MR && w == NR)
                    {
                        MatMulCpuTile.Run(_simd, kc, aSliver, bs, src, _nPad, cTile, _n, raw: false, _alpha, _beta);
                    }
                    else
                    {
                        MatMulCpuTile.Run(_simd, kc, aSliver, bs, src, _nPad, edge, NR, raw: true, 0f, 0f);
                        MatMulCpuTile.FinishEdge(edge, cTile, _n, h, w, _alpha, _beta);
                    }
                }
            }
        }

        private static float* Aligned(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

        private static int Ceil(int n, int d) => (n + d - 1) / d;

        private static int RoundUp(int n, int m) => Ceil(n, m) * m;
    }
}
