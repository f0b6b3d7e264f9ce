using Jepa.Core;

namespace Jepa.Training.Evaluation;

/// <summary>The principal components of a set of vectors and the vectors' coordinates on them.</summary>
/// <param name="Components">The unit principal directions, largest variance first, each of the vectors' dimension.</param>
/// <param name="Variances">The variance of the data along each component (an eigenvalue of the covariance).</param>
/// <param name="TotalVariance">The summed variance over every dimension (the covariance's trace).</param>
/// <param name="Coordinates">Per vector, its centred coordinates on the components.</param>
public sealed record PcaProjection(double[][] Components, double[] Variances, double TotalVariance, double[][] Coordinates)
{
    /// <summary>The fraction of the total variance that component <paramref name="i"/> explains.</summary>
    public double Explained(int i) => TotalVariance > 0 ? Variances[i] / TotalVariance : 0;
}

/// <summary>
/// Principal component analysis in float64 for maps of embeddings (e.g. Text and Code views in two dimensions): the data
/// are centred, then each component is found by power iteration on the covariance, applied as Xᵀ(X v) without forming
/// it, with the earlier components projected out. The start vectors come from Philox with a fixed seed and each
/// component's sign is fixed (its largest entry positive), so the result depends on the data alone.
/// </summary>
public static class Pca
{
    private const int MaxIterations = 2000;
    private const double Tolerance = 1e-12;

    /// <summary>The first <paramref name="count"/> principal components of <paramref name="rows"/> (all of one length).</summary>
    /// <exception cref="ArgumentException">Fewer than two rows, rows of different lengths, a non-finite value, or more
    /// components than dimensions.</exception>
    public static PcaProjection Project(IReadOnlyList<float[]> rows, int count = 2)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count < 2) throw new ArgumentException($"PCA needs at least two vectors, got {rows.Count}.", nameof(rows));
        int n = rows.Count, d = rows[0].Length;
        if (count < 1 || count > d) throw new ArgumentException($"PCA: {count} components asked of {d}-dimensional vectors.", nameof(count));
        var x = new double[n][];
        var mean = new double[d];
        for (int r = 0; r < n; r++)
        {
            if (rows[r].Length != d) throw new ArgumentException($"PCA: vector {r} has {rows[r].Length} values, vector 0 has {d}.", nameof(rows));
            if (NonFinite.IndexIn(rows[r]) is int bad and >= 0) throw new ArgumentException($"PCA: vector {r} has a non-finite value at {bad}.", nameof(rows));
            for (int c = 0; c < d; c++) mean[c] += rows[r][c];
        }
        for (int c = 0; c < d; c++) mean[c] /= n;
        double total = 0;
        for (int r = 0; r < n; r++)
        {
            x[r] = new double[d];
            for (int c = 0; c < d; c++) { x[r][c] = rows[r][c] - mean[c]; total += x[r][c] * x[r][c]; }
        }
        total /= n - 1;

        var components = new double[count][];
        var variances = new double[count];
        var start = new float[d];
        for (int k = 0; k < count; k++)
        {
            Philox.FillNormal(start, seed: 20250914, stream: (ulong)k, 0f, 1f);
            var v = Deflate(start.Select(s => (double)s).ToArray(), components, k);
            Normalize(v);
            double lambda = 0;
            for (int it = 0; it < MaxIterations; it++)
            {
                var w = Deflate(Covariance(x, v), components, k);
                double norm = Normalize(w);
                double change = 0;
                for (int c = 0; c < d; c++) change = Math.Max(change, Math.Abs(w[c] - v[c]));
                v = w;
                lambda = norm;
                if (change < Tolerance || norm == 0) break;
            }
            int top = 0;
            for (int c = 1; c < d; c++) if (Math.Abs(v[c]) > Math.Abs(v[top])) top = c;
            if (v[top] < 0) for (int c = 0; c < d; c++) v[c] = -v[c];
            components[k] = v;
            variances[k] = lambda;
        }
        var coordinates = new double[n][];
        for (int r = 0; r < n; r++)
        {
            coordinates[r] = new double[count];
            for (int k = 0; k < count; k++) coordinates[r][k] = Dot(x[r], components[k]);
        }
        return new PcaProjection(components, variances, total, coordinates);
    }

    /// <summary>Σ v = Xᵀ(X v) / (n − 1) for centred rows X.</summary>
    private static double[] Covariance(double[][] x, double[] v)
    {
        var result = new double[v.Length];
        foreach (var row in x)
        {
            double s = Dot(row, v);
            for (int c = 0; c < v.Length; c++) result[c] += s * row[c];
        }
        for (int c = 0; c < v.Length; c++) result[c] /= x.Length - 1;
        return result;
    }

    /// <summary><paramref name="v"/> with its parts along the first <paramref name="k"/> components removed (in place).</summary>
    private static double[] Deflate(double[] v, double[][] components, int k)
    {
        for (int j = 0; j < k; j++)
        {
            double s = Dot(v, components[j]);
            for (int c = 0; c < v.Length; c++) v[c] -= s * components[j][c];
        }
        return v;
    }

    private static double Normalize(double[] v)
    {
        double norm = Math.Sqrt(Dot(v, v));
        if (norm > 0) for (int c = 0; c < v.Length; c++) v[c] /= norm;
        return norm;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int c = 0; c < a.Length; c++) s += a[c] * b[c];
        return s;
    }
}
