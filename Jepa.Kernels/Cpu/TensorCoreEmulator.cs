using Jepa.Core;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// <see cref="TensorCoreMatMul"/>'s kernels replayed on the CPU, lane by lane: the same 64 × 32 group tiles, the same staged
/// K slices with zeros outside the matrices, each of the 32 lanes of each of the 4 warps loading its A and B fragment
/// registers through <see cref="MmaLayout"/> and rounding them as the kernels do (<see cref="TensorCoreRounding"/>), and each
/// <c>mma.sync</c> performed as the PTX ISA defines it for the warp: the 16 × k A and k × 8 B tiles are what the lanes'
/// registers hold at the positions the ISA's fragment tables give (<see cref="Isa"/>, written apart from
/// <see cref="MmaLayout"/>, so a kernel that loads a register from the wrong place computes a wrong product here), D = A·B + C,
/// and each lane keeps the accumulator registers the ISA assigns it. The products inside one <c>mma</c> are summed in
/// float64 and added to the float32 accumulator once, a model of the hardware, whose internal order the ISA leaves open.
/// </summary>
public static class TensorCoreEmulator
{
    /// <summary><c>C = α·A·Bᵀ + β·C</c> for A [M, K], B [N, K], C [M, N] row-major, as the kernel of
    /// <paramref name="precision"/> computes it.</summary>
    public static void ForwardNT(MatMulPrecision precision, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int M, int N, int K, float alpha = 1f, float beta = 0f) =>
        ForwardNT(precision, a, b, c, M, N, K, alpha, beta, MmaLayoutFunctions.Kernels);

    /// <summary>The layout functions a replay uses (the kernels' by default; a test swaps one to show the replay notices).</summary>
    /// <param name="ARow">Row of A of register or element i of a lane.</param>
    /// <param name="ACol">Column of A of it.</param>
    /// <param name="BRow">Row (k) of B of it.</param>
    /// <param name="CRow">Row of C where the kernel stores accumulator register i.</param>
    /// <param name="CCol">Column of C of it.</param>
    public sealed record MmaLayoutFunctions(Func<MatMulPrecision, int, int, int> ARow, Func<MatMulPrecision, int, int, int> ACol,
        Func<MatMulPrecision, int, int, int> BRow, Func<int, int, int> CRow, Func<int, int, int> CCol)
    {
        /// <summary>The layout of <see cref="MmaLayout"/>, which the kernels use.</summary>
        public static MmaLayoutFunctions Kernels { get; } = new(
            (p, lane, i) => p == MatMulPrecision.Tf32 ? MmaLayout.Tf32ARow(lane, i) : MmaLayout.Bf16ARow(lane, i),
            (p, lane, i) => p == MatMulPrecision.Tf32 ? MmaLayout.Tf32ACol(lane, i) : MmaLayout.Bf16ACol(lane, i),
            (p, lane, i) => p == MatMulPrecision.Tf32 ? MmaLayout.Tf32BRow(lane, i) : MmaLayout.Bf16BRow(lane, i),
            MmaLayout.CRow, MmaLayout.CCol);
    }

    /// <summary>The replay with the given layout functions.</summary>
    /// <exception cref="InvalidOperationException">The layout does not give every tile position to exactly one register.</exception>
    public static void ForwardNT(MatMulPrecision precision, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int M, int N, int K, float alpha, float beta, MmaLayoutFunctions layout)
    {
        int depth = TensorCoreMatMul.Depth(precision), bm = TensorCoreMatMul.BM, bn = TensorCoreMatMul.BN;
        int aRegs = precision == MatMulPrecision.Tf32 ? 4 : 8, bRegs = precision == MatMulPrecision.Tf32 ? 2 : 4; // elements per lane
        Func<float, float> round = precision == MatMulPrecision.Tf32 ? TensorCoreRounding.Tf32 : TensorCoreRounding.Bf16;
        var sa = new float[bm * depth];
        var sb = new float[bn * depth];
        var fa = new float[32, aRegs];
        var fb = new float[32, bRegs];
        var acc = new float[4, 4, 32, 4]; // warp, n-tile, lane, register
        var tileA = new double[16 * depth];
        var tileB = new double[depth * 8];
        var seen = new int[Math.Max(16 * depth, depth * 8)];
        for (int gy = 0; gy * bm < M; gy++)
            for (int gx = 0; gx * bn < N; gx++)
            {
                Array.Clear(acc);
                for (int k0 = 0; k0 < K; k0 += depth)
                {
                    for (int r = 0; r < bm; r++)
                        for (int kk = 0; kk < depth; kk++)
                            sa[r * depth + kk] = gy * bm + r < M && k0 + kk < K ? a[(gy * bm + r) * K + k0 + kk] : 0f;
                    for (int r = 0; r < bn; r++)
                        for (int kk = 0; kk < depth; kk++)
                            sb[r * depth + kk] = gx * bn + r < N && k0 + kk < K ? b[(gx * bn + r) * K + k0 + kk] : 0f;
                    for (int warp = 0; warp < 4; warp++)
                    {
                        for (int lane = 0; lane < 32; lane++)
                            for (int i = 0; i < aRegs; i++)
                                fa[lane, i] = round(sa[(warp * 16 + layout.ARow(precision, lane, i)) * depth + layout.ACol(precision, lane, i)]);
                        Gather(tileA, seen, 16, depth, aRegs, (lane, i) => Isa.A(precision, lane, i), fa, "A");
                        for (int t = 0; t < 4; t++)
                        {
                            for (int lane = 0; lane < 32; lane++)
                                for (int i = 0; i < bRegs; i++)
                                    fb[lane, i] = round(sb[(t * 8 + MmaLayout.BCol(lane)) * depth + layout.BRow(precision, lane, i)]);
                            Gather(tileB, seen, depth, 8, bRegs, (lane, i) => Isa.B(precision, lane, i), fb, "B");
                            for (int lane = 0; lane < 32; lane++)
                                for (int i = 0; i < 4; i++)
                                {
                                    var (r, n) = Isa.C(lane, i);
                                    double dot = 0;
                                    for (int kk = 0; kk < depth; kk++) dot += tileA[r * depth + kk] * tileB[kk * 8 + n];
                                    acc[warp, t, lane, i] = (float)(acc[warp, t, lane, i] + dot);
                                }
                        }
                    }
                }
                for (int warp = 0; warp < 4; warp++)
                    for (int t = 0; t < 4; t++)
                        for (int lane = 0; lane < 32; lane++)
                            for (int i = 0; i < 4; i++)
                            {
                                // the kernel stores register i at the place MmaLayout names; the ISA says which element it holds
                                int r = gy * bm + warp * 16 + layout.CRow(lane, i), n = gx * bn + t * 8 + layout.CCol(lane, i);
                                if (r >= M || n >= N) continue;
                                float v = acc[warp, t, lane, i];
                                c[r * N + n] = beta == 0f ? alpha * v : alpha * v + beta * c[r * N + n];
                            }
            }
    }

    /// <summary>
    /// The PTX ISA's fragment tables ("Matrix fragments for mma.m16n8k8" with .tf32, "for mma.m16n8k16" with .bf16), stated as
    /// the ISA states them, independently of <see cref="MmaLayout"/>: groupID = lane / 4, threadID_in_group = lane mod 4.
    /// </summary>
    public static class Isa
    {
        /// <summary>(row, col) in A of element <paramref name="i"/> of <paramref name="lane"/>: tf32 a0…a3, bf16 a0…a7.</summary>
        public static (int Row, int Col) A(MatMulPrecision p, int lane, int i)
        {
            int group = lane / 4, thread = lane % 4;
            if (p == MatMulPrecision.Tf32)
                return (i is 0 or 2 ? group : group + 8, i < 2 ? thread : thread + 4);
            int row = i is 0 or 1 or 4 or 5 ? group : group + 8;
            int col = thread * 2 + (i % 2) + (i < 4 ? 0 : 8);
            return (row, col);
        }

        /// <summary>(row k, col n) in B of element <paramref name="i"/>: tf32 b0, b1; bf16 b0…b3.</summary>
        public static (int Row, int Col) B(MatMulPrecision p, int lane, int i)
        {
            int group = lane / 4, thread = lane % 4;
            return p == MatMulPrecision.Tf32 ? (i == 0 ? thread : thread + 4, group) : (thread * 2 + (i % 2) + (i < 2 ? 0 : 8), group);
        }

        /// <summary>(row, col) in C/D of accumulator register <paramref name="i"/> (c0…c3), the same for both shapes.</summary>
        public static (int Row, int Col) C(int lane, int i)
        {
            int group = lane / 4, thread = lane % 4;
            return (i < 2 ? group : group + 8, thread * 2 + (i % 2));
        }
    }

    /// <summary>The warp's tile [rows, cols] from its lanes' registers, each position exactly once.</summary>
    private static void Gather(double[] tile, int[] seen, int rows, int cols, int regs, Func<int, int, (int Row, int Col)> at, float[,] frag, string name)
    {
        Array.Clear(seen);
        for (int lane = 0; lane < 32; lane++)
            for (int i = 0; i < regs; i++)
            {
                var (r, c) = at(lane, i);
                if (r < 0 || r >= rows || c < 0 || c >= cols || seen[r * cols + c]++ > 0)
                    throw new InvalidOperationException($"The {name} fragment layout puts lane {lane}'s element {i} at ({r}, {c}), outside the {rows}×{cols} tile or on a position another element holds.");
                tile[r * cols + c] = frag[lane, i];
            }
    }
}
