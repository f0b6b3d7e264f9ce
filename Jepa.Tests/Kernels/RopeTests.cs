using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;
using Device = Jepa.Core.Device;

namespace Jepa.Tests.Kernels;

public sealed class RopeTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    /// <summary>float64 RoPE on x [B, T, H, D] with positions [B, T]; pair i turns by pos·θ^(−2i/D).</summary>
    private static double[] RopeRef(double[] x, int[] pos, int B, int T, int H, int D, double theta, RopeConvention conv)
    {
        var y = new double[x.Length];
        int half = D / 2;
        for (int bt = 0; bt < B * T; bt++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < half; i++)
                {
                    long o = ((long)bt * H + h) * D;
                    long a = conv == RopeConvention.Interleaved ? o + 2 * i : o + i;
                    long b = conv == RopeConvention.Interleaved ? a + 1 : a + half;
                    double angle = pos[bt] * Math.Pow(theta, -2.0 * i / D);
                    double c = Math.Cos(angle), s = Math.Sin(angle);
                    y[a] = x[a] * c - x[b] * s;
                    y[b] = x[b] * c + x[a] * s;
                }
        return y;
    }

    private static int[] Range(int B, int T, int start) =>
        Enumerable.Range(0, B * T).Select(i => start + i % T).ToArray();

    /// <summary>Random position ids in [0, max): packed rows that restart and far positions.</summary>
    private static int[] RandomPositions(int n, int max, ulong seed) =>
        Enumerable.Range(0, n).Select(i => (int)Philox.NextInt(seed, 3, (ulong)i, max)).ToArray();

    private static MemoryBuffer1D<int, Stride1D.Dense> UploadInts(Device d, int[] ids) => d.Accelerator.Allocate1D(ids);

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 1, 1, 2, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Host, 1, 1, 1, 2, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Kernel, 1, 1, 1, 2, RopeConvention.Interleaved)]
    [InlineData(KernelPath.Host, 1, 1, 1, 2, RopeConvention.Interleaved)]
    [InlineData(KernelPath.Kernel, 2, 5, 3, 8, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Host, 2, 5, 3, 8, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Kernel, 2, 5, 3, 8, RopeConvention.Interleaved)]
    [InlineData(KernelPath.Host, 2, 5, 3, 8, RopeConvention.Interleaved)]
    [InlineData(KernelPath.Kernel, 2, 7, 2, 64, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Host, 2, 7, 2, 64, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Kernel, 2, 7, 2, 64, RopeConvention.Interleaved)]
    [InlineData(KernelPath.Host, 2, 7, 2, 64, RopeConvention.Interleaved)]
    public void ForwardMatchesFloat64WithStartOffsetAndPositionIds(KernelPath path, int B, int T, int H, int D, RopeConvention conv)
    {
        const double theta = 10000.0;
        const int maxPos = 5000;
        int n = B * T * H * D;
        var x = Reference.Random(n, 201, -2f, 2f);
        var xd = Reference.ToDouble(x);
        using var table = f.Lib(path).Rope.CreateTable(D, maxPos, theta);
        using var tx = f.Upload(x, B, T, H, D); using var y = Tensor.Empty(f.Device, B, T, H, D);

        const int start = 4990 - 7; // far positions: float angles would be off by ~1e-3 here
        f.Lib(path).Rope.Forward(tx.View, y.View, table, B, T, H, D, conv, start);
        Reference.AssertClose(y.ToArray(), RopeRef(xd, Range(B, T, start), B, T, H, D, theta, conv), 1e-6, "start offset");

        var pos = RandomPositions(B * T, maxPos, 202);
        using var tpos = UploadInts(f.Device, pos);
        f.Lib(path).Rope.Forward(tx.View, y.View, table, tpos.View, B, T, H, D, conv);
        var want = RopeRef(xd, pos, B, T, H, D, theta, conv);
        Reference.AssertClose(y.ToArray(), want, 1e-6, "position ids");

        f.Lib(path).Rope.Forward(tx.View, tx.View, table, tpos.View, B, T, H, D, conv);
        Reference.AssertBitwiseEqual(tx.ToArray(), y.ToArray(), "in place");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void ConventionsDifferOnlyByPairing(KernelPath path)
    {
        // Interleaved RoPE of x equals rotate-half RoPE of x with its pairs de-interleaved, then re-interleaved.
        const int B = 1, T = 3, H = 2, D = 6, half = D / 2;
        int n = B * T * H * D;
        var x = Reference.Random(n, 211);
        var perm = new float[n];
        for (int r = 0; r < n / D; r++)
            for (int i = 0; i < half; i++)
            {
                perm[r * D + i] = x[r * D + 2 * i];
                perm[r * D + half + i] = x[r * D + 2 * i + 1];
            }
        using var table = f.Lib(path).Rope.CreateTable(D, 8, 500.0);
        using var tx = f.Upload(x, n); using var tp = f.Upload(perm, n);
        f.Lib(path).Rope.Forward(tx.View, tx.View, table, B, T, H, D, RopeConvention.Interleaved, 2);
        f.Lib(path).Rope.Forward(tp.View, tp.View, table, B, T, H, D, RopeConvention.RotateHalf, 2);
        float[] yi = tx.ToArray(), yr = tp.ToArray();
        for (int r = 0; r < n / D; r++)
            for (int i = 0; i < half; i++)
            {
                Assert.Equal(yr[r * D + i], yi[r * D + 2 * i]);
                Assert.Equal(yr[r * D + half + i], yi[r * D + 2 * i + 1]);
            }
    }

    [Theory]
    [InlineData(KernelPath.Kernel, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Host, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Kernel, RopeConvention.Interleaved)]
    [InlineData(KernelPath.Host, RopeConvention.Interleaved)]
    public void BackwardMatchesFiniteDifferencesAndAccumulates(KernelPath path, RopeConvention conv)
    {
        const int B = 2, T = 3, H = 2, D = 6, maxPos = 40;
        const double theta = 10000.0;
        int n = B * T * H * D;
        var x = Reference.Random(n, 221); var dy = Reference.Random(n, 222); var dx0 = Reference.Random(n, 223);
        var pos = RandomPositions(B * T, maxPos, 224);
        using var table = f.Lib(path).Rope.CreateTable(D, maxPos, theta);
        using var tdy = f.Upload(dy, n); using var dx = f.Upload(dx0, n); using var tpos = UploadInts(f.Device, pos);
        f.Lib(path).Rope.Backward(tdy.View, dx.View, table, tpos.View, B, T, H, D, conv);
        var dyd = Reference.ToDouble(dy);
        var num = GradCheck.Numeric(xs => GradCheck.Dot(RopeRef(xs, pos, B, T, H, D, theta, conv), dyd), Reference.ToDouble(x));
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), num, 1e-6, "dx (position ids)");

        dx.CopyFrom(dx0);
        f.Lib(path).Rope.Backward(tdy.View, dx.View, table, B, T, H, D, conv, 5);
        num = GradCheck.Numeric(xs => GradCheck.Dot(RopeRef(xs, Range(B, T, 5), B, T, H, D, theta, conv), dyd), Reference.ToDouble(x));
        Reference.AssertClose(Accumulation.Delta(dx.ToArray(), dx0), num, 1e-6, "dx (start offset)");
    }

    [Theory]
    [InlineData(KernelPath.Kernel, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Host, RopeConvention.RotateHalf)]
    [InlineData(KernelPath.Kernel, RopeConvention.Interleaved)]
    [InlineData(KernelPath.Host, RopeConvention.Interleaved)]
    public void BackwardOfForwardIsIdentity(KernelPath path, RopeConvention conv)
    {
        // R is orthogonal, so backward(forward(x)) = Rᵀ R x = x.
        const int B = 2, T = 9, H = 3, D = 16;
        int n = B * T * H * D;
        var x = Reference.Random(n, 231);
        using var table = f.Lib(path).Rope.CreateTable(D, 4096, 1e6);
        using var tx = f.Upload(x, n); using var y = Tensor.Empty(f.Device, n); using var back = Tensor.Zeros(f.Device, n);
        using var tpos = UploadInts(f.Device, RandomPositions(B * T, 4096, 232));
        f.Lib(path).Rope.Forward(tx.View, y.View, table, tpos.View, B, T, H, D, conv);
        f.Lib(path).Rope.Backward(y.View, back.View, table, tpos.View, B, T, H, D, conv);
        Reference.AssertClose(back.ToArray(), Reference.ToDouble(x), 1e-6, "Rᵀ R x");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void PositionOutsideTheTableGivesNaNAndStartIsChecked(KernelPath path)
    {
        const int D = 4;
        using var table = f.Lib(path).Rope.CreateTable(D, 10);
        using var tx = f.Upload(Reference.Random(2 * D, 241), 1, 2, 1, D); using var y = Tensor.Empty(f.Device, 1, 2, 1, D);
        using var tpos = UploadInts(f.Device, [3, 10]);
        f.Lib(path).Rope.Forward(tx.View, y.View, table, tpos.View, 1, 2, 1, D, RopeConvention.RotateHalf);
        var ys = y.ToArray();
        Assert.All(ys.Take(D), v => Assert.True(float.IsFinite(v)));
        Assert.All(ys.Skip(D), v => Assert.True(float.IsNaN(v)));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => f.Lib(path).Rope.Forward(tx.View, y.View, table, 1, 2, 1, D, RopeConvention.RotateHalf, 9));
        Assert.Contains("exceed", e.Message);
        Assert.Throws<ArgumentException>(() => f.Lib(path).Rope.CreateTable(5, 10));
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void IsDeterministicAcrossRunsAndCpuChunks(KernelPath path)
    {
        const int B = 2, T = 5, H = 3, D = 10;
        int n = B * T * H * D;
        var x = Reference.Random(n, 251); var dy = Reference.Random(n, 252);
        var pos = RandomPositions(B * T, 100, 253);
        Determinism.AssertRepeatableAndChunkIndependent(f, ops =>
        {
            var d = ops.Device;
            using var table = ops.Rope.CreateTable(D, 100, 10000.0);
            using var tx = Tensor.FromArray(d, x, n); using var tdy = Tensor.FromArray(d, dy, n); using var tpos = UploadInts(d, pos);
            using var y = Tensor.Empty(d, 2, n); using var dx = Tensor.Zeros(d, 2, n);
            ops.Rope.Forward(tx.View, y.View.SubView(0, n), table, B, T, H, D, RopeConvention.RotateHalf, 3);
            ops.Rope.Forward(tx.View, y.View.SubView(n, n), table, tpos.View, B, T, H, D, RopeConvention.Interleaved);
            ops.Rope.Backward(tdy.View, dx.View.SubView(0, n), table, B, T, H, D, RopeConvention.Interleaved, 3);
            ops.Rope.Backward(tdy.View, dx.View.SubView(n, n), table, tpos.View, B, T, H, D, RopeConvention.RotateHalf);
            return [.. y.ToArray(), .. dx.ToArray()];
        }, "RoPE", path);
    }
}
