using ILGPU.Runtime.Cuda;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Kernels.Cpu;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

/// <summary>
/// The tensor-core path without a GPU: the TF32 and BF16 roundings against their float64 definitions, the kernels' fragment
/// layout against the PTX ISA's tables, the kernels replayed lane by lane on the CPU against a float64 product (a layout
/// error makes the replay wrong), and the kernels' PTX, which must use <c>mma.sync</c>.
/// </summary>
public sealed class TensorCoreTests
{
    /// <summary>TF32: the float64 value rounded to 10 mantissa bits, to nearest, ties away from zero.</summary>
    private static float Tf32Definition(float x)
    {
        if (x == 0 || !float.IsFinite(x)) return x;
        double ulp = Math.ScaleB(1.0, Math.Max(Math.ILogB(x), -126) - 10);
        return (float)(Math.Sign(x) * Math.Floor(Math.Abs((double)x) / ulp + 0.5) * ulp);
    }

    /// <summary>BF16: the float64 value rounded to 7 mantissa bits, to nearest, ties to even.</summary>
    private static float Bf16Definition(float x)
    {
        if (x == 0 || !float.IsFinite(x)) return x;
        double ulp = Math.ScaleB(1.0, Math.Max(Math.ILogB(x), -126) - 7);
        return (float)(Math.Round((double)x / ulp, MidpointRounding.ToEven) * ulp);
    }

    [Fact]
    public void RoundingsMatchTheirFloat64Definitions()
    {
        var rng = new Random(5);
        var xs = new List<float> { 1f, -1f, 0f, 1.00048828125f /* 1 + 2^-11: a TF32 tie */, 1.00390625f /* 1 + 2^-8: a BF16 tie */,
            1.01171875f /* 1 + 3·2^-8: a BF16 tie, rounds up to even */, 3.4e38f, 1e-40f, -2.5e-39f };
        for (int i = 0; i < 20000; i++)
            xs.Add(BitConverter.Int32BitsToSingle(rng.Next(int.MinValue, int.MaxValue)) is var f && float.IsFinite(f) && Math.Abs(f) < 3e38f ? f : 0.5f);
        foreach (float x in xs)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(Tf32Definition(x)), BitConverter.SingleToInt32Bits(TensorCoreRounding.Tf32(x)));
            Assert.Equal(BitConverter.SingleToInt32Bits(Bf16Definition(x)), BitConverter.SingleToInt32Bits(TensorCoreRounding.Bf16(x)));
        }
        Assert.Equal(1.0009765625f, TensorCoreRounding.Tf32(1.00048828125f)); // tie away from zero
        Assert.Equal(1f, TensorCoreRounding.Bf16(1.00390625f));               // tie to even (down)
        Assert.Equal(1.015625f, TensorCoreRounding.Bf16(1.01171875f));        // tie to even (up)
    }

    [Theory]
    [InlineData(MatMulPrecision.Tf32, 4, 2)]
    [InlineData(MatMulPrecision.Bf16, 8, 4)]
    public void KernelFragmentLayoutIsTheIsas(MatMulPrecision p, int aElements, int bElements)
    {
        var layout = TensorCoreEmulator.MmaLayoutFunctions.Kernels;
        for (int lane = 0; lane < 32; lane++)
        {
            for (int i = 0; i < aElements; i++) Assert.Equal(TensorCoreEmulator.Isa.A(p, lane, i), (layout.ARow(p, lane, i), layout.ACol(p, lane, i)));
            for (int i = 0; i < bElements; i++) Assert.Equal(TensorCoreEmulator.Isa.B(p, lane, i), (layout.BRow(p, lane, i), MmaLayout.BCol(lane)));
            for (int i = 0; i < 4; i++) Assert.Equal(TensorCoreEmulator.Isa.C(lane, i), (MmaLayout.CRow(lane, i), MmaLayout.CCol(lane, i)));
        }
    }

    /// <summary>α·A·Bᵀ + β·C in float64 with A and B first passed through <paramref name="round"/>.</summary>
    private static double[] Product(float[] a, float[] b, float[] c, int M, int N, int K, float alpha, float beta, Func<float, float> round)
    {
        var y = new double[M * N];
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                double s = 0;
                for (int k = 0; k < K; k++) s += (double)round(a[i * K + k]) * round(b[j * K + k]);
                y[i * N + j] = alpha * s + (beta == 0 ? 0 : beta * (double)c[i * N + j]);
            }
        return y;
    }

    [Theory]
    [InlineData(MatMulPrecision.Tf32, 64, 32, 8, 1f, 0f)]
    [InlineData(MatMulPrecision.Tf32, 70, 45, 37, 0.5f, 1f)]
    [InlineData(MatMulPrecision.Tf32, 1, 1, 1, 1f, 0f)]
    [InlineData(MatMulPrecision.Tf32, 130, 65, 100, 1f, 0f)]
    [InlineData(MatMulPrecision.Bf16, 64, 32, 16, 1f, 0f)]
    [InlineData(MatMulPrecision.Bf16, 70, 45, 37, 0.5f, 1f)]
    [InlineData(MatMulPrecision.Bf16, 130, 65, 100, 1f, 0f)]
    public void ReplayedKernelsComputeTheProductOfTheRoundedInputs(MatMulPrecision p, int M, int N, int K, float alpha, float beta)
    {
        var a = Reference.Random(M * K, 11, -1f, 1f);
        var b = Reference.Random(N * K, 12, -1f, 1f);
        var c0 = Reference.Random(M * N, 13, -1f, 1f);
        var c = (float[])c0.Clone();
        TensorCoreEmulator.ForwardNT(p, a, b, c, M, N, K, alpha, beta);
        Func<float, float> round = p == MatMulPrecision.Tf32 ? TensorCoreRounding.Tf32 : TensorCoreRounding.Bf16;
        // against the rounded inputs the only error left is the float32 accumulation, one rounding per K step
        var rounded = Product(a, b, c0, M, N, K, alpha, beta, round);
        double steps = Math.Ceiling(K / (double)TensorCoreMatMul.Depth(p)) + 2;
        for (int i = 0; i < M * N; i++)
        {
            double scale = Math.Abs(alpha) * K + Math.Abs(beta);
            Assert.True(Math.Abs(c[i] - rounded[i]) <= steps * 6e-8 * scale + 1e-12, $"C[{i}] = {c[i]}, the rounded inputs' product {rounded[i]}");
        }
        // against the exact inputs: the rounding's error, at the precision's scale and not far below it
        var exact = Product(a, b, c0, M, N, K, alpha, beta, x => x);
        double unit = p == MatMulPrecision.Tf32 ? Math.ScaleB(1, -11) : Math.ScaleB(1, -8);
        double worst = Enumerable.Range(0, M * N).Max(i => Math.Abs(c[i] - exact[i]) / (Math.Abs(alpha) * K));
        Assert.True(worst <= 2.5 * unit, $"worst error {worst:G3} per unit of K, beyond 2.5 × {unit:G3}");
        if (K >= 8) Assert.True(worst >= 0.02 * unit, $"worst error {worst:G3}: the inputs were not rounded to {p}");
    }

    [Theory]
    [InlineData(MatMulPrecision.Tf32)]
    [InlineData(MatMulPrecision.Bf16)]
    public void AKernelLoadingARegisterFromTheWrongPlaceComputesAWrongProduct(MatMulPrecision p)
    {
        const int M = 64, N = 32, K = 32;
        var a = Reference.Random(M * K, 21, -1f, 1f);
        var b = Reference.Random(N * K, 22, -1f, 1f);
        var expected = Product(a, b, new float[M * N], M, N, K, 1f, 0f, p == MatMulPrecision.Tf32 ? TensorCoreRounding.Tf32 : TensorCoreRounding.Bf16);
        var right = TensorCoreEmulator.MmaLayoutFunctions.Kernels;
        foreach (var (what, wrong) in new[]
        {
            // registers 1 and 2 of A swapped (rows g + 8 and columns + 4 confused)
            ("A registers 1 and 2 swapped", right with { ARow = (q, lane, i) => right.ARow(q, lane, i is 1 ? 2 : i is 2 ? 1 : i), ACol = (q, lane, i) => right.ACol(q, lane, i is 1 ? 2 : i is 2 ? 1 : i) }),
            ("B registers swapped", right with { BRow = (q, lane, i) => right.BRow(q, lane, i ^ 1) }),
            ("C registers 1 and 2 swapped", right with { CRow = (lane, i) => MmaLayout.CRow(lane, i is 1 ? 2 : i is 2 ? 1 : i), CCol = (lane, i) => MmaLayout.CCol(lane, i is 1 ? 2 : i is 2 ? 1 : i) }),
        })
        {
            var c = new float[M * N];
            TensorCoreEmulator.ForwardNT(p, a, b, c, M, N, K, 1f, 0f, wrong);
            Assert.True(Reference.RelativeError(c, expected) > 0.1, $"{what}: the replay must go wrong");
        }
        var ok = new float[M * N];
        TensorCoreEmulator.ForwardNT(p, a, b, ok, M, N, K, 1f, 0f, right);
        Assert.True(Reference.RelativeError(ok, expected) < 1e-5);
    }

    [Fact]
    public void KernelsCompileToMmaSync()
    {
        var ptx = KernelCatalog.CompilePtx(CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, e => e.Name.StartsWith("TensorCoreMatMul.", StringComparison.Ordinal))
            .ToDictionary(r => r.Name);
        Assert.Equal(2, ptx.Count);
        var tf32 = ptx["TensorCoreMatMul.Tf32NtKernel"];
        var bf16 = ptx["TensorCoreMatMul.Bf16NtKernel"];
        Assert.Null(tf32.Error);
        Assert.Null(bf16.Error);
        Assert.Equal(4, CountOf(tf32.Ptx, "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32"));

        Assert.Equal(4, CountOf(bf16.Ptx, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"));

    }

    private static int CountOf(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
