namespace Jepa.Kernels;

/// <summary>
/// Where each register of a warp-wide tensor-core <c>mma.sync</c> lives in its tile (PTX ISA, "Matrix fragments for
/// mma.m16n8k8" (.tf32) and "for mma.m16n8k16" (.bf16)): lane l has group g = l / 4 and thread-in-group t = l mod 4.
/// The kernels of <see cref="TensorCoreMatMul"/> load and store their fragments through these functions, and
/// <see cref="Cpu.TensorCoreEmulator"/> uses the same ones, so the emulation checks the index arithmetic the kernels run.
/// </summary>
public static class MmaLayout
{
    /// <summary>Row of A (16 × 8, row-major) that register <paramref name="i"/> (0–3) of lane <paramref name="lane"/> holds in
    /// m16n8k8.tf32: g for a0 and a2, g + 8 for a1 and a3.</summary>
    public static int Tf32ARow(int lane, int i) => (lane >> 2) + ((i & 1) << 3);

    /// <summary>Column of A of that register: t for a0 and a1, t + 4 for a2 and a3.</summary>
    public static int Tf32ACol(int lane, int i) => (lane & 3) + ((i >> 1) << 2);

    /// <summary>Row (k) of B (8 × 8, column-major) that register <paramref name="i"/> (0–1) holds in m16n8k8.tf32: t, then t + 4.</summary>
    public static int Tf32BRow(int lane, int i) => (lane & 3) + (i << 2);

    /// <summary>Column (n) of B of that register: g.</summary>
    public static int BCol(int lane) => lane >> 2;

    /// <summary>Row of the 16 × 8 accumulator that register <paramref name="i"/> (0–3) holds (both shapes): g for c0 and c1,
    /// g + 8 for c2 and c3.</summary>
    public static int CRow(int lane, int i) => (lane >> 2) + ((i >> 1) << 3);

    /// <summary>Column of the accumulator of that register: 2t for c0 and c2, 2t + 1 for c1 and c3.</summary>
    public static int CCol(int lane, int i) => ((lane & 3) << 1) + (i & 1);

    /// <summary>Row of A (16 × 16) of element <paramref name="e"/> (0–7; register e / 2, low half first) of lane
    /// <paramref name="lane"/> in m16n8k16.bf16: g for a0, a1, a4, a5 and g + 8 for a2, a3, a6, a7.</summary>
    public static int Bf16ARow(int lane, int e) => (lane >> 2) + (((e >> 1) & 1) << 3);

    /// <summary>Column of A of that element: 2t + (e mod 2), plus 8 for a4–a7.</summary>
    public static int Bf16ACol(int lane, int e) => ((lane & 3) << 1) + (e & 1) + ((e >> 2) << 3);

    /// <summary>Row (k) of B (16 × 8) of element <paramref name="e"/> (0–3; register e / 2, low half first) in m16n8k16.bf16:
    /// 2t + (e mod 2), plus 8 for b2 and b3.</summary>
    public static int Bf16BRow(int lane, int e) => ((lane & 3) << 1) + (e & 1) + ((e >> 1) << 3);
}
