using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Token embedding lookup: y[n, :] = W[tokens[n], :] for <c>N</c> token ids into a table W [V, C], and its
/// backward dW[v, :] += Σ_{n: tokens[n] = v} dy[n, :], computed without atomics: one owner thread per
/// (distinct token, channel) sums that token's positions in increasing order, using the host-built
/// <see cref="EmbeddingGradIndex"/>.
/// <para>On the CPU accelerator the op runs by default as host code in place on the accelerator's buffers
/// (<see cref="KernelPath"/>), with the same owners and summation order, so both paths give the same bits.</para>
/// </summary>
public sealed class Embedding
{
    private readonly KernelCache _k;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernels
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public Embedding(KernelCache kernels, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        Path = KernelPaths.Resolve("Embedding", kernels, path);
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>
    /// y[n, c] = W[tokens[n], c] for <paramref name="N"/> tokens and <paramref name="C"/> channels.
    /// Token ids must lie in <c>[0, V)</c>: they are not checked on the host here (they are already on the
    /// device); validate them with <see cref="EmbeddingGradIndex.Validate"/> or <see cref="EmbeddingGradIndex.Build"/>,
    /// which the training step does anyway for the backward. An out-of-range id never reads outside W:
    /// its output row is filled with NaN so the mistake shows up in the loss.
    /// </summary>
    public void Forward(ArrayView<int> tokens, ArrayView<float> W, ArrayView<float> y, int N, int V, int C)
    {
        int n = Check.Positive("Embedding", (nameof(N), N), (nameof(C), C));
        Check.Positive("Embedding", (nameof(V), V), (nameof(C), C));
        Check.Length("Embedding", nameof(tokens), tokens, N);
        Check.Length("Embedding", nameof(W), W, (long)V * C);
        Check.Length("Embedding", nameof(y), y, n);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe { EmbeddingCpu.Forward(G.CpuChunks, HostView.Ptr(tokens, nameof(tokens)), HostView.Ptr(W, nameof(W)), HostView.Ptr(y, nameof(y)), N, V, C); }
            return;
        }
        _k.Get("Embedding.Forward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<int>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (G.Threads(n), G.PerThread(n), n, V, C, tokens, W, y);
    }

    /// <summary>
    /// Backward of <see cref="Forward"/>: dW[v, c] += Σ over the positions n of token v (in increasing n) of dy[n, c].
    /// <paramref name="index"/> must have been built from the same <paramref name="N"/> tokens with vocabulary
    /// <paramref name="V"/>. Rows of W whose token does not occur are untouched.
    /// </summary>
    public void Backward(ArrayView<float> dy, EmbeddingGradIndex index, ArrayView<float> dW, int N, int V, int C)
    {
        int n = Check.Positive("EmbeddingBackward", (nameof(N), N), (nameof(C), C));
        Check.Positive("EmbeddingBackward", (nameof(V), V), (nameof(C), C));
        if (index.Count != N || index.Vocab != V)
            throw new ArgumentException(
                $"EmbeddingBackward: the index was built for {index.Count} tokens and vocabulary {index.Vocab}, but N = {N} and V = {V}.", nameof(index));
        Check.Length("EmbeddingBackward", nameof(dy), dy, n);
        Check.Length("EmbeddingBackward", nameof(dW), dW, (long)V * C);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe
            {
                EmbeddingCpu.Backward(G.CpuChunks, HostView.Ptr(index.UniqueTokens, nameof(index)), HostView.Ptr(index.Offsets, nameof(index)),
                    HostView.Ptr(index.Positions, nameof(index)), index.UniqueCount, HostView.Ptr(dy, nameof(dy)), HostView.Ptr(dW, nameof(dW)), C);
            }
            return;
        }
        int work = index.UniqueCount * C;
        _k.Get("Embedding.Backward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (G.Threads(work), G.PerThread(work), work, C, index.UniqueTokens, index.Offsets, index.Positions, dy, dW);
    }

    private static void ForwardKernel(Index1D t, int per, int n, int V, int C, ArrayView<int> tokens, ArrayView<float> W, ArrayView<float> y)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            int row = i / C;
            int c = i - row * C;
            int id = tokens[row];
            y[i] = id >= 0 && id < V ? W[(long)id * C + c] : float.NaN;
        }
    }

    private static void BackwardKernel(Index1D t, int per, int work, int C, ArrayView<int> unique, ArrayView<int> offsets, ArrayView<int> positions, ArrayView<float> dy, ArrayView<float> dW)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, work); i < e; i++)
        {
            int u = i / C;
            int c = i - u * C;
            float s = 0f;
            for (int k = offsets[u], end = offsets[u + 1]; k < end; k++) s += dy[(long)positions[k] * C + c];
            dW[(long)unique[u] * C + c] += s;
        }
    }
}
