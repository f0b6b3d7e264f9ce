using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Tests.Support;

namespace Jepa.Tests.Kernels;

public sealed class EmbeddingTests(CpuFixture f) : IClassFixture<CpuFixture>
{
    /// <summary>Random ids in [0, V) with deliberate repeats: every third position repeats an earlier id.</summary>
    private static int[] Tokens(int n, int vocab, ulong seed)
    {
        var u = Reference.Random(n, seed, 0f, 1f);
        var ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = i % 3 == 2 ? ids[i / 2] : Math.Min(vocab - 1, (int)(u[i] * vocab));
        return ids;
    }

    private static double[] ForwardRef(int[] tokens, double[] W, int C)
    {
        var y = new double[tokens.Length * C];
        for (int n = 0; n < tokens.Length; n++)
            for (int c = 0; c < C; c++) y[n * C + c] = W[tokens[n] * C + c];
        return y;
    }

    [Theory]
    [InlineData(KernelPath.Kernel, 1, 1, 1)]
    [InlineData(KernelPath.Host, 1, 1, 1)]
    [InlineData(KernelPath.Kernel, 20, 13, 7)]
    [InlineData(KernelPath.Host, 20, 13, 7)]
    [InlineData(KernelPath.Kernel, 37, 1000, 65)]
    [InlineData(KernelPath.Host, 37, 1000, 65)]
    public void ForwardCopiesTableRows(KernelPath path, int N, int V, int C)
    {
        var tokens = Tokens(N, V, 1);
        var W = Reference.Random(V * C, 2);
        using var tok = f.Device.Accelerator.Allocate1D(tokens);
        using var tw = f.Upload(W, V, C);
        using var y = Tensor.Empty(f.Device, N, C);
        f.Lib(path).Embedding.Forward(tok.View, tw.View, y.View, N, V, C);
        Reference.AssertClose(y.ToArray(), ForwardRef(tokens, Reference.ToDouble(W), C), 1e-12, "embedding");
    }

    private static int[] Host(ArrayView<int> v)
    {
        var a = new int[v.Length];
        v.CopyToCPU(a);
        return a;
    }

    [Fact]
    public void IndexGroupsPositionsStablyByToken()
    {
        int[] tokens = [5, 2, 5, 0, 2, 5, 9];
        using var index = new EmbeddingGradIndex(f.Device);
        index.Build(tokens, 10);
        Assert.Equal(7, index.Count);
        Assert.Equal(4, index.UniqueCount);
        Assert.Equal([0, 2, 5, 9], Host(index.UniqueTokens));
        Assert.Equal([0, 1, 3, 6, 7], Host(index.Offsets));
        Assert.Equal([3, 1, 4, 0, 2, 5, 6], Host(index.Positions));

        index.Build([1, 1], 3); // rebuilding reuses the buffers
        Assert.Equal([1], Host(index.UniqueTokens));
        Assert.Equal([0, 2], Host(index.Offsets));
        Assert.Equal([0, 1], Host(index.Positions));
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BackwardMatchesFiniteDifferencesAndAccumulates(KernelPath path)
    {
        int N = 20, V = 13, C = 7;
        var tokens = Tokens(N, V, 3);
        var W = Reference.Random(V * C, 4); var w = Reference.Random(N * C, 5); var dW0 = Reference.Random(V * C, 6);
        using var index = new EmbeddingGradIndex(f.Device);
        index.Build(tokens, V);
        using var dy = f.Upload(w, N, C); using var dW = f.Upload(dW0, V, C);
        f.Lib(path).Embedding.Backward(dy.View, index, dW.View, N, V, C);
        var wd = Reference.ToDouble(w);
        var num = GradCheck.Numeric(Ws => GradCheck.Dot(ForwardRef(tokens, Ws, C), wd), Reference.ToDouble(W));
        Reference.AssertClose(dW.ToArray(), num.Select((g, i) => dW0[i] + g).ToArray(), 1e-6, "dW");
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BackwardMatchesFloat64OnALargerVocabulary(KernelPath path)
    {
        int N = 300, V = 1000, C = 65;
        var tokens = Tokens(N, V, 7);
        var w = Reference.Random(N * C, 8); var dW0 = Reference.Random(V * C, 9);
        var expected = Reference.ToDouble(dW0);
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) expected[tokens[n] * C + c] += w[n * C + c];
        using var index = new EmbeddingGradIndex(f.Device);
        index.Build(tokens, V);
        using var dy = f.Upload(w, N, C); using var dW = f.Upload(dW0, V, C);
        f.Lib(path).Embedding.Backward(dy.View, index, dW.View, N, V, C);
        Reference.AssertClose(dW.ToArray(), expected, 1e-6, "dW");
    }

    [Fact]
    public void OutOfRangeTokenIdIsAClearError()
    {
        using var index = new EmbeddingGradIndex(f.Device);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => index.Build([1, 2, 3, 10, 4], 10));
        Assert.Contains("token id 10 at position 3", e.Message);
        Assert.Contains("[0, 10)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingGradIndex.Validate([0, -1], 10));
        Assert.Contains("token id -1 at position 1", e.Message);
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void OutOfRangeIdOnTheDeviceGivesNaNNotAFault(KernelPath path)
    {
        int[] tokens = [0, 7, 1];
        using var tok = f.Device.Accelerator.Allocate1D(tokens);
        using var tw = f.Upload(Reference.Random(3 * 4, 10), 3, 4);
        using var y = Tensor.Empty(f.Device, 3, 4);
        f.Lib(path).Embedding.Forward(tok.View, tw.View, y.View, 3, 3, 4);
        var a = y.ToArray();
        Assert.All(a[4..8], v => Assert.True(float.IsNaN(v)));
        Assert.All(a[..4].Concat(a[8..]), v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void IndexBuiltForOtherSizesIsRejected(KernelPath path)
    {
        using var index = new EmbeddingGradIndex(f.Device);
        index.Build([0, 1, 1], 4);
        using var dy = Tensor.Zeros(f.Device, 4, 2); using var dW = Tensor.Zeros(f.Device, 4, 2);
        var e = Assert.Throws<ArgumentException>(() => f.Lib(path).Embedding.Backward(dy.View, index, dW.View, 4, 4, 2));
        Assert.Contains("built for 3 tokens", e.Message);
    }

    [Theory]
    [InlineData(KernelPath.Kernel)]
    [InlineData(KernelPath.Host)]
    public void BackwardIsDeterministic(KernelPath path)
    {
        int N = 500, V = 50, C = 33; // ~10 positions per token
        var tokens = Tokens(N, V, 11);
        var w = Reference.Random(N * C, 12); var dW0 = Reference.Random(V * C, 13);
        float[][] Run(KernelLibrary ops)
        {
            using var index = new EmbeddingGradIndex(ops.Device);
            index.Build(tokens, V);
            using var tok = ops.Device.Accelerator.Allocate1D(tokens);
            using var W = Tensor.FromArray(ops.Device, dW0, V, C);
            using var y = Tensor.Empty(ops.Device, N, C);
            ops.Embedding.Forward(tok.View, W.View, y.View, N, V, C);
            using var dy = Tensor.FromArray(ops.Device, w, N, C); using var dW = Tensor.FromArray(ops.Device, dW0, V, C);
            ops.Embedding.Backward(dy.View, index, dW.View, N, V, C);
            return [y.ToArray(), dW.ToArray()];
        }
        var first = Run(f.Lib(path)); var second = Run(f.Lib(path));
        Reference.AssertBitwiseEqual(first[1], second[1], "dW twice");
        ChunkRuns.AssertIndependentOfChunks(Run, "embedding", path);
    }
}
