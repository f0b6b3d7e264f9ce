namespace Jepa.Cli.SelfTest;

/// <summary>
/// One op of the self-test: runs it on a rig from fixed inputs and returns its named outputs, which are compared
/// between devices (or paths) by norm-wise relative error.
/// </summary>
/// <param name="Name">The op, e.g. <c>matmul NT</c>.</param>
/// <param name="Tolerance">The largest accepted relative error.</param>
/// <param name="HasHostPath">True when the op has a CPU host fast path to compare with the CPU kernel.</param>
/// <param name="Run">Runs the op; returns (output name, values) pairs.</param>
public sealed record SelfTestCase(string Name, double Tolerance, bool HasHostPath, Func<SelfTestRig, IReadOnlyList<(string Name, float[] Values)>> Run)
{
    /// <summary>‖a − b‖₂ / ‖b‖₂ (0 when both are zero; infinite for NaN or a length mismatch).</summary>
    public static double RelativeError(float[] a, float[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (!float.IsFinite(a[i]) || !float.IsFinite(b[i])) return double.PositiveInfinity;
            double d = (double)a[i] - b[i];
            num += d * d;
            den += (double)b[i] * b[i];
        }
        if (num == 0) return 0;
        return Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30);
    }
}
