using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;
using Device = Jepa.Core.Device;

namespace Jepa.Tests.Kernels;

/// <summary>
/// The SIMD host paths of the CPU accelerator against the ILGPU kernels, on shapes that span several host work
/// items (and end in partial vectors), and the host paths' independence of the thread count. The per-op test
/// classes hold both paths against float64 references on small shapes.
/// </summary>
public sealed class HostPathTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    /// <summary>Runs <paramref name="run"/> on the host path (checking it is repeatable and bitwise independent of the
    /// CPU thread count) and on the kernels; returns both outputs.</summary>
    private (float[] Host, float[] Kernel) Both(Func<KernelLibrary, float[]> run, string what)
    {
        Determinism.AssertRepeatableAndChunkIndependent(f, run, $"{what} (host)", KernelPath.Host);
        return (run(f.Ops), run(f.Kernels));
    }

    private static Tensor Ints(Device d, int[] data) => Tensor.FromInt32(d, data, data.Length);

    [Fact]
    public void ElementwiseGivesTheKernelsBits()
    {
        const int n = 2 * 16384 + 1003, rows = 250, cols = 133;
        var a = Reference.Random(n, 1); var b = Reference.Random(n, 2); var g = Reference.Random(n, 3);
        var bias = Reference.Random(cols, 4);
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device; var e = ops.Elementwise;
            using var ta = Tensor.FromArray(d, a, n); using var tb = Tensor.FromArray(d, b, n); using var tg = Tensor.FromArray(d, g, n);
            using var y = Tensor.Zeros(d, 6, n); using var da = Tensor.FromArray(d, a, n); using var db = Tensor.FromArray(d, b, n);
            using var dbias = Tensor.FromArray(d, bias, cols);
            e.Add(ta.View, tb.View, y.View.SubView(0, n), n);
            e.Mul(ta.View, tb.View, y.View.SubView(n, n), n);
            e.Scale(-1.7f, ta.View, y.View.SubView(2 * n, n), n);
            e.Copy(tb.View, y.View.SubView(3 * n, n), n);
            e.Axpy(0.3f, ta.View, y.View.SubView(3 * n, n), n);
            e.Fill(2.5f, y.View.SubView(4 * n, n), n);
            e.Bias(ta.View, tb.View.SubView(0, cols), y.View.SubView(5 * n, rows * cols), rows, cols);
            e.MulBackward(tg.View, ta.View, tb.View, da.View, db.View, n);
            e.BiasBackward(tg.View, da.View, dbias.View, rows, cols);
            return [.. y.ToArray(), .. da.ToArray(), .. db.ToArray(), .. dbias.ToArray()];
        }, "elementwise");
        Reference.AssertBitwiseEqual(host, kernel, "elementwise host vs kernels");
    }

    [Theory]
    [InlineData(301, 133)]
    [InlineData(70, 256)]
    public void RmsNormMatchesTheKernelsAndItsWeightGradientBitwise(int N, int C)
    {
        var x = Reference.Random(N * C, 10, -2f, 2f); var w = Reference.Random(C, 11, 0.5f, 1.5f);
        var dy = Reference.Random(N * C, 12); var dx0 = Reference.Random(N * C, 13); var dw0 = Reference.Random(C, 14);
        float[] Run(KernelLibrary ops, bool backwardOnly)
        {
            var d = ops.Device;
            using var tx = Tensor.FromArray(d, x, N, C); using var tw = Tensor.FromArray(d, w, C); using var tdy = Tensor.FromArray(d, dy, N, C);
            using var y = Tensor.Empty(d, N, C); using var rstd = Tensor.Empty(d, N);
            using var dx = Tensor.FromArray(d, dx0, N, C); using var dw = Tensor.FromArray(d, dw0, C);
            // The backward-only run takes rstd from the kernels, so dw (which depends on x, dy, rstd only) is comparable bit for bit.
            (backwardOnly ? f.Kernels : ops).RmsNorm.Forward(tx.View, tw.View, y.View, rstd.View, N, C, 1e-5f);
            ops.RmsNorm.Backward(tx.View, tw.View, rstd.View, tdy.View, dx.View, dw.View, N, C);
            return backwardOnly ? dw.ToArray() : [.. y.ToArray(), .. rstd.ToArray(), .. dx.ToArray(), .. dw.ToArray()];
        }
        var (host, kernel) = Both(ops => Run(ops, false), "RmsNorm");
        Reference.AssertClose(host, Reference.ToDouble(kernel), 1e-6, "RmsNorm host vs kernels");
        Reference.AssertBitwiseEqual(Run(f.Ops, true), Run(f.Kernels, true), "RmsNorm dw host vs kernels");
    }

    [Theory]
    [InlineData(3, 50, 5, 64)]
    [InlineData(2, 9, 3, 10)]
    public void RopeGivesTheKernelsBits(int B, int T, int H, int D)
    {
        int n = B * T * H * D;
        var x = Reference.Random(n, 20); var dy = Reference.Random(n, 21); var dx0 = Reference.Random(n, 22);
        var pos = Enumerable.Range(0, B * T).Select(i => (i * 7 + 3) % 60).ToArray();
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device;
            using var table = ops.Rope.CreateTable(D, 64);
            using var tx = Tensor.FromArray(d, x, n); using var tdy = Tensor.FromArray(d, dy, n); using var tpos = Ints(d, pos);
            using var y = Tensor.Empty(d, 4, n); using var dx = Tensor.Empty(d, 4, n);
            int k = 0;
            foreach (var conv in new[] { RopeConvention.RotateHalf, RopeConvention.Interleaved })
            {
                ops.Rope.Forward(tx.View, y.View.SubView(k * n, n), table, tpos.AsInt32(), B, T, H, D, conv);
                ops.Rope.Forward(tx.View, y.View.SubView((k + 1) * n, n), table, B, T, H, D, conv, 4);
                dx.View.SubView(k * n, n).CopyFromCPU(d.Accelerator.DefaultStream, dx0);
                dx.View.SubView((k + 1) * n, n).CopyFromCPU(d.Accelerator.DefaultStream, dx0);
                ops.Rope.Backward(tdy.View, dx.View.SubView(k * n, n), table, tpos.AsInt32(), B, T, H, D, conv);
                ops.Rope.Backward(tdy.View, dx.View.SubView((k + 1) * n, n), table, B, T, H, D, conv, 4);
                k += 2;
            }
            return [.. y.ToArray(), .. dx.ToArray()];
        }, "RoPE");
        Reference.AssertBitwiseEqual(host, kernel, "RoPE host vs kernels");
    }

    [Fact]
    public void SiluAndSwiGluMatchTheKernels()
    {
        const int n = 3 * 4096 + 77, N = 40, F = 700;
        var x = Reference.Random(2 * n, 30, -8f, 8f); var dy = Reference.Random(n, 31);
        var packed = Reference.Random(2 * N * F, 32, -8f, 8f); var dyp = Reference.Random(N * F, 33);
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device; var act = ops.Activations;
            using var tx = Tensor.FromArray(d, x, 2 * n); using var tdy = Tensor.FromArray(d, dy, n);
            using var tp = Tensor.FromArray(d, packed, N, 2 * F); using var tdyp = Tensor.FromArray(d, dyp, N, F);
            using var y = Tensor.Empty(d, 2 * n + N * F); using var dx = Tensor.Zeros(d, 3 * n + 2 * N * F);
            var gate = tx.View.SubView(0, n); var up = tx.View.SubView(n, n);
            act.Silu(gate, y.View.SubView(0, n), n);
            act.SwiGlu(gate, up, y.View.SubView(n, n), n);
            act.SwiGluPacked(tp.View, y.View.SubView(2 * n, N * F), N, F);
            act.SiluBackward(gate, tdy.View, dx.View.SubView(0, n), n);
            act.SwiGluBackward(gate, up, tdy.View, dx.View.SubView(n, n), dx.View.SubView(2 * n, n), n);
            act.SwiGluPackedBackward(tp.View, tdyp.View, dx.View.SubView(3 * n, 2 * N * F), N, F);
            return [.. y.ToArray(), .. dx.ToArray()];
        }, "SiLU/SwiGLU");
        Reference.AssertClose(host, Reference.ToDouble(kernel), 1e-6, "SiLU/SwiGLU host vs kernels");
    }

    [Fact]
    public void EmbeddingGivesTheKernelsBits()
    {
        const int N = 500, V = 97, C = 70;
        var tokens = Enumerable.Range(0, N).Select(i => (i * i + 5) % V).ToArray();
        var W = Reference.Random(V * C, 40); var dy = Reference.Random(N * C, 41);
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device;
            using var index = new EmbeddingGradIndex(d);
            index.Build(tokens, V);
            using var tok = Ints(d, tokens); using var tw = Tensor.FromArray(d, W, V, C);
            using var y = Tensor.Empty(d, N, C); using var tdy = Tensor.FromArray(d, dy, N, C); using var dW = Tensor.FromArray(d, W, V, C);
            ops.Embedding.Forward(tok.AsInt32(), tw.View, y.View, N, V, C);
            ops.Embedding.Backward(tdy.View, index, dW.View, N, V, C);
            return [.. y.ToArray(), .. dW.ToArray()];
        }, "embedding");
        Reference.AssertBitwiseEqual(host, kernel, "embedding host vs kernels");
    }

    [Fact]
    public void CrossEntropyMatchesTheKernels()
    {
        const int N = 70, V = 1000;
        var x = Reference.Random(N * V, 50, -4f, 4f); var g0 = Reference.Random(N * V, 51);
        var targets = Enumerable.Range(0, N).Select(i => i % 9 == 4 ? CrossEntropy.DefaultIgnoreIndex : (i * 31) % V).ToArray();
        int count = CrossEntropy.CountTargets(targets, V);
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device;
            using var tx = Tensor.FromArray(d, x, N, V); using var ty = Ints(d, targets);
            using var losses = Tensor.Empty(d, N); using var lse = Tensor.Empty(d, N); using var loss = Tensor.Empty(d, 1);
            using var dx = Tensor.FromArray(d, g0, N, V);
            ops.CrossEntropy.ForwardMean(tx.View, ty.AsInt32(), losses.View, lse.View, loss.View, N, V, count);
            ops.CrossEntropy.Backward(tx.View, ty.AsInt32(), lse.View, dx.View, N, V, count, 0.7f);
            return [.. losses.ToArray(), .. lse.ToArray(), .. loss.ToArray(), .. dx.ToArray()];
        }, "cross-entropy");
        Reference.AssertClose(host, Reference.ToDouble(kernel), 1e-6, "cross-entropy host vs kernels");
    }

    [Fact]
    public void ReductionsOverManyViewsAndRowsGiveTheKernelsBits()
    {
        int[] sizes = [70000, 3, 0, 1025, 20000, 1024];
        var arrays = sizes.Select((n, i) => Reference.Random(n, 60 + (ulong)i, -1f, 2f)).ToArray();
        const int N = 33, C = 3000;
        var m = Reference.Random(N * C, 66);
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device;
            var tensors = arrays.Select(a => Tensor.FromArray(d, a, a.Length)).ToList();
            try
            {
                var views = tensors.Select(t => t.View).ToList();
                using var r = Tensor.Empty(d, 4 + 2 * N);
                ops.Reductions.L2Norm(views, r.View.SubView(0, 1));
                ops.Reductions.Reduce(ReductionKind.AbsMax, views, r.View.SubView(1, 1));
                ops.Reductions.Sum(views[0], sizes[0], r.View.SubView(2, 1));
                ops.Reductions.Mean(views[4], sizes[4], r.View.SubView(3, 1), 7f);
                using var tm = Tensor.FromArray(d, m, N, C);
                ops.Reductions.SumRows(tm.View, r.View.SubView(4, N), N, C);
                ops.Reductions.ReduceRows(ReductionKind.Max, tm.View, r.View.SubView(4 + N, N), N, C);
                return r.ToArray();
            }
            finally { tensors.ForEach(t => t.Dispose()); }
        }, "reductions");
        Reference.AssertBitwiseEqual(host, kernel, "reductions host vs kernels");
    }

    [Fact]
    public void AdamWAndClippingGiveTheKernelsBits()
    {
        const int n = 2 * 16384 + 999, m = 1237;
        var p0 = Reference.Random(n, 70); var q0 = Reference.Random(m, 71);
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device;
            using var p = Tensor.FromArray(d, p0, n); using var mo = Tensor.Zeros(d, n); using var v = Tensor.Zeros(d, n);
            using var q = Tensor.FromArray(d, q0, m); using var mq = Tensor.Zeros(d, m); using var vq = Tensor.Zeros(d, m);
            using var g = Tensor.Empty(d, n); using var gq = Tensor.Empty(d, m);
            using var clip = new ClipScalars(d);
            for (int t = 1; t <= 3; t++)
            {
                g.CopyFrom(Reference.Random(n, 80 + (ulong)t, -3f, 3f));
                gq.CopyFrom(Reference.Random(m, 90 + (ulong)t, -3f, 3f));
                ops.GradClip.ComputeCoefficient([g.View, gq.View], 5f, clip);
                ops.AdamW.Step(p.View, g.View, mo.View, v.View, n, t, 1e-2, 0.9, 0.999, 1e-8, 0.1, clip.Coefficient.View);
                ops.AdamW.Step(q.View, gq.View, mq.View, vq.View, m, t, 1e-2, 0.9, 0.999, 1e-8, 0.0, 0.5f);
            }
            ops.GradClip.Clip([g.View, gq.View], 5f, clip);
            return [.. p.ToArray(), .. mo.ToArray(), .. v.ToArray(), .. q.ToArray(), .. mq.ToArray(), .. vq.ToArray(),
                .. g.ToArray(), .. gq.ToArray(), .. clip.Norm.ToArray(), .. clip.Coefficient.ToArray()];
        }, "AdamW and clipping");
        Reference.AssertBitwiseEqual(host, kernel, "AdamW and clipping host vs kernels");
    }

    [Theory]
    [InlineData(JepaDistanceKind.Cosine)]
    [InlineData(JepaDistanceKind.L2)]
    [InlineData(JepaDistanceKind.Mse)]
    public void JepaDistancesMatchTheKernels(JepaDistanceKind kind)
    {
        const int B = 70, C = 300;
        var p = Reference.Random(B * C, 100); var t = Reference.Random(B * C, 101); var g0 = Reference.Random(2 * B * C, 102);
        var (host, kernel) = Both(ops =>
        {
            var d = ops.Device;
            using var tp = Tensor.FromArray(d, p, B, C); using var tt = Tensor.FromArray(d, t, B, C);
            using var pairs = Tensor.Empty(d, B); using var loss = Tensor.Empty(d, 1); using var cos = Tensor.Empty(d, B);
            using var grads = Tensor.FromArray(d, g0, 2, B * C);
            ops.JepaDistance.Forward(kind, tp.View, tt.View, pairs.View, loss.View, B, C);
            ops.JepaDistance.CosineSimilarity(tp.View, tt.View, cos.View, B, C);
            ops.JepaDistance.Backward(kind, tp.View, tt.View, grads.View.SubView(0, B * C), grads.View.SubView(B * C, B * C), B, C, 0.9f);
            return [.. pairs.ToArray(), .. loss.ToArray(), .. cos.ToArray(), .. grads.ToArray()];
        }, $"JEPA {kind}");
        Reference.AssertClose(host, Reference.ToDouble(kernel), 1e-6, $"JEPA {kind} host vs kernels");
    }

    [Fact]
    public void TheLibraryPassesItsPathToEveryOpAndUnknownPathsAreRefused()
    {
        foreach (var (lib, want) in new[] { (f.Ops, KernelPath.Host), (f.Kernels, KernelPath.Kernel) })
        {
            KernelPath[] paths = [lib.Elementwise.Path, lib.Embedding.Path, lib.CrossEntropy.Path, lib.JepaDistance.Path,
                lib.MatMul.Path, lib.RmsNorm.Path, lib.Activations.Path, lib.Rope.Path, lib.Reductions.Path, lib.AdamW.Path,
                lib.GradClip.Path, lib.Attention.Path];
            Assert.All(paths, p => Assert.Equal(want, p));
        }
        Assert.Equal(KernelPath.Host, new Elementwise(f.Ops.Cache, KernelPath.Host).Path);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rope(f.Ops.Cache, (KernelPath)7));
    }
}
