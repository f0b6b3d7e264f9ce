namespace Jepa.Tests.Support;

/// <summary>Central finite differences of a float64 scalar function.</summary>
public static class GradCheck
{
    /// <summary>∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h for every i.</summary>
    public static double[] Numeric(Func<double[], double> f, double[] x, double h = 1e-5)
    {
        var g = new double[x.Length];
        var xp = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            double keep = xp[i];
            xp[i] = keep + h; double fp = f(xp);
            xp[i] = keep - h; double fm = f(xp);
            xp[i] = keep;
            g[i] = (fp - fm) / (2 * h);
        }
        return g;
    }

    /// <summary>Σ_i w_i y_i: projecting an output on fixed random weights turns any op into a scalar loss
    /// whose gradient with respect to the output is exactly w.</summary>
    public static double Dot(double[] y, double[] w)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += y[i] * w[i];
        return s;
    }
}
