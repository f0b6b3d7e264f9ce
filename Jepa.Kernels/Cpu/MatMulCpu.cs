using System.Buffers;
using static Jepa.Kernels.Cpu.MatMulCpuTile;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// The host (SIMD) implementation of <see cref="MatMul"/> for the CPU accelerator, working in place on host
/// memory: <c>C[i] = α·op(A[i])·op(B[i]) + β·C[i]</c> in the forms NN, NT, TN, batched with strides (stride 0
/// broadcasts A or B; a C stride of 0 sums the batch into one C), the same semantics as the ILGPU kernel.
/// <para>
/// Blocking: C is cut into a fixed grid of tasks (at most <see cref="TaskRowsMax"/> rows ×
/// <see cref="TaskCols"/> columns of one output matrix), which depends only on the shapes. A task walks
/// the K dimension (over the batch first when C sums it) in blocks of at most <see cref="KcMax"/> terms: it
/// packs its B block (KC × its columns, kept in L2, each NR-wide sliver in L1), then for each
/// <see cref="McMax"/>-row block of its rows packs A and runs the <see cref="MatMulCpuTile"/> micro-tile over
/// every MR×NR block. Partial sums between K blocks are saved raw in a per-task buffer and reloaded, so
/// every C element is one multiply-add chain over k = 0, 1, …, K − 1 in order, finished once as
/// <c>α·acc + β·C</c>.
/// </para>
/// <para>
/// Determinism: each C element belongs to exactly one task and its chain never depends on the blocking, so
/// results are bitwise identical for any number of threads (and any block sizes). Tasks run on
/// <see cref="Threads"/> workers through <c>Parallel.For</c>; each worker rents one packing buffer from
/// <see cref="ArrayPool{T}.Shared"/> per call (no large allocation in steady state).
/// </para>
/// </summary>
internal sealed unsafe class MatMulCpu
{
    /// <summary>Most k terms packed at once: a B sliver (KC·NR floats, 16 KiB) stays in L1.</summary>
    public const int KcMax = 256;

    /// <summary>Most rows of A packed at once (KC·MC floats, 96 KiB, in L2).</summary>
    public const int McMax = 96;

    /// <summary>Columns of C per task: a packed B block of KC × 256 floats (256 KiB, in L2), and each packed A
    /// block serves 16 slivers of B.</summary>
    public const int TaskCols = 256;

    /// <summary>Most rows of C per task (a multiple of MR); tasks of one column split M evenly.</summary>
    public const int TaskRowsMax = 384;

    /// <summary>Creates the host product with <paramref name="threads"/> workers and the given instruction set.</summary>
    public MatMulCpu(int threads, MatMulSimd simd)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "MatMul host path: at least one thread.");
        Threads = threads;
        Simd = simd;
    }

    /// <summary>Workers that run the tasks of one product.</summary>
    public int Threads { get; }

    /// <summary>The micro-tile's instruction set.</summary>
    public MatMulSimd Simd { get; }

    /// <summary>Computes the product (arguments already validated by <see cref="MatMul"/>). C must not overlap A or B.</summary>
    public void Run(MatMulForm form, float* a, float* b, float* c, int M, int N, int K, MatMulBatch s, float alpha, float beta)
    {
        var job = new Job(form, a, b, c, M, N, K, s, alpha, beta, Simd);
        int workers = Math.Min(Threads, job.Tasks);
        if (workers <= 1)
        {
            var buffer = ArrayPool<float>.Shared.Rent(job.BufferFloats);
            try
            {
                for (int t = 0; t < job.Tasks; t++) job.RunTask(t, buffer);
            }
            finally { ArrayPool<float>.Shared.Return(buffer); }
            return;
        }
        Parallel.For(0, job.Tasks, new ParallelOptions { MaxDegreeOfParallelism = workers },
            () => ArrayPool<float>.Shared.Rent(job.BufferFloats),
            (t, _, buffer) => { job.RunTask(t, buffer); return buffer; },
            buffer => ArrayPool<float>.Shared.Return(buffer));
    }

    /// <summary>One product: its operands, its fixed task grid and the buffer sizes every task needs.</summary>
    private sealed class Job
    {
        private readonly float* _a, _b, _c;
        private readonly int _m, _n, _k;
        private readonly bool _transA, _transB, _sum;
        private readonly long _strideA, _strideB, _strideC;
        private readonly float _alpha, _beta;
        private readonly MatMulSimd _simd;
        private readonly int _kc, _kBlocks, _steps;
        private readonly int _taskRows, _rowTasks, _colTasks, _taskColsPadded;
        private readonly int _aFloats, _bFloats, _scratchFloats;

        public Job(MatMulForm form, float* a, float* b, float* c, int M, int N, int K, MatMulBatch s, float alpha, float beta, MatMulSimd simd)
        {
            _a = a; _b = b; _c = c;
            (_m, _n, _k, _alpha, _beta, _simd) = (M, N, K, alpha, beta, simd);
            _transA = form == MatMulForm.TN;
            _transB = form == MatMulForm.NT;
            _sum = s.StrideC == 0 && s.Count > 1;
            (_strideA, _strideB, _strideC) = (s.StrideA, s.StrideB, s.StrideC);
            int outputs = _sum ? 1 : s.Count;

            _kBlocks = Ceil(K, KcMax);
            _kc = Ceil(K, _kBlocks);
            _steps = (_sum ? s.Count : 1) * _kBlocks;

            _rowTasks = Ceil(M, TaskRowsMax);
            _taskRows = RoundUp(Ceil(M, _rowTasks), MR);
            _rowTasks = Ceil(M, _taskRows);
            _colTasks = Ceil(N, TaskCols);
            _taskColsPadded = RoundUp(Math.Min(N, TaskCols), NR);
            Tasks = checked(outputs * _rowTasks * _colTasks);

            _aFloats = RoundUp(RoundUp(Math.Min(McMax, _taskRows), MR) * _kc, Align);
            _bFloats = _taskColsPadded * _kc;
            _scratchFloats = _steps > 1 ? _taskRows * _taskColsPadded : 0;
            BufferFloats = _aFloats + _bFloats + _scratchFloats + MR * NR + Align;
        }

        /// <summary>Floats per 64-byte cache line: every buffer region starts on one.</summary>
        private const int Align = 16;

        /// <summary>Independent tasks (C blocks).</summary>
        public int Tasks { get; }

        /// <summary>Floats of one worker's buffer: packed A, packed B, saved partial sums, an edge tile.</summary>
        public int BufferFloats { get; }

        /// <summary>Computes task <paramref name="t"/>'s block of C completely.</summary>
        public void RunTask(int t, float[] buffer)
        {
            int perOutput = _rowTasks * _colTasks;
            int z = t / perOutput, ri = t % perOutput / _colTasks, ci = t % _colTasks;
            int m0 = ri * _taskRows, rows = Math.Min(_taskRows, _m - m0);
            int n0 = ci * TaskCols, cols = Math.Min(TaskCols, _n - n0);
            int mc = RoundUp(Ceil(rows, Ceil(rows, McMax)), MR);
            long ldScratch = _taskColsPadded;
            float* cz = _c + z * _strideC;

            fixed (float* raw = buffer)
            {
                float* ap = (float*)(((nint)raw + 63) & ~(nint)63);
                float* bp = ap + _aFloats;
                float* scratch = bp + _bFloats;
                float* edge = scratch + _scratchFloats;

                for (int step = 0; step < _steps; step++)
                {
                    int kb = step % _kBlocks, k0 = kb * _kc, kc = Math.Min(_kc, _k - k0);
                    long batch = _sum ? step / _kBlocks : z;
                    float* az = _a + batch * _strideA, bz = _b + batch * _strideB;
                    bool first = step == 0, last = step == _steps - 1;
                    MatMulCpuPack.B(_transB, bz, _n, _k, n0, cols, k0, kc, bp);
                    for (int ic = 0; ic < rows; ic += mc)
                    {
                        int mrows = Math.Min(mc, rows - ic);
                        MatMulCpuPack.A(_transA, az, _m, _k, m0 + ic, mrows, k0, kc, ap);
                        for (int jr = 0; jr < cols; jr += NR)
                        {
                            int w = Math.Min(NR, cols - jr);
                            float* bs = bp + (long)jr * kc;
                            for (int ir = 0; ir < mrows; ir += MR)
                            {
                                int h = Math.Min(MR, mrows - ir);
                                float* as_ = ap + (long)ir * kc;
                                float* saved = scratch + (ic + ir) * ldScratch + jr;
                                float* src = first ? null : saved;
                                if (!last)
                                {
                                    MatMulCpuTile.Run(_simd, kc, as_, bs, src, ldScratch, saved, ldScratch, raw: true, 0f, 0f);
                                    continue;
                                }
                                float* cTile = cz + (long)(m0 + ic + ir) * _n + n0 + jr;
                                if (h == MR && w == NR)
                                {
                                    MatMulCpuTile.Run(_simd, kc, as_, bs, src, ldScratch, cTile, _n, raw: false, _alpha, _beta);
                                }
                                else
                                {
                                    MatMulCpuTile.Run(_simd, kc, as_, bs, src, ldScratch, edge, NR, raw: true, 0f, 0f);
                                    MatMulCpuTile.FinishEdge(edge, cTile, _n, h, w, _alpha, _beta);
                                }
                            }
                        }
                    }
                }
            }
        }

        private static int Ceil(int n, int d) => (n + d - 1) / d;

        private static int RoundUp(int n, int m) => Ceil(n, m) * m;
    }
}
