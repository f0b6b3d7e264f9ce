using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Jepa.Kernels.Cpu;

/// <summary>Instruction set of the host matrix-product micro-tile. <see cref="Vector"/> and
/// <see cref="Scalar"/> round identically (a separate multiply and add per term); <see cref="Fma"/> rounds
/// once per term.</summary>
internal enum MatMulSimd
{
    /// <summary>Vector256 with fused multiply-add (x86 FMA3).</summary>
    Fma,

    /// <summary>Vector256 multiply then add, for AVX machines without FMA.</summary>
    Vector,

    /// <summary>Plain scalar code, where Vector256 is not hardware accelerated.</summary>
    Scalar,
}

/// <summary>Picks the fastest <see cref="MatMulSimd"/> this machine runs.</summary>
internal static class MatMulSimdSupport
{
    /// <summary>Fma when FMA3 and 256-bit vectors are hardware accelerated, else Vector when 256-bit vectors
    /// are, else Scalar.</summary>
    public static MatMulSimd Best =>
        Vector256.IsHardwareAccelerated ? (Fma.IsSupported ? MatMulSimd.Fma : MatMulSimd.Vector) : MatMulSimd.Scalar;
}
