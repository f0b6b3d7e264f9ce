using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>
/// Fused log-softmax + cross-entropy over logits [N, V] with integer targets [N] and an ignore index
/// (rows whose target equals it contribute nothing). The training loss is the mean over the
/// <c>count</c> non-ignored rows; the trainer knows <c>count</c> from the host-side targets
/// (<see cref="CountTargets"/>). Forward and backward are deterministic: one group per row with
/// fixed-pattern shared-memory reductions, one owner per gradient element, no atomics.
/// <para>On the CPU accelerator the op runs by default as SIMD host code in place on the accelerator's buffers
/// (<see cref="KernelPath"/>): rows in fixed blocks over the CPU threads, a vectorised exp, row sums in an order
/// fixed by V. Results are bitwise independent of the thread count and differ from the kernels' by rounding.</para>
/// </summary>
public sealed class CrossEntropy
{
    /// <summary>The default ignore index (PyTorch's).</summary>
    public const int DefaultIgnoreIndex = -100;

    private readonly KernelCache _k;
    private readonly int _rowGroupCap;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="rowGroupCap">Largest group of the per-row forward kernel; 0 (the default) picks
    /// <see cref="LaunchGeometry.RowGroupSize"/> on GPUs and 1 on the CPU accelerator, where the barriers of a
    /// cooperative group synchronise OS threads and cost milliseconds per row. Tests pass a larger cap to
    /// run the GPU's cooperative path on the CPU. The host path ignores it.</param>
    /// <param name="path">Which implementation runs: by default the host path on the CPU accelerator and the kernels
    /// elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public CrossEntropy(KernelCache kernels, int rowGroupCap = 0, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        _rowGroupCap = rowGroupCap;
        Path = KernelPaths.Resolve("CrossEntropy", kernels, path);
        _reductions = new Reductions(kernels, path: Path);
    }

    /// <summary>The path this instance runs: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private readonly Reductions _reductions;

    private LaunchGeometry G => _k.Device.Geometry;

    /// <summary>
    /// Number of rows that count towards the mean (targets ≠ <paramref name="ignoreIndex"/>), after checking
    /// that every other target lies in <c>[0, V)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A target is out of range; the message names its position and value.</exception>
    public static int CountTargets(ReadOnlySpan<int> targets, int V, int ignoreIndex = DefaultIgnoreIndex)
    {
        if (V <= 0) throw new ArgumentOutOfRangeException(nameof(V), V, "CrossEntropy: vocabulary size must be positive.");
        int count = 0;
        for (int n = 0; n < targets.Length; n++)
        {
            int id = targets[n];
            if (id == ignoreIndex) continue;
            if ((uint)id >= (uint)V)
                throw new ArgumentOutOfRangeException(nameof(targets), id,
                    $"CrossEntropy: target {id} at position {n} is outside [0, {V}) and is not the ignore index {ignoreIndex}.");
            count++;
        }
        return count;
    }

    /// <summary>
    /// Per-row loss and log-sum-exp: for a row with target y ≠ <paramref name="ignoreIndex"/>,
    /// lse[n] = log Σ_v exp(logits[n, v]) (max-shifted) and losses[n] = lse[n] − logits[n, y];
    /// ignored rows get losses[n] = 0 and lse[n] = 0 (their lse is never needed). A target outside
    /// <c>[0, V)</c> that is not the ignore index gives a NaN loss (kernels cannot throw; check targets
    /// on the host with <see cref="CountTargets"/>). Keep <paramref name="lse"/> for <see cref="Backward"/>.
    /// </summary>
    public void Forward(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> lse,
        int N, int V, int ignoreIndex = DefaultIgnoreIndex)
    {
        int n = Check.Positive("CrossEntropy", (nameof(N), N), (nameof(V), V));
        Check.Length("CrossEntropy", nameof(logits), logits, n);
        Check.Length("CrossEntropy", nameof(targets), targets, N);
        Check.Length("CrossEntropy", nameof(losses), losses, N);
        Check.Length("CrossEntropy", nameof(lse), lse, N);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe
            {
                CrossEntropyCpu.Forward(G.CpuChunks, HostView.Ptr(logits, nameof(logits)), HostView.Ptr(targets, nameof(targets)),
                    HostView.Ptr(losses, nameof(losses)), HostView.Ptr(lse, nameof(lse)), N, V, ignoreIndex);
            }
            return;
        }
        int group = RowReduce.GroupSize(G, _rowGroupCap);
        _k.Get("CrossEntropy.Forward", acc => acc.LoadStreamKernel<int, int, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(ForwardKernel))
            (new KernelConfig(N, group, SharedMemoryConfig.RequestDynamic<float>(group)), V, ignoreIndex, logits, targets, losses, lse);
    }

    /// <summary>
    /// loss[0] = Σ_n losses[n] / <paramref name="count"/>, summed deterministically by <see cref="Reductions.Mean"/>
    /// (fixed blocks and a fixed tree, independent of thread counts). With
    /// <paramref name="count"/> = 0 (every row ignored) the loss is 0, not NaN.
    /// </summary>
    public void Mean(ArrayView<float> losses, ArrayView<float> loss, int N, int count)
    {
        Check.Positive("CrossEntropyMean", (nameof(N), N));
        CheckCount("CrossEntropyMean", N, count);
        Check.Length("CrossEntropyMean", nameof(losses), losses, N);
        Check.Length("CrossEntropyMean", nameof(loss), loss, 1);
        _reductions.Mean(losses, N, loss, count);
    }

    /// <summary><see cref="Forward"/> then <see cref="Mean"/>: the mean loss over the non-ignored rows in loss[0].</summary>
    public void ForwardMean(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> lse,
        ArrayView<float> loss, int N, int V, int count, int ignoreIndex = DefaultIgnoreIndex)
    {
        Forward(logits, targets, losses, lse, N, V, ignoreIndex);
        Mean(losses, loss, N, count);
    }

    /// <summary>
    /// Backward of the mean loss: dlogits[n, v] += (softmax(logits[n])[v] − [v = y_n]) · dloss / count for
    /// non-ignored rows, nothing for ignored ones (and nothing at all when <paramref name="count"/> is 0).
    /// <paramref name="lse"/> is the one <see cref="Forward"/> wrote. A row with an out-of-range target
    /// receives NaN, as its forward loss did.
    /// </summary>
    public void Backward(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> lse, ArrayView<float> dlogits,
        int N, int V, int count, float dloss = 1f, int ignoreIndex = DefaultIgnoreIndex)
    {
        int n = Check.Positive("CrossEntropyBackward", (nameof(N), N), (nameof(V), V));
        CheckCount("CrossEntropyBackward", N, count);
        Check.Length("CrossEntropyBackward", nameof(logits), logits, n);
        Check.Length("CrossEntropyBackward", nameof(targets), targets, N);
        Check.Length("CrossEntropyBackward", nameof(lse), lse, N);
        Check.Length("CrossEntropyBackward", nameof(dlogits), dlogits, n);
        if (count == 0) return;
        float scale = dloss / count;
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe
            {
                CrossEntropyCpu.Backward(G.CpuChunks, HostView.Ptr(logits, nameof(logits)), HostView.Ptr(targets, nameof(targets)),
                    HostView.Ptr(lse, nameof(lse)), HostView.Ptr(dlogits, nameof(dlogits)), N, V, ignoreIndex, scale);
            }
            return;
        }
        _k.Get("CrossEntropy.Backward", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>>(BackwardKernel))
            (G.Threads(n), G.PerThread(n), n, V, ignoreIndex, scale, logits, targets, lse, dlogits);
    }

    private static void CheckCount(string op, int N, int count)
    {
        if (count < 0 || count > N)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{op}: count of non-ignored rows must be in [0, {N}].");
    }

    private static void ForwardKernel(int V, int ignoreIndex, ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, ArrayView<float> lse)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int row = Grid.IdxX;
        int tid = Group.IdxX;
        int step = Group.DimX;
        int target = targets[row];
        if (target == ignoreIndex)
        {
            // Uniform across the group (one row per group), so no thread is left waiting at a barrier.
            if (tid == 0) { losses[row] = 0f; lse[row] = 0f; }
            return;
        }
        long off = (long)row * V;
        float m = float.NegativeInfinity;
        for (int v = tid; v < V; v += step) m = XMath.Max(m, logits[off + v]);
        m = RowReduce.Max(shared, m);
        float s = 0f;
        for (int v = tid; v < V; v += step) s += XMath.Exp(logits[off + v] - m);
        s = RowReduce.Sum(shared, s);
        if (tid == 0)
        {
            float l = m + XMath.Log(s);
            lse[row] = l;
            losses[row] = target >= 0 && target < V ? l - logits[off + target] : float.NaN;
        }
    }

    private static void BackwardKernel(Index1D t, int per, int n, int V, int ignoreIndex, float scale,
        ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> lse, ArrayView<float> dlogits)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            int row = i / V;
            int v = i - row * V;
            int target = targets[row];
            if (target == ignoreIndex) continue;
            float g = target >= 0 && target < V
                ? XMath.Exp(logits[i] - lse[row]) - (v == target ? 1f : 0f)
                : float.NaN;
            dlogits[i] += g * scale;
        }
    }
}
