using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// <c>C = α·A·Bᵀ + β·C</c> (the linear layer's <see cref="MatMulForm.NT"/> form: A [M, K], B [N, K], C [M, N], row-major) on
/// NVIDIA tensor cores through inline PTX <c>mma.sync</c>: <c>m16n8k8</c> with TF32 inputs or <c>m16n8k16</c> with BF16
/// inputs, float32 accumulators. A group of 4 warps computes a 64 × 32 tile of C, each warp a 16 × 32 slab as four 16 × 8
/// accumulator tiles; each K step stages a 64 × BK slice of A and a 32 × BK slice of B in shared memory (rows padded by 4
/// floats so that a warp's fragment loads fall on distinct banks), and each lane loads its fragments through
/// <see cref="MmaLayout"/>, rounding as it loads (<see cref="TensorCoreRounding"/>: the bits <c>cvt.rna.tf32.f32</c> and
/// <c>cvt.rn.bf16x2.f32</c> give, in integer arithmetic, because ILGPU 1.5.3 routes every inline-PTX operand through local
/// memory; only the <c>mma.sync</c> itself is inline PTX). Results are
/// deterministic on one GPU model but not bitwise equal to <see cref="MatMul"/>'s float32 path; <see cref="Cpu.TensorCoreEmulator"/>
/// reproduces the kernels' tiling and fragment arithmetic on the CPU for tests. CUDA only: ILGPU's CPU accelerator cannot
/// run inline PTX.
/// </summary>
public sealed class TensorCoreMatMul
{
    /// <summary>Rows of C per group.</summary>
    public const int BM = 64;

    /// <summary>Columns of C per group.</summary>
    public const int BN = 32;

    /// <summary>Threads per group: 4 warps.</summary>
    public const int Threads = 128;

    /// <summary>Padding of each staged row, in floats.</summary>
    public const int Pad = 4;

    private readonly KernelCache _k;

    /// <summary>Creates the op on a CUDA device's kernel cache.</summary>
    /// <exception cref="NotSupportedException">The device is not a CUDA GPU.</exception>
    public TensorCoreMatMul(KernelCache kernels)
    {
        if (kernels.Accelerator is not CudaAccelerator cuda)
            throw new NotSupportedException($"Tensor-core matrix products need a CUDA device (SM 80 or newer), not {kernels.Device}.");
        if (cuda.Architecture is { } arch && arch.Major < 8)
            throw new NotSupportedException($"Tensor-core TF32/BF16 products need SM 80 or newer; {kernels.Device} is SM {arch.Major}{arch.Minor}.");
        _k = kernels;
    }

    /// <summary>Depth of one K step: 8 for TF32 (m16n8k8), 16 for BF16 (m16n8k16).</summary>
    public static int Depth(MatMulPrecision precision) => precision switch
    {
        MatMulPrecision.Tf32 => 8,
        MatMulPrecision.Bf16 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Tensor cores run TF32 or BF16."),
    };

    /// <summary><c>C = α·A·Bᵀ + β·C</c> in <paramref name="precision"/> (TF32 or BF16); with β = 0, C is not read.</summary>
    public void ForwardNT(MatMulPrecision precision, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int M, int N, int K,
        float alpha = 1f, float beta = 0f)
    {
        if (M <= 0 || N <= 0 || K <= 0) throw new ArgumentOutOfRangeException(nameof(M), $"TensorCoreMatMul: sizes must be positive, got M={M}, N={N}, K={K}.");
        if (a.Length < (long)M * K || b.Length < (long)N * K || c.Length < (long)M * N)
            throw new ArgumentException($"TensorCoreMatMul: operands shorter than A [{M}, {K}], B [{N}, {K}], C [{M}, {N}].");
        var config = new KernelConfig(new Index3D((N + BN - 1) / BN, (M + BM - 1) / BM, 1), new Index3D(Threads, 1, 1));
        if (precision == MatMulPrecision.Tf32)
            _k.Get("TensorCoreMatMul.Tf32", acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float, float>(Tf32NtKernel))
                (config, a, b, c, M, N, K, alpha, beta);
        else if (precision == MatMulPrecision.Bf16)
            _k.Get("TensorCoreMatMul.Bf16", acc => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float, float>(Bf16NtKernel))
                (config, a, b, c, M, N, K, alpha, beta);
        else throw new ArgumentOutOfRangeException(nameof(precision), precision, "Tensor cores run TF32 or BF16.");
    }

    /// <summary>One warp's 16 × 8 float32 accumulator tile: its lane's c0–c3.</summary>
    internal struct Accumulator
    {
        public float C0, C1, C2, C3;
    }

    /// <summary>TF32 bits of x, as <c>cvt.rna.tf32.f32</c> gives them (<see cref="TensorCoreRounding.Tf32Bits"/>).</summary>
    private static uint ToTf32(float x) => TensorCoreRounding.Tf32Bits(x);

    /// <summary>Two BF16 values in one register, <paramref name="lo"/> in the low half, as <c>cvt.rn.bf16x2.f32</c> packs them
    /// (<see cref="TensorCoreRounding.Bf16Pair"/>).</summary>
    private static uint ToBf16x2(float lo, float hi) => TensorCoreRounding.Bf16Pair(lo, hi);

    /// <summary>d += A·B for one m16n8k8 TF32 tile.</summary>
    private static void MmaTf32(ref Accumulator d, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        Ref<float> d0 = d.C0, d1 = d.C1, d2 = d.C2, d3 = d.C3;
        Input<uint> x0 = a0, x1 = a1, x2 = a2, x3 = a3, y0 = b0, y1 = b1;
        CudaAsm.EmitRef("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};",
            ref d0, ref d1, ref d2, ref d3, ref x0, ref x1, ref x2, ref x3, ref y0, ref y1);
        d.C0 = d0.Value; d.C1 = d1.Value; d.C2 = d2.Value; d.C3 = d3.Value;
    }

    /// <summary>d += A·B for one m16n8k16 BF16 tile.</summary>
    private static void MmaBf16(ref Accumulator d, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1)
    {
        Ref<float> d0 = d.C0, d1 = d.C1, d2 = d.C2, d3 = d.C3;
        Input<uint> x0 = a0, x1 = a1, x2 = a2, x3 = a3, y0 = b0, y1 = b1;
        CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};",
            ref d0, ref d1, ref d2, ref d3, ref x0, ref x1, ref x2, ref x3, ref y0, ref y1);
        d.C0 = d0.Value; d.C1 = d1.Value; d.C2 = d2.Value; d.C3 = d3.Value;
    }

    /// <summary>Stages rows [row0, row0 + rows) × k [k0, k0 + depth) of a [R, K] row-major matrix into shared memory with row
    /// stride depth + <see cref="Pad"/>, zeros outside the matrix; the group's threads share the work.</summary>
    private static void Stage(ArrayView<float> src, ArrayView<float> tile, int row0, int rows, int R, int k0, int depth, int K)
    {
        int stride = depth + Pad;
        for (int e = Group.IdxX; e < rows * depth; e += Threads)
        {
            int r = e / depth, kk = e - r * depth;
            int gr = row0 + r, gk = k0 + kk;
            tile[r * stride + kk] = gr < R && gk < K ? src[(long)gr * K + gk] : 0f;
        }
    }

    /// <summary>Writes one accumulator tile: C[r, n] = α·acc + β·C[r, n] inside the matrix.</summary>
    private static void Store(ArrayView<float> c, Accumulator acc, int lane, int row0, int col0, int M, int N, float alpha, float beta)
    {
        for (int i = 0; i < 4; i++)
        {
            int r = row0 + MmaLayout.CRow(lane, i), n = col0 + MmaLayout.CCol(lane, i);
            if (r >= M || n >= N) continue;
            float v = i == 0 ? acc.C0 : i == 1 ? acc.C1 : i == 2 ? acc.C2 : acc.C3;
            long at = (long)r * N + n;
            c[at] = beta == 0f ? alpha * v : alpha * v + beta * c[at];
        }
    }

    /// <summary>The TF32 kernel: group (x, y) computes C[64·y…, 32·x…]; K in steps of 8.</summary>
    internal static void Tf32NtKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int M, int N, int K, float alpha, float beta)
    {
        const int depth = 8, stride = depth + Pad;
        var sa = SharedMemory.Allocate<float>(BM * stride);
        var sb = SharedMemory.Allocate<float>(BN * stride);
        int lane = Group.IdxX & 31, warp = Group.IdxX >> 5;
        int row0 = Grid.IdxY * BM, col0 = Grid.IdxX * BN, wr = warp * 16;
        Accumulator t0 = default, t1 = default, t2 = default, t3 = default;
        for (int k0 = 0; k0 < K; k0 += depth)
        {
            Stage(a, sa, row0, BM, M, k0, depth, K);
            Stage(b, sb, col0, BN, N, k0, depth, K);
            Group.Barrier();
            uint a0 = ToTf32(sa[(wr + MmaLayout.Tf32ARow(lane, 0)) * stride + MmaLayout.Tf32ACol(lane, 0)]);
            uint a1 = ToTf32(sa[(wr + MmaLayout.Tf32ARow(lane, 1)) * stride + MmaLayout.Tf32ACol(lane, 1)]);
            uint a2 = ToTf32(sa[(wr + MmaLayout.Tf32ARow(lane, 2)) * stride + MmaLayout.Tf32ACol(lane, 2)]);
            uint a3 = ToTf32(sa[(wr + MmaLayout.Tf32ARow(lane, 3)) * stride + MmaLayout.Tf32ACol(lane, 3)]);
            int n = MmaLayout.BCol(lane), k0r = MmaLayout.Tf32BRow(lane, 0), k1r = MmaLayout.Tf32BRow(lane, 1);
            MmaTf32(ref t0, a0, a1, a2, a3, ToTf32(sb[n * stride + k0r]), ToTf32(sb[n * stride + k1r]));
            MmaTf32(ref t1, a0, a1, a2, a3, ToTf32(sb[(8 + n) * stride + k0r]), ToTf32(sb[(8 + n) * stride + k1r]));
            MmaTf32(ref t2, a0, a1, a2, a3, ToTf32(sb[(16 + n) * stride + k0r]), ToTf32(sb[(16 + n) * stride + k1r]));
            MmaTf32(ref t3, a0, a1, a2, a3, ToTf32(sb[(24 + n) * stride + k0r]), ToTf32(sb[(24 + n) * stride + k1r]));
            Group.Barrier();
        }
        Store(c, t0, lane, row0 + wr, col0, M, N, alpha, beta);
        Store(c, t1, lane, row0 + wr, col0 + 8, M, N, alpha, beta);
        Store(c, t2, lane, row0 + wr, col0 + 16, M, N, alpha, beta);
        Store(c, t3, lane, row0 + wr, col0 + 24, M, N, alpha, beta);
    }

    /// <summary>A register of BF16 pairs of a staged [rows, 16 + Pad] tile: elements 2j and 2j + 1 of the fragment.</summary>
    private static uint PairA(ArrayView<float> s, int stride, int wr, int lane, int j) =>
        ToBf16x2(s[(wr + MmaLayout.Bf16ARow(lane, 2 * j)) * stride + MmaLayout.Bf16ACol(lane, 2 * j)],
                 s[(wr + MmaLayout.Bf16ARow(lane, 2 * j + 1)) * stride + MmaLayout.Bf16ACol(lane, 2 * j + 1)]);

    private static uint PairB(ArrayView<float> s, int stride, int n0, int lane, int j) =>
        ToBf16x2(s[(n0 + MmaLayout.BCol(lane)) * stride + MmaLayout.Bf16BRow(lane, 2 * j)],
                 s[(n0 + MmaLayout.BCol(lane)) * stride + MmaLayout.Bf16BRow(lane, 2 * j + 1)]);

    /// <summary>The BF16 kernel: group (x, y) computes C[64·y…, 32·x…]; K in steps of 16.</summary>
    internal static void Bf16NtKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int M, int N, int K, float alpha, float beta)
    {
        const int depth = 16, stride = depth + Pad;
        var sa = SharedMemory.Allocate<float>(BM * stride);
        var sb = SharedMemory.Allocate<float>(BN * stride);
        int lane = Group.IdxX & 31, warp = Group.IdxX >> 5;
        int row0 = Grid.IdxY * BM, col0 = Grid.IdxX * BN, wr = warp * 16;
        Accumulator t0 = default, t1 = default, t2 = default, t3 = default;
        for (int k0 = 0; k0 < K; k0 += depth)
        {
            Stage(a, sa, row0, BM, M, k0, depth, K);
            Stage(b, sb, col0, BN, N, k0, depth, K);
            Group.Barrier();
            uint a0 = PairA(sa, stride, wr, lane, 0), a1 = PairA(sa, stride, wr, lane, 1), a2 = PairA(sa, stride, wr, lane, 2), a3 = PairA(sa, stride, wr, lane, 3);
            MmaBf16(ref t0, a0, a1, a2, a3, PairB(sb, stride, 0, lane, 0), PairB(sb, stride, 0, lane, 1));
            MmaBf16(ref t1, a0, a1, a2, a3, PairB(sb, stride, 8, lane, 0), PairB(sb, stride, 8, lane, 1));
            MmaBf16(ref t2, a0, a1, a2, a3, PairB(sb, stride, 16, lane, 0), PairB(sb, stride, 16, lane, 1));
            MmaBf16(ref t3, a0, a1, a2, a3, PairB(sb, stride, 24, lane, 0), PairB(sb, stride, 24, lane, 1));
            Group.Barrier();
        }
        Store(c, t0, lane, row0 + wr, col0, M, N, alpha, beta);
        Store(c, t1, lane, row0 + wr, col0 + 8, M, N, alpha, beta);
        Store(c, t2, lane, row0 + wr, col0 + 16, M, N, alpha, beta);
        Store(c, t3, lane, row0 + wr, col0 + 24, M, N, alpha, beta);
    }
}
