using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;

namespace Jepa.Tests.Kernels;

/// <summary>SIGReg and the VICReg-style terms: kernels against float64 references written from the formulas, and their
/// gradients against finite differences of those references.</summary>
public sealed class RegularizerTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    /// <summary>Float64 SIGReg of projections p [N, M], straight from LeJEPA's definition.</summary>
    private static double SigRegRef(double[] p, int N, int M)
    {
        double total = 0;
        for (int m = 0; m < M; m++)
        {
            double s = 0;
            for (int j = 0; j < SigReg.Knots; j++)
            {
                double t = -SigReg.TMax + 2.0 * SigReg.TMax * j / (SigReg.Knots - 1);
                double re = 0, im = 0;
                for (int n = 0; n < N; n++) { re += Math.Cos(t * p[n * M + m]); im += Math.Sin(t * p[n * M + m]); }
                re /= N; im /= N;
                double w = Math.Exp(-0.5 * t * t), a = (j == 0 || j == SigReg.Knots - 1 ? 0.5 : 1) * 2 * SigReg.TMax / (SigReg.Knots - 1);
                s += a * w * ((re - w) * (re - w) + im * im);
            }
            total += N * s;
        }
        return total / M;
    }

    /// <summary>Float64 variance + κ·covariance terms of z [N, C].</summary>
    private static double VicRegRef(double[] z, int N, int C)
    {
        var mean = new double[C];
        for (int c = 0; c < C; c++) { for (int n = 0; n < N; n++) mean[c] += z[n * C + c]; mean[c] /= N; }
        double v = 0, cov = 0;
        for (int i = 0; i < C; i++)
            for (int j = 0; j < C; j++)
            {
                double s = 0;
                for (int n = 0; n < N; n++) s += (z[n * C + i] - mean[i]) * (z[n * C + j] - mean[j]);
                s /= N - 1;
                if (i == j) v += Math.Max(0, 1 - Math.Sqrt(s + VicReg.Eps));
                else cov += s * s;
            }
        return v / C + VicReg.CovarianceWeight * cov / C;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(16, 33)]
    public void SigRegForwardMatchesFloat64(int N, int M)
    {
        var p = Reference.Random(N * M, 11, -2.5f, 2.5f);
        using var tp = f.Upload(p, N, M);
        using var cf = Tensor.Empty(f.Device, SigReg.SavedLength(M));
        using var stat = Tensor.Empty(f.Device, M);
        using var loss = Tensor.Empty(f.Device, 1);
        f.Kernels.SigReg.Forward(tp.View, cf.View, stat.View, loss.View, N, M);
        Reference.AssertClose(loss.ToArray(), [SigRegRef(Reference.ToDouble(p), N, M)], 2e-5, "SIGReg loss");
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(9, 7)]
    public void SigRegBackwardMatchesFiniteDifferencesAndAccumulates(int N, int M)
    {
        var p = Reference.Random(N * M, 12, -2f, 2f);
        var dp0 = Reference.Random(N * M, 13);
        const float dloss = 0.6f;
        using var tp = f.Upload(p, N, M);
        using var cf = Tensor.Empty(f.Device, SigReg.SavedLength(M));
        using var stat = Tensor.Empty(f.Device, M);
        using var loss = Tensor.Empty(f.Device, 1);
        using var dp = f.Upload(dp0, N, M);
        f.Kernels.SigReg.Forward(tp.View, cf.View, stat.View, loss.View, N, M);
        f.Kernels.SigReg.Backward(tp.View, cf.View, dp.View, N, M, dloss);
        var numeric = GradCheck.Numeric(x => dloss * SigRegRef(x, N, M), Reference.ToDouble(p));
        Reference.AssertClose(dp.ToArray(), numeric.Select((g, i) => dp0[i] + g).ToArray(), 1e-4, "SIGReg dp");
    }

    [Fact]
    public void SigRegIsSmallForGaussianSamplesAndLargeForCollapsedOnes()
    {
        // A standard normal sample scores about ∫(1 − e^{−t²}) e^{−t²/2} dt ≈ 1.06 in expectation; a collapsed batch (every
        // embedding the same) scores N·∫(1 − e^{−t²/2})² e^{−t²/2} dt, growing with N; a batch spread ×4 too wide also scores high.
        int N = 64, C = 32, M = 64;
        var gauss = new float[N * C];
        Philox.FillNormal(gauss, 5, 0);
        var collapsed = new float[N * C];
        for (int n = 0; n < N; n++) Array.Copy(gauss, 0, collapsed, n * C, C);
        var wide = gauss.Select(x => 4 * x).ToArray();
        float Loss(float[] z)
        {
            using var tape = new Tape(f.Kernels, recordGradients: false);
            tape.SetRandomKey(1, 1, 0);
            var v = tape.Input(f.Upload(z, N, C));
            float l = tape.SigReg(v, M).Value.ToArray()[0];
            v.Value.Dispose();
            return l;
        }
        float g = Loss(gauss), c = Loss(collapsed), w = Loss(wide);
        Assert.InRange(g, 0.3, 3.0);
        Assert.True(c > 10 * g, $"collapsed {c} vs gaussian {g}");
        Assert.True(w > 5 * g, $"too wide {w} vs gaussian {g}");
    }

    [Fact]
    public void SigRegThroughTheTapeProjectsOnUnitDirectionsAndPassesGradientsToTheEmbeddings()
    {
        // The tape op = the kernel on z·Aᵀ with unit rows of A; its gradient in z matches finite differences of the whole
        // composition (same directions each call: the tape's random key is reset).
        int N = 6, C = 5, M = 9;
        var z = Reference.Random(N * C, 14, -1.5f, 1.5f);
        double Loss(double[] zd)
        {
            using var tape = new Tape(f.Kernels, recordGradients: false);
            tape.SetRandomKey(3, 7, 0);
            using var t = f.Upload(Array.ConvertAll(zd, x => (float)x), N, C);
            return tape.SigReg(tape.Input(t), M).Value.ToArray()[0];
        }
        float[] grad;
        using (var tape = new Tape(f.Kernels))
        {
            tape.SetRandomKey(3, 7, 0);
            using var t = f.Upload(z, N, C);
            var v = tape.Input(t, requiresGrad: true);
            var y = tape.SigReg(v, M);
            tape.Backward(y);
            grad = tape.Grad(v).ToArray();
        }
        var numeric = GradCheck.Numeric(Loss, Reference.ToDouble(z), 1e-2);
        Reference.AssertClose(grad, numeric, 2e-2, "SIGReg tape gradient");
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(5, 3)]
    [InlineData(17, 12)]
    public void VicRegForwardMatchesFloat64(int N, int C)
    {
        var z = Reference.Random(N * C, 21, -1.5f, 1.5f);
        using var tz = f.Upload(z, N, C);
        using var saved = Tensor.Empty(f.Device, VicReg.SavedLength(C));
        using var loss = Tensor.Empty(f.Device, 1);
        f.Kernels.VicReg.Forward(tz.View, saved.View, loss.View, N, C);
        Reference.AssertClose(loss.ToArray(), [VicRegRef(Reference.ToDouble(z), N, C)], 2e-5, "VICReg loss");
    }

    [Theory]
    [InlineData(4, 3, 0.6f)]   // the variance hinge active (std < 1) on some columns
    [InlineData(6, 5, 2.5f)]   // mostly wide columns: the covariance term dominates
    public void VicRegBackwardMatchesFiniteDifferencesAndAccumulates(int N, int C, float range)
    {
        var z = Reference.Random(N * C, 22, -range, range);
        var dz0 = Reference.Random(N * C, 23);
        const float dloss = 1.3f;
        using var tz = f.Upload(z, N, C);
        using var saved = Tensor.Empty(f.Device, VicReg.SavedLength(C));
        using var loss = Tensor.Empty(f.Device, 1);
        using var dz = f.Upload(dz0, N, C);
        f.Kernels.VicReg.Forward(tz.View, saved.View, loss.View, N, C);
        f.Kernels.VicReg.Backward(tz.View, saved.View, dz.View, N, C, dloss);
        var numeric = GradCheck.Numeric(x => dloss * VicRegRef(x, N, C), Reference.ToDouble(z));
        Reference.AssertClose(dz.ToArray(), numeric.Select((g, i) => dz0[i] + g).ToArray(), 1e-4, "VICReg dz");
    }

    [Fact]
    public void VicRegPenalisesCollapseAndNotASpreadDecorrelatedBatch()
    {
        int N = 256, C = 8;
        var spread = new float[N * C];
        Philox.FillNormal(spread, 9, 0, 0f, 1.5f);
        var collapsed = new float[N * C];
        for (int n = 0; n < N; n++) Array.Copy(spread, 0, collapsed, n * C, C);
        float Loss(float[] z)
        {
            using var tz = f.Upload(z, N, C);
            using var saved = Tensor.Empty(f.Device, VicReg.SavedLength(C));
            using var loss = Tensor.Empty(f.Device, 1);
            f.Kernels.VicReg.Forward(tz.View, saved.View, loss.View, N, C);
            return loss.ToArray()[0];
        }
        Assert.InRange(Loss(spread), 0, 0.02);
        Assert.InRange(Loss(collapsed), 0.98, 1.0);
    }
}
