namespace Jepa.Training.Training;

/// <summary>
/// Detects representation collapse of one view's embeddings [rows, C] (measure each view on its own: two views that
/// each collapse to their own point look spread when pooled), and whether predictions carry their pair's content
/// (<see cref="PairGap"/>). The embeddings are first scaled to unit
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
        var e = Unit(raw, rows, cols);
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

    /// <summary>
    /// The matched-minus-mismatched cosine gap of predicted [B, C] and target [B, C] embeddings: the mean of cos(p_i, t_i)
    /// minus the mean of cos(p_i, t_j) over i ≠ j. Positive when a prediction is nearer its own target than the other
    /// examples' targets, i.e. when the embeddings carry the pair's content; about 0 when they do not (collapse included,
    /// where every cosine is 1). NaN for fewer than two pairs.
    /// </summary>
    public static double PairGap(ReadOnlySpan<float> predicted, ReadOnlySpan<float> target, int rows, int cols) =>
        rows < 2 ? double.NaN : Gap(Unit(predicted, rows, cols), Unit(target, rows, cols), rows, cols);

    /// <summary>
    /// <see cref="PairGap"/> after centring: each view's unit embeddings minus that view's mean unit embedding, scaled to unit
    /// length again. A direction shared by every example (what the raw cosine sees as collapse) drops out, so this says whether
    /// what is left of the embeddings still tells the pairs apart. NaN for fewer than two pairs.
    /// </summary>
    public static double CentredPairGap(ReadOnlySpan<float> predicted, ReadOnlySpan<float> target, int rows, int cols) =>
        rows < 2 ? double.NaN : Gap(Centred(Unit(predicted, rows, cols), rows, cols), Centred(Unit(target, rows, cols), rows, cols), rows, cols);

    /// <summary>
    /// Retrieval of each pair's target among all the targets: the fraction of rows i whose predicted embedding has its largest
    /// cosine (after centring as <see cref="CentredPairGap"/> when <paramref name="centred"/>) with target i, the first of equal
    /// cosines winning. Chance is 1 / <paramref name="rows"/>. NaN for fewer than two pairs.
    /// </summary>
    public static double RetrievalTop1(ReadOnlySpan<float> predicted, ReadOnlySpan<float> target, int rows, int cols, bool centred = true)
    {
        if (rows < 2) return double.NaN;
        double[] p = Unit(predicted, rows, cols), t = Unit(target, rows, cols);
        if (centred)
        {
            p = Centred(p, rows, cols);
            t = Centred(t, rows, cols);
        }
        int hits = 0;
        for (int i = 0; i < rows; i++)
        {
            int best = 0;
            double bestDot = double.NegativeInfinity;
            for (int j = 0; j < rows; j++)
            {
                double dot = 0;
                for (int c = 0; c < cols; c++) dot += p[i * cols + c] * t[j * cols + c];
                if (dot > bestDot) (best, bestDot) = (j, dot);
            }
            if (best == i) hits++;
        }
        return (double)hits / rows;
    }

    /// <summary>Unit rows minus their mean row, each scaled to unit length again (a row equal to the mean stays zero).</summary>
    private static double[] Centred(double[] unit, int rows, int cols)
    {
        var mean = new double[cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) mean[c] += unit[r * cols + c] / rows;
        var e = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double norm = 0;
            for (int c = 0; c < cols; c++) norm += (unit[r * cols + c] - mean[c]) * (unit[r * cols + c] - mean[c]);
            norm = Math.Sqrt(norm);
            for (int c = 0; c < cols; c++) e[r * cols + c] = norm > 0 ? (unit[r * cols + c] - mean[c]) / norm : 0;
        }
        return e;
    }

    /// <summary>Mean matched minus mean mismatched dot product of unit rows.</summary>
    private static double Gap(double[] p, double[] t, int rows, int cols)
    {
        double matched = 0, mismatched = 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < rows; j++)
            {
                double dot = 0;
                for (int c = 0; c < cols; c++) dot += p[i * cols + c] * t[j * cols + c];
                if (i == j) matched += dot; else mismatched += dot;
            }
        return matched / rows - mismatched / ((double)rows * (rows - 1));
    }

    private static double[] Unit(ReadOnlySpan<float> raw, int rows, int cols)
    {
        var e = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double norm = 0;
            for (int c = 0; c < cols; c++) norm += (double)raw[r * cols + c] * raw[r * cols + c];
            norm = Math.Sqrt(norm);
            for (int c = 0; c < cols; c++) e[r * cols + c] = norm > 0 ? raw[r * cols + c] / norm : 0;
        }
        return e;
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
