using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class AdamWTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private const double Lr = 1e-2, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;
    private const int Steps = 5;

    /// <summary>torch.optim.AdamW (single-tensor, non-capturable) in float64.</summary>
    private static void ReferenceStep(double[] p, double[] g, double[] m, double[] v, int t, double lr, double wd, double scale)
    {
        double bc1 = 1 - Math.Pow(Beta1, t), bc2 = 1 - Math.Pow(Beta2, t);
        for (int i = 0; i < p.Length; i++)
        {
            double gi = g[i] * scale;
            p[i] *= 1 - lr * wd;
            m[i] = Beta1 * m[i] + (1 - Beta1) * gi;
            v[i] = Beta2 * v[i] + (1 - Beta2) * gi * gi;
            double denom = Math.Sqrt(v[i]) / Math.Sqrt(bc2) + Eps;
            p[i] -= lr / bc1 * m[i] / denom;
        }
    }

    private static float[] Grad(int n, int step) => Reference.Random(n, 1000 + (ulong)step, -1f, 1f);

    /// <summary>Runs <see cref="Steps"/> steps on a device; returns p, m, v. scaleOnDevice: read the grad scale from a view.</summary>
    private static (float[] P, float[] M, float[] V) Run(KernelLibrary ops, float[] p0, double wd, float scale, bool scaleOnDevice)
    {
        int n = p0.Length;
        using var p = Tensor.FromArray(ops.Device, p0, n);
        using var m = Tensor.Zeros(ops.Device, n);
        using var v = Tensor.Zeros(ops.Device, n);
        using var g = Tensor.Empty(ops.Device, n);
        using var s = Tensor.FromArray(ops.Device, [scale], 1);
        for (int t = 1; t <= Steps; t++)
        {
            g.CopyFrom(Grad(n, t));
            if (scaleOnDevice) ops.AdamW.Step(p.View, g.View, m.View, v.View, n, t, Lr, Beta1, Beta2, Eps, wd, s.View);
            else ops.AdamW.Step(p.View, g.View, m.View, v.View, n, t, Lr, Beta1, Beta2, Eps, wd, scale);
        }
        return (p.ToArray(), m.ToArray(), v.ToArray());
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 0.0, 1f, true)]
    [InlineData(KernelPath.Host, 0.0, 1f, true)]
    [InlineData(KernelPath.Kernel, 0.1, 1f, true)]
    [InlineData(KernelPath.Host, 0.1, 1f, true)]
    [InlineData(KernelPath.Kernel, 0.1, 0.25f, true)]
    [InlineData(KernelPath.Host, 0.1, 0.25f, true)]
    [InlineData(KernelPath.Kernel, 0.1, 0.25f, false)]
    [InlineData(KernelPath.Host, 0.1, 0.25f, false)]
    public void StepsMatchFloat64TorchAdamW(KernelPath path, double wd, float scale, bool scaleOnDevice)
    {
        int n = 1037;
        var p0 = Reference.Random(n, 77, -1f, 1f);
        var got = Run(f.Lib(path), p0, wd, scale, scaleOnDevice);

        var p = Reference.ToDouble(p0); var m = new double[n]; var v = new double[n];
        for (int t = 1; t <= Steps; t++) ReferenceStep(p, Reference.ToDouble(Grad(n, t)), m, v, t, Lr, wd, scale);

        Reference.AssertClose(got.P, p, 1e-6, "p");
        Reference.AssertClose(got.M, m, 1e-6, "m");
        Reference.AssertClose(got.V, v, 1e-6, "v");
        // The update itself (p − p0, about 5·lr per element) to a tighter relative bound than p.
        var delta = got.P.Select((x, i) => x - p0[i]).ToArray();
        Reference.AssertClose(delta, p.Select((x, i) => x - p0[i]).ToArray(), 1e-4, "p − p0");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void DeviceAndHostScaleAgreeAndRunsAreBitwiseDeterministic(KernelPath path)
    {
        var p0 = Reference.Random(3001, 78, -1f, 1f);
        var onDevice = Run(f.Lib(path), p0, 0.1, 0.5f, scaleOnDevice: true);
        var onHost = Run(f.Lib(path), p0, 0.1, 0.5f, scaleOnDevice: false);
        Reference.AssertBitwiseEqual(onDevice.P, onHost.P, "p device vs host scale");
        Reference.AssertBitwiseEqual(onDevice.V, onHost.V, "v device vs host scale");
        foreach (int chunks in new[] { 1, 3 })
        {
            using var d = Device.Cpu(cpuChunks: chunks);
            var other = Run(new KernelLibrary(d, path), p0, 0.1, 0.5f, scaleOnDevice: true);
            Reference.AssertBitwiseEqual(other.P, onDevice.P, $"p cpuChunks {chunks}");
            Reference.AssertBitwiseEqual(other.M, onDevice.M, $"m cpuChunks {chunks}");
            Reference.AssertBitwiseEqual(other.V, onDevice.V, $"v cpuChunks {chunks}");
        }
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BadArgumentsAreClearErrors(KernelPath path)
    {
        using var a = Tensor.Zeros(f.Device, 8);
        using var b = Tensor.Zeros(f.Device, 4);
        var e = Assert.Throws<ArgumentException>(() => f.Lib(path).AdamW.Step(a.View, a.View, b.View, a.View, 8, 1, Lr, Beta1, Beta2, Eps, 0));
        Assert.Contains("'m' has 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Lib(path).AdamW.Step(a.View, a.View, a.View, a.View, 8, 0, Lr, Beta1, Beta2, Eps, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Lib(path).AdamW.Step(a.View, a.View, a.View, a.View, 8, 1, Lr, 1.0, Beta2, Eps, 0));
    }
}
