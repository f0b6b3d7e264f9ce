namespace Jepa.Training.Training;

/// <summary>
/// Detects representation collapse of view embeddings [rows, C]. The embeddings are first scaled to unit
/// length (the cosine distance ignores length, so collapse is about directions). It reports their spread —
/// the mean over dimensions of each dimension's standard deviation across rows, times √C, so that random
/// directions give about 1 and identical directions 0 — and the effective rank exp(H(σ/Σσ)) of the centred
/// unit embeddings' singular values σ.
/// </summary>
public static class CollapseMonitor
{
    /// <summary>Below this spread (1 ≈ random directions, 0 = one direction) the embeddings count as collapsed.</summary>
    public const double MinSpread = 0.05;

    /// <summary>Computes (spread, effective rank) of <paramref name="raw"/> laid out [rows, cols].</summary>
    public static (double Spread, double EffectiveRank) Measure(ReadOnlySpan<float> raw, int rows, int cols)
    {
        if (rows < 2) return (double.NaN, double.NaN);
        var e = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double norm = 0;
            for (int c = 0; c < cols; c++) norm += (double)raw[r * cols + c] * raw[r * cols + c];
            norm = Math.Sqrt(norm);
            for (int c = 0; c < cols; c++) e[r * cols + c] = norm > 0 ? raw[r * cols + c] / norm : 0;
        }
        var centred = new double[rows * cols];
        double stdSum = 0;
        for (int c = 0; c < cols; c++)
        {
            double mean = 0;
            for (int r = 0; r < rows; r++) mean += e[r * cols + c];
            mean /= rows;
            double var = 0;
            for (int r = 0; r < rows; r++)
            {
                double d = e[r * cols + c] - mean;
                centred[r * cols + c] = d;
                var += d * d;
            }
            stdSum += Math.Sqrt(var / rows);
        }
        // Singular values² are the eigenvalues of the rows×rows Gram matrix of the centred embeddings.
        var gram = new double[rows, rows];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int c = 0; c < cols; c++) s += centred[i * cols + c] * centred[j * cols + c];
                gram[i, j] = gram[j, i] = s;
            }
        var eig = SymmetricEigenvalues(gram, rows);
        double total = 0;
        var sv = eig.Select(x => Math.Sqrt(Math.Max(x, 0))).ToArray();
        foreach (double s in sv) total += s;
        double spread = stdSum / cols * Math.Sqrt(cols);
        if (total <= 1e-12) return (spread, 1.0);
        double h = 0;
        foreach (double s in sv)
        {
            double p = s / total;
            if (p > 0) h -= p * Math.Log(p);
        }
        return (spread, Math.Exp(h));
    }

    /// <summary>True when the measurements say the embeddings collapsed.</summary>
    public static bool IsCollapsed(double spread, double effectiveRank) => spread < MinSpread || effectiveRank < 1.05;

    private static double[] SymmetricEigenvalues(double[,] a, int n)
    {
        // Cyclic Jacobi rotations: small n (a batch), exact enough for a monitor.
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += a[i, j] * a[i, j];
            if (off < 1e-22) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                }
        }
        var ev = new double[n];
        for (int i = 0; i < n; i++) ev[i] = a[i, i];
        return ev;
    }
}
