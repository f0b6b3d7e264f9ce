using Jepa.Core;
using Jepa.Training.Evaluation;

namespace Jepa.Tests.Evaluation;

public sealed class PcaTests
{
    /// <summary>Random points a·u + b·w + noise in 12 dimensions, with u ⟂ w unit vectors, std(a) 5, std(b) 2, noise 0.1.</summary>
    private static (List<float[]> Rows, double[] U, double[] W) Planted(int n, ulong seed)
    {
        const int d = 12;
        var raw = new float[2 * d + n * (2 + d)];
        Philox.FillNormal(raw, seed, 0);
        double[] u = raw[..d].Select(x => (double)x).ToArray(), w = raw[d..(2 * d)].Select(x => (double)x).ToArray();
        Scale(u, 1 / Norm(u));
        double uw = Dot(u, w);
        for (int c = 0; c < d; c++) w[c] -= uw * u[c];
        Scale(w, 1 / Norm(w));
        var rows = new List<float[]>();
        for (int i = 0; i < n; i++)
        {
            int o = 2 * d + i * (2 + d);
            double a = 5 * raw[o], b = 2 * raw[o + 1];
            rows.Add(Enumerable.Range(0, d).Select(c => (float)(3 + a * u[c] + b * w[c] + 0.1 * raw[o + 2 + c])).ToArray());
        }
        return (rows, u, w);
    }

    [Fact]
    public void FindsAPlantedPlaneInOrder()
    {
        var (rows, u, w) = Planted(400, 11);
        var p = Pca.Project(rows);
        Assert.True(Math.Abs(Dot(p.Components[0], u)) > 0.999, $"PC1·u = {Dot(p.Components[0], u)}");
        Assert.True(Math.Abs(Dot(p.Components[1], w)) > 0.999, $"PC2·w = {Dot(p.Components[1], w)}");
        Assert.InRange(Math.Sqrt(p.Variances[0]), 4.3, 5.7);
        Assert.InRange(Math.Sqrt(p.Variances[1]), 1.7, 2.3);
        Assert.InRange(p.Explained(0) + p.Explained(1), 0.99, 1.0);
    }

    [Fact]
    public void EachComponentHoldsTheMostVarianceLeftAndTheCoordinatesAreTheProjections()
    {
        // The defining property, against 300 random unit directions (float64): none has more variance than PC1, and none
        // orthogonal to PC1 more than PC2. The coordinates are the centred rows' dot products with the components.
        var (rows, _, _) = Planted(150, 5);
        var p = Pca.Project(rows);
        int n = rows.Count, d = rows[0].Length;
        var mean = Enumerable.Range(0, d).Select(c => rows.Average(r => (double)r[c])).ToArray();
        double Variance(double[] v) => rows.Sum(r => Math.Pow(Enumerable.Range(0, d).Sum(c => (r[c] - mean[c]) * v[c]), 2)) / (n - 1);
        Assert.Equal(Variance(p.Components[0]), p.Variances[0], 1e-6);
        Assert.Equal(Variance(p.Components[1]), p.Variances[1], 1e-6);
        var dirs = new float[300 * d];
        Philox.FillNormal(dirs, 77, 0);
        for (int k = 0; k < 300; k++)
        {
            var v = dirs[(k * d)..((k + 1) * d)].Select(x => (double)x).ToArray();
            Scale(v, 1 / Norm(v));
            Assert.True(Variance(v) <= p.Variances[0] * (1 + 1e-9));
            double along = Dot(v, p.Components[0]);
            for (int c = 0; c < d; c++) v[c] -= along * p.Components[0][c];
            Scale(v, 1 / Norm(v));
            Assert.True(Variance(v) <= p.Variances[1] * (1 + 1e-9));
        }
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 2; k++)
                Assert.Equal(Enumerable.Range(0, d).Sum(c => (rows[i][c] - mean[c]) * p.Components[k][c]), p.Coordinates[i][k], 1e-6);
        Assert.Equal(0, Dot(p.Components[0], p.Components[1]), 1e-9);
    }

    [Fact]
    public void IsDeterministicAndRefusesBadInput()
    {
        var (rows, _, _) = Planted(50, 9);
        var a = Pca.Project(rows);
        var b = Pca.Project(rows);
        Assert.Equal(a.Coordinates.SelectMany(c => c), b.Coordinates.SelectMany(c => c));
        Assert.Throws<ArgumentException>(() => Pca.Project([rows[0]]));
        Assert.Throws<ArgumentException>(() => Pca.Project([rows[0], rows[1][..5]]));
        var nan = (float[])rows[1].Clone();
        nan[3] = float.NaN;
        Assert.Contains("vector 1", Assert.Throws<ArgumentException>(() => Pca.Project([rows[0], nan])).Message);
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b).Sum(t => t.First * t.Second);
    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));
    private static void Scale(double[] a, double s) { for (int i = 0; i < a.Length; i++) a[i] *= s; }
}
