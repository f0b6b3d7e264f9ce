using Jepa.Tests.Support;
using Jepa.Training.Autograd;

namespace Jepa.Tests.Kernels;

/// <summary>Centring rows on their batch mean: forward against float64, and the JEPA distance on centred embeddings
/// against finite differences through the tape.</summary>
public sealed class CenterRowsTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private static double[] CenterRef(double[] x, int N, int C)
    {
        var y = (double[])x.Clone();
        for (int c = 0; c < C; c++)
        {
            double mean = 0;
            for (int n = 0; n < N; n++) mean += x[n * C + c];
            mean /= N;
            for (int n = 0; n < N; n++) y[n * C + c] -= mean;
        }
        return y;
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(5, 3)]
    [InlineData(16, 37)]
    public void ForwardMatchesFloat64(int N, int C)
    {
        var x = Reference.Random(N * C, 51, -2f, 3f);
        using var tape = new Tape(f.Kernels, recordGradients: false);
        using var t = f.Upload(x, N, C);
        var y = tape.CenterRows(tape.Input(t)).Value.ToArray();
        Reference.AssertClose(y, CenterRef(Reference.ToDouble(x), N, C), 1e-6, "centred rows");
    }

    [Fact]
    public void CentredCosineDistanceMatchesFiniteDifferencesInBothViews()
    {
        int N = 5, C = 6;
        var p = Reference.Random(N * C, 52);
        var t = Reference.Random(N * C, 53);
        static double Cos(double[] a, double[] b, int n, int C)
        {
            double ab = 0, aa = 0, bb = 0;
            for (int c = 0; c < C; c++) { ab += a[n * C + c] * b[n * C + c]; aa += a[n * C + c] * a[n * C + c]; bb += b[n * C + c] * b[n * C + c]; }
            return ab / Math.Sqrt(aa * bb);
        }
        double Loss(double[] pd, double[] td)
        {
            var a = CenterRef(pd, N, C);
            var b = CenterRef(td, N, C);
            return Enumerable.Range(0, N).Average(n => 1 - Cos(a, b, n, C));
        }
        float[] gp, gt;
        float value;
        using (var tape = new Tape(f.Kernels))
        {
            using var tp = f.Upload(p, N, C);
            using var tt = f.Upload(t, N, C);
            var vp = tape.Input(tp, requiresGrad: true);
            var vt = tape.Input(tt, requiresGrad: true);
            var loss = tape.JepaDistance(tape.CenterRows(vp), tape.CenterRows(vt), Jepa.Kernels.JepaDistanceKind.Cosine);
            var total = tape.Combine((1f, loss));
            value = total.Value.ToArray()[0];
            tape.Backward(total);
            gp = tape.Grad(vp).ToArray();
            gt = tape.Grad(vt).ToArray();
        }
        double[] pd = Reference.ToDouble(p), td = Reference.ToDouble(t);
        Reference.AssertClose([value], [Loss(pd, td)], 1e-5, "centred cosine distance");
        Reference.AssertClose(gp, GradCheck.Numeric(x => Loss(x, td), pd), 2e-4, "d predicted");
        Reference.AssertClose(gt, GradCheck.Numeric(x => Loss(pd, x), td), 2e-4, "d target");
    }

    [Fact]
    public void OneConstantVectorNoLongerSatisfiesTheCentredDistance()
    {
        // Collapsed embeddings (every row the same) give distance 0 uncentred but 1 centred: nothing to compare.
        int N = 4, C = 3;
        var same = Enumerable.Range(0, N).SelectMany(_ => new[] { 0.3f, -1f, 2f }).ToArray();
        using var tape = new Tape(f.Kernels, recordGradients: false);
        using var a = f.Upload(same, N, C);
        using var b = f.Upload((float[])same.Clone(), N, C);
        var raw = tape.JepaDistance(tape.Input(a), tape.Input(b), Jepa.Kernels.JepaDistanceKind.Cosine).Value.ToArray()[0];
        var centred = tape.JepaDistance(tape.CenterRows(tape.Input(a)), tape.CenterRows(tape.Input(b)), Jepa.Kernels.JepaDistanceKind.Cosine).Value.ToArray()[0];
        Assert.InRange(raw, -1e-6f, 1e-6f);
        Assert.InRange(centred, 1f - 1e-6f, 1f + 1e-6f);
    }
}
