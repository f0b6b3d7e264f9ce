using ILGPU;
using Jepa.Core;
using Device = Jepa.Core.Device;

namespace Jepa.Kernels;

/// <summary>
/// The cos/sin table of rotary position embedding for one head size, base θ and range of positions,
/// held on the device as <c>[2, maxPositions, D/2]</c> floats (cos block, then sin block).
/// Angles <c>pos · θ^(−2i/D)</c> and their cos/sin are computed on the host in double precision and
/// rounded once to float, so large positions lose no accuracy (float sin/cos of an angle near 10⁴ would
/// be off by ~10⁻³) and every device reads the very same values. Create it with <see cref="Rope.CreateTable(int, int, double)"/>
/// and reuse it for every layer and step; dispose it before its device.
/// </summary>
public sealed class RopeTable : IDisposable
{
    private readonly Tensor _table;

    internal RopeTable(Device device, int maxPositions, double theta, ReadOnlySpan<double> inverseFrequencies)
    {
        int half = inverseFrequencies.Length;
        HeadDim = 2 * half;
        MaxPositions = maxPositions;
        Theta = theta;
        long n = (long)maxPositions * half;
        var host = new float[2 * n];
        for (int i = 0; i < half; i++)
        {
            double invFreq = inverseFrequencies[i];
            for (int p = 0; p < maxPositions; p++)
            {
                double a = p * invFreq;
                host[(long)p * half + i] = (float)Math.Cos(a);
                host[n + (long)p * half + i] = (float)Math.Sin(a);
            }
        }
        _table = Tensor.FromArray(device, host, 2, maxPositions, half);
    }

    /// <summary>The standard RoPE inverse frequencies θ^(−2i/D), i = 0 … D/2 − 1.</summary>
    public static double[] InverseFrequencies(int headDim, double theta)
    {
        var f = new double[headDim / 2];
        for (int i = 0; i < f.Length; i++) f[i] = Math.Pow(theta, -2.0 * i / headDim);
        return f;
    }

    /// <summary>Head size D the table is for.</summary>
    public int HeadDim { get; }

    /// <summary>Positions 0 … MaxPositions − 1 are covered.</summary>
    public int MaxPositions { get; }

    /// <summary>The frequency base θ (before any rescaling of the frequencies).</summary>
    public double Theta { get; }

    /// <summary>The device the table lives on.</summary>
    public Device Device => _table.Device;

    /// <summary>The whole table, <c>[2, MaxPositions, HeadDim/2]</c>: cos then sin.</summary>
    public ArrayView<float> View => _table.View;

    /// <summary>Gives the table's memory back to the device pool.</summary>
    public void Dispose() => _table.Dispose();
}
