using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;
using Device = Jepa.Core.Device;

namespace Jepa.Tests.Kernels;

/// <summary>Both attention paths on the CPU accelerator: the ILGPU kernels (<see cref="KernelPath.Kernel"/>, forced,
/// as they run on GPUs) and the SIMD host path (<see cref="KernelPath.Host"/>, the CPU default), each against the
/// float64 reference, and against each other on shapes too large for finite differences.</summary>
public sealed class AttentionTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    private const KernelPath Kernel = KernelPath.Kernel, Host = KernelPath.Host;

    /// <summary>Sizes of one attention call; Segments names the mask: none (causal), random runs,
    /// packed [Text+PRED ‖ Code] (two segments per row) or interleaved (t mod 3, not contiguous); Cap soft-caps the scores
    /// (c·tanh(s / c), 0: none) and Window limits each query to its last Window keys (0: none), as Gemma-2 does.</summary>
    public sealed record Case(int B, int T, int Hq, int Hkv, int D, string Segments = "none", float Cap = 0f, int Window = 0)
    {
        public int Nq => B * T * Hq * D;
        public int Nkv => B * T * Hkv * D;
        public int Nlse => B * Hq * T;
        public override string ToString() => $"B{B} T{T} Hq{Hq} Hkv{Hkv} D{D} {Segments}" + (Cap > 0 ? $" cap {Cap}" : "") + (Window > 0 ? $" window {Window}" : "");
    }

    private static int[]? MakeSegments(Case c, ulong seed)
    {
        if (c.Segments == "none") return null;
        var seg = new int[c.B * c.T];
        var r = Reference.Random(c.B * c.T, seed, 0f, 1f);
        for (int b = 0; b < c.B; b++)
        {
            int id = 0;
            for (int t = 0; t < c.T; t++)
            {
                int i = b * c.T + t;
                seg[i] = c.Segments switch
                {
                    "random" => t > 0 && r[i] < 0.3f ? ++id : id,
                    "packed" => t < (c.T * 3 + b) / 5 ? 0 : 1, // text and PRED tokens, then code
                    "interleaved" => t % 3,
                    _ => throw new ArgumentException(c.Segments),
                };
            }
        }
        return seg;
    }

    // ---------------------------------------------------------------- float64 reference

    /// <summary>Dense masked softmax attention in float64: o [B, T, Hq, D] and lse [B, Hq, T]; scores capped and keys
    /// windowed as the case says.</summary>
    private static (double[] O, double[] Lse) Dense(Case c, double[] q, double[] k, double[] v, int[]? seg, double scale)
    {
        var o = new double[c.Nq];
        var lse = new double[c.Nlse];
        var s = new double[c.T];
        int group = c.Hq / c.Hkv;
        for (int b = 0; b < c.B; b++)
        for (int h = 0; h < c.Hq; h++)
        for (int i = 0; i < c.T; i++)
        {
            int qi = ((b * c.T + i) * c.Hq + h) * c.D;
            double m = double.NegativeInfinity;
            for (int j = 0; j <= i; j++)
            {
                s[j] = double.NegativeInfinity;
                if (seg is not null && seg[b * c.T + j] != seg[b * c.T + i]) continue;
                if (c.Window > 0 && i - j >= c.Window) continue;
                int kj = ((b * c.T + j) * c.Hkv + h / group) * c.D;
                double dot = 0;
                for (int d = 0; d < c.D; d++) dot += q[qi + d] * k[kj + d];
                s[j] = scale * dot;
                if (c.Cap > 0) s[j] = c.Cap * Math.Tanh(s[j] / c.Cap);
                m = Math.Max(m, s[j]);
            }
            double sum = 0;
            for (int j = 0; j <= i; j++) sum += Math.Exp(s[j] - m);
            lse[(b * c.Hq + h) * c.T + i] = m + Math.Log(sum);
            for (int j = 0; j <= i; j++)
            {
                double p = Math.Exp(s[j] - m) / sum;
                if (p == 0) continue;
                int vj = ((b * c.T + j) * c.Hkv + h / group) * c.D;
                for (int d = 0; d < c.D; d++) o[qi + d] += p * v[vj + d];
            }
        }
        return (o, lse);
    }

    // ---------------------------------------------------------------- device helpers

    private sealed class Inputs : IDisposable
    {
        public required Tensor Q, K, V, O, Lse;
        public MemoryBuffer1D<int, Stride1D.Dense>? Seg;
        public ArrayView<int> SegView => Seg is null ? default : Seg.View;

        public void Dispose()
        {
            Q.Dispose(); K.Dispose(); V.Dispose(); O.Dispose(); Lse.Dispose(); Seg?.Dispose();
        }
    }

    private static Inputs Upload(Device dev, Case c, float[] q, float[] k, float[] v, int[]? seg) => new()
    {
        Q = Tensor.FromArray(dev, q, c.Nq), K = Tensor.FromArray(dev, k, c.Nkv), V = Tensor.FromArray(dev, v, c.Nkv),
        O = Tensor.Empty(dev, c.Nq), Lse = Tensor.Empty(dev, c.Nlse),
        Seg = seg is null ? null : dev.Accelerator.Allocate1D(seg),
    };

    private static void Forward(Attention op, Case c, Inputs x, float? scale = null) =>
        op.Forward(x.Q.View, x.K.View, x.V.View, x.O.View, x.Lse.View, c.B, c.T, c.Hq, c.Hkv, c.D, x.SegView, scale, c.Cap, c.Window);

    /// <summary>Forward, then backward of Σ w·o from the given starting gradients; returns o, lse, dq, dk, dv.
    /// Runs <paramref name="op"/> when given, else a new attention on <paramref name="path"/>.</summary>
    private static float[][] RunBoth(KernelLibrary ops, KernelPath path, Case c, float[] q, float[] k, float[] v, int[]? seg,
        float[] w, float[] dq0, float[] dk0, float[] dv0, Attention? op = null)
    {
        var dev = ops.Device;
        op ??= new Attention(ops.Cache, path);
        using var x = Upload(dev, c, q, k, v, seg);
        Forward(op, c, x);
        using var dO = Tensor.FromArray(dev, w, c.Nq);
        using var dq = Tensor.FromArray(dev, dq0, c.Nq);
        using var dk = Tensor.FromArray(dev, dk0, c.Nkv);
        using var dv = Tensor.FromArray(dev, dv0, c.Nkv);
        op.Backward(dO.View, x.Q.View, x.K.View, x.V.View, x.O.View, x.Lse.View, dq.View, dk.View, dv.View,
            c.B, c.T, c.Hq, c.Hkv, c.D, x.SegView, softCap: c.Cap, window: c.Window);
        return [x.O.ToArray(), x.Lse.ToArray(), dq.ToArray(), dk.ToArray(), dv.ToArray()];
    }

    // ---------------------------------------------------------------- forward

    /// <summary>Every case on both paths.</summary>
    private static TheoryData<Case, KernelPath> OnBothPaths(params Case[] cases)
    {
        var data = new TheoryData<Case, KernelPath>();
        foreach (var path in new[] { Kernel, Host })
        foreach (var c in cases) data.Add(c, path);
        return data;
    }

    public static TheoryData<Case, KernelPath> ForwardCases() => OnBothPaths(
        new(1, 1, 1, 1, 16),
        new(2, 37, 4, 2, 16),
        new(1, 70, 2, 1, 32),
        new(2, 37, 4, 2, 16, "random"),
        new(1, 70, 2, 1, 32, "packed"),
        new(2, 23, 3, 1, 48, "random"),
        new(1, 29, 3, 1, 20, "random"),
        new(1, 19, 2, 2, 64, "packed"),
        new(1, 17, 2, 1, 64, "interleaved"),
        new(1, 13, 2, 1, 128, "random"),
        new(2, 37, 4, 2, 16, Cap: 1.5f),
        new(1, 70, 2, 1, 32, Window: 9),
        new(2, 45, 4, 2, 24, "packed", Cap: 2f, Window: 13),
        new(1, 29, 3, 1, 20, "random", Cap: 0.7f, Window: 1),
        new(1, 90, 2, 1, 16, Window: 30));

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void ForwardMatchesFloat64Reference(Case c, KernelPath path)
    {
        ulong seed = (ulong)(c.T * 131 + c.D);
        var q = Reference.Random(c.Nq, seed + 1, -2f, 2f);
        var k = Reference.Random(c.Nkv, seed + 2, -2f, 2f);
        var v = Reference.Random(c.Nkv, seed + 3);
        var seg = MakeSegments(c, seed + 4);
        using var x = Upload(f.Device, c, q, k, v, seg);
        Forward(new Attention(f.Ops.Cache, path), c, x);
        var (o, lse) = Dense(c, Reference.ToDouble(q), Reference.ToDouble(k), Reference.ToDouble(v), seg, 1 / Math.Sqrt(c.D));
        Reference.AssertClose(x.O.ToArray(), o, 2e-6, $"o {c} {path}");
        Reference.AssertClose(x.Lse.ToArray(), lse, 2e-6, $"lse {c} {path}");
    }

    [Theory]
    [InlineData(0f, 0)]
    [InlineData(1.3f, 0)]
    [InlineData(0f, 6)]
    [InlineData(1.3f, 6)]
    public void CachedAttentionCapsAndWindowsAsTheReference(float cap, int window)
    {
        var c = new Case(2, 20, 4, 2, 16, Cap: cap, Window: window);
        const int start = 12, tq = 8, tmax = 24;
        var q = Reference.Random(c.Nq, 41, -2f, 2f); var k = Reference.Random(c.Nkv, 42, -2f, 2f); var v = Reference.Random(c.Nkv, 43);
        var (o, _) = Dense(c, Reference.ToDouble(q), Reference.ToDouble(k), Reference.ToDouble(v), null, 1 / Math.Sqrt(c.D));
        var op = new CachedAttention(f.Ops.Cache);
        using var kt = Tensor.FromArray(f.Device, k, c.Nkv);
        using var vt = Tensor.FromArray(f.Device, v, c.Nkv);
        using var kc = Tensor.Zeros(f.Device, c.B * tmax * c.Hkv * c.D);
        using var vc = Tensor.Zeros(f.Device, c.B * tmax * c.Hkv * c.D);
        op.Append(kt.View, kc.View, c.B, c.T, 0, tmax, c.Hkv, c.D);
        op.Append(vt.View, vc.View, c.B, c.T, 0, tmax, c.Hkv, c.D);
        int row = c.Hq * c.D;
        var qNew = new float[c.B * tq * row];
        var want = new double[qNew.Length];
        for (int b = 0; b < c.B; b++)
        {
            Array.Copy(q, (b * c.T + start) * row, qNew, b * tq * row, tq * row);
            Array.Copy(o, (b * c.T + start) * row, want, b * tq * row, tq * row);
        }
        using var qt = Tensor.FromArray(f.Device, qNew, qNew.Length);
        using var ot = Tensor.Empty(f.Device, qNew.Length);
        op.Forward(qt.View, kc.View, vc.View, ot.View, c.B, tq, start, tmax, c.Hq, c.Hkv, c.D, softCap: cap, window: window);
        Reference.AssertClose(ot.ToArray(), want, 2e-6, $"cached o {c}");
    }

    [Theory]
    [InlineData(Kernel)]
    [InlineData(Host)]
    public void CustomScaleIsApplied(KernelPath path)
    {
        var c = new Case(1, 21, 2, 1, 32, "random");
        var q = Reference.Random(c.Nq, 11); var k = Reference.Random(c.Nkv, 12); var v = Reference.Random(c.Nkv, 13);
        var seg = MakeSegments(c, 14);
        using var x = Upload(f.Device, c, q, k, v, seg);
        Forward(new Attention(f.Ops.Cache, path), c, x, scale: 1.7f);
        var (o, lse) = Dense(c, Reference.ToDouble(q), Reference.ToDouble(k), Reference.ToDouble(v), seg, 1.7f);
        Reference.AssertClose(x.O.ToArray(), o, 2e-6, "o");
        Reference.AssertClose(x.Lse.ToArray(), lse, 2e-6, "lse");
    }

    [Theory]
    [InlineData(Kernel)]
    [InlineData(Host)]
    public void TokenAloneInItsSegmentAttendsOnlyToItself(KernelPath path)
    {
        var c = new Case(1, 9, 2, 1, 16);
        int[] seg = [5, 5, 6, 7, 7, 7, 8, 8, 9]; // tokens 2 and 8 are alone; token 0 is first
        var q = Reference.Random(c.Nq, 21); var k = Reference.Random(c.Nkv, 22); var v = Reference.Random(c.Nkv, 23);
        using var x = Upload(f.Device, c, q, k, v, seg);
        Forward(new Attention(f.Ops.Cache, path), c, x);
        var o = x.O.ToArray(); var lse = x.Lse.ToArray();
        foreach (int t in new[] { 0, 2, 8 })
        for (int h = 0; h < c.Hq; h++)
        {
            double dot = 0;
            for (int d = 0; d < c.D; d++)
            {
                Assert.Equal(v[t * c.D + d], o[(t * c.Hq + h) * c.D + d]);
                dot += (double)q[(t * c.Hq + h) * c.D + d] * k[t * c.D + d];
            }
            Assert.Equal(dot / 4, lse[h * c.T + t], 1e-6);
        }
    }

    // ---------------------------------------------------------------- backward

    public static TheoryData<Case, KernelPath> BackwardCases() => OnBothPaths(
        new(1, 7, 2, 1, 16, "random"),
        new(2, 5, 2, 2, 32),
        new(1, 6, 4, 2, 48, "packed"),
        new(1, 9, 2, 1, 12, "interleaved"),
        new(1, 4, 2, 1, 128, "random"),
        new(1, 8, 2, 1, 16, Cap: 1.2f),
        new(2, 9, 2, 2, 12, Window: 3),
        new(1, 10, 4, 2, 20, "packed", Cap: 0.8f, Window: 4));

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void BackwardMatchesFiniteDifferences(Case c, KernelPath path) => CheckAgainstReference(c, new Attention(f.Ops.Cache, path));

    /// <summary>The GPU strategy (row-team sums by warp shuffles) run on the CPU accelerator.</summary>
    [Theory]
    [InlineData(32, 0f, 0)]
    [InlineData(64, 0f, 0)]
    [InlineData(32, 1.1f, 4)]
    public void WarpShuffleStrategyMatchesReference(int D, float cap, int window) =>
        CheckAgainstReference(new Case(1, 11, 2, 1, D, "random", cap, window), new Attention(f.Ops.Cache, warpShuffles: true));

    /// <summary>o and lse against the float64 reference; dq, dk, dv against its finite differences.</summary>
    private void CheckAgainstReference(Case c, Attention op)
    {
        ulong seed = (ulong)(c.T * 17 + c.D);
        var q = Reference.Random(c.Nq, seed + 1, -2f, 2f);
        var k = Reference.Random(c.Nkv, seed + 2, -2f, 2f);
        var v = Reference.Random(c.Nkv, seed + 3);
        var w = Reference.Random(c.Nq, seed + 4);
        var seg = MakeSegments(c, seed + 5);
        var got = RunBoth(f.Ops, op.Path, c, q, k, v, seg, w, new float[c.Nq], new float[c.Nkv], new float[c.Nkv], op);

        double scale = 1 / Math.Sqrt(c.D);
        double[] qd = Reference.ToDouble(q), kd = Reference.ToDouble(k), vd = Reference.ToDouble(v), wd = Reference.ToDouble(w);
        var (o, lse) = Dense(c, qd, kd, vd, seg, scale);
        Reference.AssertClose(got[0], o, 2e-6, $"o {c}");
        Reference.AssertClose(got[1], lse, 2e-6, $"lse {c}");
        var numDq = GradCheck.Numeric(x => GradCheck.Dot(Dense(c, x, kd, vd, seg, scale).O, wd), qd);
        var numDk = GradCheck.Numeric(x => GradCheck.Dot(Dense(c, qd, x, vd, seg, scale).O, wd), kd);
        var numDv = GradCheck.Numeric(x => GradCheck.Dot(Dense(c, qd, kd, x, seg, scale).O, wd), vd);
        Reference.AssertClose(got[2], numDq, 5e-6, $"dq {c}");
        Reference.AssertClose(got[3], numDk, 5e-6, $"dk {c}");
        Reference.AssertClose(got[4], numDv, 5e-6, $"dv {c}");
    }

    [Theory]
    [InlineData(Kernel)]
    [InlineData(Host)]
    public void BackwardAccumulatesIntoGradients(KernelPath path)
    {
        var c = new Case(1, 19, 4, 2, 32, "random");
        var q = Reference.Random(c.Nq, 31); var k = Reference.Random(c.Nkv, 32); var v = Reference.Random(c.Nkv, 33);
        var w = Reference.Random(c.Nq, 34); var seg = MakeSegments(c, 35);
        var dq0 = Reference.Random(c.Nq, 36); var dk0 = Reference.Random(c.Nkv, 37); var dv0 = Reference.Random(c.Nkv, 38);
        var fromZero = RunBoth(f.Ops, path, c, q, k, v, seg, w, new float[c.Nq], new float[c.Nkv], new float[c.Nkv]);
        var fromInit = RunBoth(f.Ops, path, c, q, k, v, seg, w, dq0, dk0, dv0);
        // Each element is updated once as g0 + g, so the accumulated result is exactly g0 + (0 + g).
        Reference.AssertBitwiseEqual(fromInit[2], dq0.Zip(fromZero[2], (a, g) => a + g).ToArray(), "dq");
        Reference.AssertBitwiseEqual(fromInit[3], dk0.Zip(fromZero[3], (a, g) => a + g).ToArray(), "dk");
        Reference.AssertBitwiseEqual(fromInit[4], dv0.Zip(fromZero[4], (a, g) => a + g).ToArray(), "dv");
    }

    // ---------------------------------------------------------------- determinism

    [Fact]
    public void ForwardAndBackwardAreBitwiseReproducibleAndIndependentOfCpuChunks()
    {
        var c = new Case(2, 37, 4, 2, 32, "random");
        var q = Reference.Random(c.Nq, 41); var k = Reference.Random(c.Nkv, 42); var v = Reference.Random(c.Nkv, 43);
        var w = Reference.Random(c.Nq, 44); var seg = MakeSegments(c, 45);
        float[][] Run(KernelLibrary ops) => RunBoth(ops, Kernel, c, q, k, v, seg, w, new float[c.Nq], new float[c.Nkv], new float[c.Nkv]);

        var first = Run(f.Ops);
        var second = Run(f.Ops);
        string[] names = ["o", "lse", "dq", "dk", "dv"];
        for (int i = 0; i < names.Length; i++) Reference.AssertBitwiseEqual(first[i], second[i], names[i] + " twice");
        ChunkRuns.AssertIndependentOfChunks(Run, "attention (o, lse, dq, dk, dv)");
    }

    /// <summary>The host path, on a shape that gives every thread many blocks of rows: twice on the fixture's
    /// device (2 threads; the second run rents no new device memory), then on 1 and on 3 threads; all bitwise equal.</summary>
    [Theory]
    [InlineData("none")]
    [InlineData("packed")]
    public void HostPathIsBitwiseReproducibleAndIndependentOfCpuChunks(string segments)
    {
        var c = new Case(2, 77, 4, 2, 64, segments);
        var q = Reference.Random(c.Nq, 51); var k = Reference.Random(c.Nkv, 52); var v = Reference.Random(c.Nkv, 53);
        var w = Reference.Random(c.Nq, 54); var seg = MakeSegments(c, 55);
        var dq0 = Reference.Random(c.Nq, 56); var dk0 = Reference.Random(c.Nkv, 57); var dv0 = Reference.Random(c.Nkv, 58);
        float[][] Run(KernelLibrary ops) => RunBoth(ops, Host, c, q, k, v, seg, w, dq0, dk0, dv0);

        var first = Run(f.Ops);
        long allocations = f.Device.Pool.Allocations;
        var again = Run(f.Ops);
        Assert.Equal(allocations, f.Device.Pool.Allocations); // steady state: scratch comes back from the pool
        var runs = new[] { ("run twice", again), ("1 thread", ChunkRuns.OnCpu(1, Run)), ("3 threads", ChunkRuns.OnCpu(3, Run)) };
        string[] names = ["o", "lse", "dq", "dk", "dv"];
        foreach (var (what, other) in runs)
            for (int i = 0; i < names.Length; i++) Reference.AssertBitwiseEqual(first[i], other[i], $"{names[i]} ({what})");
    }

    // ---------------------------------------------------------------- host path against the kernels

    /// <summary>Shapes too large for finite differences: the host path's o, lse, dq, dk, dv against the kernels'
    /// (both float32 with different rounding), and its o and lse against the float64 reference.</summary>
    [Theory]
    [InlineData(2, 45, 4, 2, 64, "random")]
    [InlineData(1, 66, 6, 2, 32, "packed")]
    [InlineData(1, 33, 2, 1, 128, "interleaved")]
    [InlineData(1, 40, 4, 4, 40, "none")]
    public void HostPathMatchesKernelPath(int B, int T, int Hq, int Hkv, int D, string segments)
    {
        var c = new Case(B, T, Hq, Hkv, D, segments);
        ulong seed = (ulong)(T * 7 + D);
        var q = Reference.Random(c.Nq, seed + 1, -2f, 2f);
        var k = Reference.Random(c.Nkv, seed + 2, -2f, 2f);
        var v = Reference.Random(c.Nkv, seed + 3);
        var w = Reference.Random(c.Nq, seed + 4);
        var seg = MakeSegments(c, seed + 5);
        var host = RunBoth(f.Ops, Host, c, q, k, v, seg, w, new float[c.Nq], new float[c.Nkv], new float[c.Nkv]);
        var kernel = RunBoth(f.Ops, Kernel, c, q, k, v, seg, w, new float[c.Nq], new float[c.Nkv], new float[c.Nkv]);

        var (o, lse) = Dense(c, Reference.ToDouble(q), Reference.ToDouble(k), Reference.ToDouble(v), seg, 1 / Math.Sqrt(c.D));
        Reference.AssertClose(host[0], o, 2e-6, $"o {c}");
        Reference.AssertClose(host[1], lse, 2e-6, $"lse {c}");
        string[] names = ["o", "lse", "dq", "dk", "dv"];
        for (int i = 0; i < names.Length; i++)
            Reference.AssertClose(host[i], Reference.ToDouble(kernel[i]), 1e-5, $"{names[i]} host vs kernel {c}");
    }

    /// <summary>Views that start inside a larger buffer (as tensors sliced from a workspace do): the host path
    /// reads and writes at the views' offsets, giving the same bits as on whole buffers, and leaves the rest alone.</summary>
    [Fact]
    public void HostPathWorksOnSubViews()
    {
        var c = new Case(1, 21, 4, 2, 24, "random");
        var q = Reference.Random(c.Nq, 61); var k = Reference.Random(c.Nkv, 62); var v = Reference.Random(c.Nkv, 63);
        var w = Reference.Random(c.Nq, 64); var seg = MakeSegments(c, 65)!;
        var whole = RunBoth(f.Ops, Host, c, q, k, v, seg, w, new float[c.Nq], new float[c.Nkv], new float[c.Nkv]);

        // One buffer: gap | q | k | v | o | lse | dO | dq | dk | dv | segments, each at an odd offset.
        int[] lengths = [c.Nq, c.Nkv, c.Nkv, c.Nq, c.Nlse, c.Nq, c.Nq, c.Nkv, c.Nkv, c.B * c.T];
        var offsets = new int[lengths.Length];
        int at = 3;
        for (int i = 0; i < lengths.Length; i++) { offsets[i] = at; at += lengths[i] + 5; }
        var init = Reference.Random(at, 66);
        q.CopyTo(init, offsets[0]); k.CopyTo(init, offsets[1]); v.CopyTo(init, offsets[2]); w.CopyTo(init, offsets[5]);
        Array.Clear(init, offsets[6], c.Nq); Array.Clear(init, offsets[7], c.Nkv); Array.Clear(init, offsets[8], c.Nkv);
        System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(seg.AsSpan()).CopyTo(init.AsSpan(offsets[9]));
        using var all = Tensor.FromArray(f.Device, init, at);
        ArrayView<float> V(int i) => all.View.SubView(offsets[i], lengths[i]);
        var op = new Attention(f.Ops.Cache, Host);
        op.Forward(V(0), V(1), V(2), V(3), V(4), c.B, c.T, c.Hq, c.Hkv, c.D, V(9).Cast<int>());
        op.Backward(V(5), V(0), V(1), V(2), V(3), V(4), V(6), V(7), V(8), c.B, c.T, c.Hq, c.Hkv, c.D, V(9).Cast<int>());
        var got = all.ToArray();

        int[] outputs = [3, 4, 6, 7, 8];
        for (int i = 0; i < outputs.Length; i++)
            Reference.AssertBitwiseEqual(got.AsSpan(offsets[outputs[i]], lengths[outputs[i]]), whole[i], $"output {i} on a sub-view");
        var written = new bool[at];
        foreach (int i in outputs) Array.Fill(written, true, offsets[i], lengths[i]);
        for (int e = 0; e < at; e++)
            if (!written[e]) Assert.True(BitConverter.SingleToInt32Bits(got[e]) == BitConverter.SingleToInt32Bits(init[e]), $"element {e} outside the outputs changed");
    }

    [Fact]
    public void PathsAreChosenPerDevice()
    {
        Assert.Equal(Host, f.Ops.Attention.Path);
        Assert.Equal(Host, new Attention(f.Ops.Cache).Path);
        Assert.Equal(Kernel, new Attention(f.Ops.Cache, Kernel).Path);
        Assert.Equal(Kernel, new Attention(f.Ops.Cache, warpShuffles: true).Path);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Attention(f.Ops.Cache, (KernelPath)7));
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public void BadSizesAreClearErrors()
    {
        using var t = Tensor.Zeros(f.Device, 4096);
        var at = f.Ops.Attention;
        var e1 = Assert.Throws<ArgumentException>(() => at.Forward(t.View, t.View, t.View, t.View, t.View, 1, 4, 3, 2, 16));
        Assert.Contains("multiple", e1.Message);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => at.Forward(t.View, t.View, t.View, t.View, t.View, 1, 2, 1, 1, 129));
        Assert.Contains("D=129", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => at.Forward(t.View, t.View, t.View, t.View, t.View, 2, 64, 4, 1, 16));
        Assert.Contains("'q'", e3.Message);
        using var seg = f.Device.Accelerator.Allocate1D<int>(3);
        var e4 = Assert.Throws<ArgumentException>(() => at.Forward(t.View, t.View, t.View, t.View, t.View, 1, 4, 1, 1, 16, seg.View));
        Assert.Contains("segments", e4.Message);
        Assert.Contains("soft cap", Assert.Throws<ArgumentOutOfRangeException>(() => at.Forward(t.View, t.View, t.View, t.View, t.View, 1, 4, 1, 1, 16, softCap: -1f)).Message);
        Assert.Contains("soft cap", Assert.Throws<ArgumentOutOfRangeException>(() => at.Backward(t.View, t.View, t.View, t.View, t.View, t.View, t.View, t.View, t.View, 1, 4, 1, 1, 16, softCap: float.NaN)).Message);
        Assert.Contains("window", Assert.Throws<ArgumentOutOfRangeException>(() => at.Forward(t.View, t.View, t.View, t.View, t.View, 1, 4, 1, 1, 16, window: -2)).Message);
        Assert.Contains("window", Assert.Throws<ArgumentOutOfRangeException>(() => f.Ops.CachedAttention.Forward(t.View, t.View, t.View, t.View, 1, 1, 0, 4, 1, 1, 16, window: -1)).Message);
    }
}
