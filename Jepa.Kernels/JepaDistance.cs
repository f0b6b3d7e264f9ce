using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels.Cpu;

namespace Jepa.Kernels;

/// <summary>The distance between predicted and target embeddings that the JEPA loss term minimises.</summary>
public enum JepaDistanceKind
{
    /// <summary>1 − cos(p_i, t_i), mean over the batch.</summary>
    Cosine,
    /// <summary>‖p_i − t_i‖₂, mean over the batch.</summary>
    L2,
    /// <summary>(p − t)², mean over the batch and the channels.</summary>
    Mse,
    /// <summary>InfoNCE with in-batch negatives: cross-entropy of the cosine logits cos(p_i, t_j)/τ against label i.</summary>
    InfoNce,
}

/// <summary>
/// JEPA distances between predicted embeddings p [B, C] and target embeddings t [B, C]: each forward
/// writes the per-pair values pairs [B] (the per-pair loss terms, whose mean is the loss) and the batch-mean
/// loss loss[0]; each backward accumulates dp += ∂(dloss·loss)/∂p and dt += ∂(dloss·loss)/∂t, recomputing
/// what it needs from p and t (nothing is saved between the two). Deterministic: per-row sums run in a fixed
/// order (a shared-memory tree per row, or one owner thread), the batch mean is summed in fixed blocks, no atomics.
/// <para>Cosine: cos = p·t / max(‖p‖·‖t‖, ε) with ε = <see cref="CosineEps"/> (PyTorch's
/// <c>cosine_similarity</c> clamp), ‖p‖·‖t‖ formed as the product of the two norms (no overflow of ‖p‖²‖t‖²).
/// Where the clamp is active the gradient is that of p·t/ε.</para>
/// <para>L2: the gradient at p_i = t_i is taken as 0 (the subgradient PyTorch's norm uses), never NaN.</para>
/// <para>InfoNCE: p̂ = p / max(‖p‖, ε), t̂ likewise, ε = <see cref="NormalizeEps"/> (as
/// <c>torch.nn.functional.normalize</c>); logits_ij = p̂_i·t̂_j / τ in a B×B scratch tensor;
/// pairs[i] = logsumexp_j logits_ij − logits_ii. B is expected to be small (up to a few hundred).</para>
/// <para>On the CPU accelerator the cosine, L2 and MSE distances (and <see cref="CosineSimilarity"/>) run by default
/// as host code in place on the accelerator's buffers (<see cref="KernelPath"/>), with the kernels' formulas and
/// row sums in an order fixed by C; InfoNCE always runs its kernels (its mean and the other reductions follow the
/// path).</para>
/// </summary>
public sealed class JepaDistance
{
    /// <summary>Lower bound of ‖p‖·‖t‖ in the cosine (as PyTorch's <c>cosine_similarity</c>).</summary>
    public const float CosineEps = 1e-8f;

    /// <summary>Lower bound of a norm when InfoNCE normalises an embedding (as <c>F.normalize</c>).</summary>
    public const float NormalizeEps = 1e-12f;

    /// <summary>Default InfoNCE temperature τ.</summary>
    public const float DefaultTemperature = 0.07f;

    internal const int ModeCosineLoss = 0, ModeL2 = 1, ModeMse = 2, ModeCosineSimilarity = 3;

    private readonly KernelCache _k;
    private readonly int _rowGroupCap;

    /// <summary>Creates the op on a device's kernel cache.</summary>
    /// <param name="kernels">The device's kernel cache.</param>
    /// <param name="rowGroupCap">Largest group of the per-row reduction kernel; 0 (the default) picks
    /// <see cref="LaunchGeometry.RowGroupSize"/> on GPUs and 1 on the CPU accelerator. Tests pass a larger
    /// cap to run the GPU's cooperative path on the CPU. The host path ignores it.</param>
    /// <param name="path">Which implementation the pairwise distances run: by default the host path on the CPU
    /// accelerator and the kernels elsewhere; <see cref="KernelPath.Kernel"/> forces the kernels.</param>
    /// <exception cref="ArgumentException"><see cref="KernelPath.Host"/> on a device other than the CPU accelerator.</exception>
    public JepaDistance(KernelCache kernels, int rowGroupCap = 0, KernelPath path = KernelPath.Auto)
    {
        _k = kernels;
        _rowGroupCap = rowGroupCap;
        Path = KernelPaths.Resolve("JepaDistance", kernels, path);
        _reductions = new Reductions(kernels, path: Path);
    }

    /// <summary>The path the pairwise distances run on this instance: <see cref="KernelPath.Kernel"/> or <see cref="KernelPath.Host"/>.</summary>
    public KernelPath Path { get; }

    private readonly Reductions _reductions;

    private LaunchGeometry G => _k.Device.Geometry;

    // ---------------------------------------------------------------- dispatch

    /// <summary>Forward of the distance <paramref name="kind"/>: pairs[i] = the pair's loss term, loss[0] = mean_i pairs[i].
    /// <paramref name="temperature"/> is used by <see cref="JepaDistanceKind.InfoNce"/> only.</summary>
    public void Forward(JepaDistanceKind kind, ArrayView<float> p, ArrayView<float> t, ArrayView<float> pairs, ArrayView<float> loss,
        int B, int C, float temperature = DefaultTemperature)
    {
        switch (kind)
        {
            case JepaDistanceKind.Cosine: Cosine(p, t, pairs, loss, B, C); break;
            case JepaDistanceKind.L2: L2(p, t, pairs, loss, B, C); break;
            case JepaDistanceKind.Mse: Mse(p, t, pairs, loss, B, C); break;
            case JepaDistanceKind.InfoNce: InfoNce(p, t, pairs, loss, B, C, temperature); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "JepaDistance: unknown distance kind.");
        }
    }

    /// <summary>Backward of <see cref="Forward"/>: dp += dloss·∂loss/∂p, dt += dloss·∂loss/∂t. Pass an empty view
    /// (<c>default</c>) as <paramref name="dt"/> when the target branch gets no gradient (stop-gradient).</summary>
    public void Backward(JepaDistanceKind kind, ArrayView<float> p, ArrayView<float> t, ArrayView<float> dp, ArrayView<float> dt,
        int B, int C, float dloss = 1f, float temperature = DefaultTemperature)
    {
        switch (kind)
        {
            case JepaDistanceKind.Cosine: CosineBackward(p, t, dp, dt, B, C, dloss); break;
            case JepaDistanceKind.L2: L2Backward(p, t, dp, dt, B, C, dloss); break;
            case JepaDistanceKind.Mse: MseBackward(p, t, dp, dt, B, C, dloss); break;
            case JepaDistanceKind.InfoNce: InfoNceBackward(p, t, dp, dt, B, C, dloss, temperature); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "JepaDistance: unknown distance kind.");
        }
    }

    // ---------------------------------------------------------------- cosine, l2, mse

    /// <summary>cos[i] = cos(p_i, t_i) (clamped as described on the class), for logging.</summary>
    public void CosineSimilarity(ArrayView<float> p, ArrayView<float> t, ArrayView<float> cos, int B, int C) =>
        PairwiseForward("CosineSimilarity", ModeCosineSimilarity, p, t, cos, null, B, C);

    /// <summary>pairs[i] = 1 − cos(p_i, t_i); loss[0] = mean_i pairs[i].</summary>
    public void Cosine(ArrayView<float> p, ArrayView<float> t, ArrayView<float> pairs, ArrayView<float> loss, int B, int C) =>
        PairwiseForward("JepaCosine", ModeCosineLoss, p, t, pairs, loss, B, C);

    /// <summary>Backward of <see cref="Cosine"/>: dp += −dloss/B · ∂cos/∂p, dt likewise (skipped when <paramref name="dt"/> is empty).</summary>
    public void CosineBackward(ArrayView<float> p, ArrayView<float> t, ArrayView<float> dp, ArrayView<float> dt, int B, int C, float dloss = 1f) =>
        PairwiseBackward("JepaCosineBackward", ModeCosineLoss, p, t, dp, dt, B, C, dloss);

    /// <summary>pairs[i] = ‖p_i − t_i‖₂; loss[0] = mean_i pairs[i].</summary>
    public void L2(ArrayView<float> p, ArrayView<float> t, ArrayView<float> pairs, ArrayView<float> loss, int B, int C) =>
        PairwiseForward("JepaL2", ModeL2, p, t, pairs, loss, B, C);

    /// <summary>Backward of <see cref="L2"/>: dp += dloss/B · (p − t)/‖p − t‖ (0 where p_i = t_i), dt += the negative.</summary>
    public void L2Backward(ArrayView<float> p, ArrayView<float> t, ArrayView<float> dp, ArrayView<float> dt, int B, int C, float dloss = 1f) =>
        PairwiseBackward("JepaL2Backward", ModeL2, p, t, dp, dt, B, C, dloss);

    /// <summary>pairs[i] = mean_c (p_ic − t_ic)²; loss[0] = mean_i pairs[i] (the mean over all B·C elements).</summary>
    public void Mse(ArrayView<float> p, ArrayView<float> t, ArrayView<float> pairs, ArrayView<float> loss, int B, int C) =>
        PairwiseForward("JepaMse", ModeMse, p, t, pairs, loss, B, C);

    /// <summary>Backward of <see cref="Mse"/>: dp += dloss · 2(p − t)/(B·C), dt += the negative.</summary>
    public void MseBackward(ArrayView<float> p, ArrayView<float> t, ArrayView<float> dp, ArrayView<float> dt, int B, int C, float dloss = 1f) =>
        PairwiseBackward("JepaMseBackward", ModeMse, p, t, dp, dt, B, C, dloss);

    private void PairwiseForward(string op, int mode, ArrayView<float> p, ArrayView<float> t, ArrayView<float> pairs, ArrayView<float>? loss, int B, int C)
    {
        int n = Check.Positive(op, (nameof(B), B), (nameof(C), C));
        Check.Length(op, nameof(p), p, n); Check.Length(op, nameof(t), t, n);
        Check.Length(op, mode == ModeCosineSimilarity ? "cos" : nameof(pairs), pairs, B);
        if (loss is { } l) Check.Length(op, nameof(loss), l, 1);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe { JepaDistanceCpu.Pairs(G.CpuChunks, mode, HostView.Ptr(p, nameof(p)), HostView.Ptr(t, nameof(t)), HostView.Ptr(pairs, nameof(pairs)), B, C, CosineEps); }
            if (loss is { } hl) _reductions.Mean(pairs, B, hl, B);
            return;
        }
        var scratch = _k.Device.Pool.Rent(4L * B);
        try
        {
            var stats = scratch.View.SubView(0, 4L * B);
            RowStats(p, t, stats, B, C);
            _k.Get("JepaDistance.Pairs", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<float>>(PairsKernel))
                (G.Threads(B), G.PerThread(B), B, C, mode, CosineEps, stats, pairs);
            if (loss is { } l2) _reductions.Mean(pairs, B, l2, B);
        }
        finally { _k.Device.Pool.Return(scratch); }
    }

    private void PairwiseBackward(string op, int mode, ArrayView<float> p, ArrayView<float> t, ArrayView<float> dp, ArrayView<float> dt, int B, int C, float dloss)
    {
        int n = Check.Positive(op, (nameof(B), B), (nameof(C), C));
        Check.Length(op, nameof(p), p, n); Check.Length(op, nameof(t), t, n); Check.Length(op, nameof(dp), dp, n);
        bool hasDt = dt.Length > 0;
        if (hasDt) Check.Length(op, nameof(dt), dt, n);
        if (Path == KernelPath.Host)
        {
            _k.Accelerator.DefaultStream.Synchronize();
            unsafe
            {
                JepaDistanceCpu.Grad(G.CpuChunks, mode, HostView.Ptr(p, nameof(p)), HostView.Ptr(t, nameof(t)), HostView.Ptr(dp, nameof(dp)),
                    hasDt ? HostView.Ptr(dt, nameof(dt)) : null, B, C, CosineEps, dloss / B);
            }
            return;
        }
        var scratch = _k.Device.Pool.Rent(4L * B);
        try
        {
            var stats = scratch.View.SubView(0, 4L * B);
            RowStats(p, t, stats, B, C);
            _k.Get("JepaDistance.Grad", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, float, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GradKernel))
                (G.Threads(n), G.PerThread(n), n, C, mode, CosineEps, dloss / B, hasDt ? 1 : 0, p, t, stats, dp, hasDt ? dt : dp);
        }
        finally { _k.Device.Pool.Return(scratch); }
    }

    /// <summary>stats[4i..4i+3] = (p_i·t_i, ‖p_i‖², ‖t_i‖², ‖p_i − t_i‖²), one group per row.</summary>
    private void RowStats(ArrayView<float> p, ArrayView<float> t, ArrayView<float> stats, int B, int C)
    {
        int group = RowReduce.GroupSize(G, _rowGroupCap);
        _k.Get("JepaDistance.RowStats", acc => acc.LoadStreamKernel<int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(RowStatsKernel))
            (new KernelConfig(B, group, SharedMemoryConfig.RequestDynamic<float>(group)), C, p, t, stats);
    }

    private static void RowStatsKernel(int C, ArrayView<float> p, ArrayView<float> t, ArrayView<float> stats)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int row = Grid.IdxX;
        int tid = Group.IdxX;
        int step = Group.DimX;
        long off = (long)row * C;
        float dot = 0f, pp = 0f, tt = 0f, dd = 0f;
        for (int c = tid; c < C; c += step)
        {
            float a = p[off + c], b = t[off + c], d = a - b;
            dot += a * b; pp += a * a; tt += b * b; dd += d * d;
        }
        dot = RowReduce.Sum(shared, dot);
        pp = RowReduce.Sum(shared, pp);
        tt = RowReduce.Sum(shared, tt);
        dd = RowReduce.Sum(shared, dd);
        if (tid == 0)
        {
            stats[4 * row] = dot; stats[4 * row + 1] = pp; stats[4 * row + 2] = tt; stats[4 * row + 3] = dd;
        }
    }

    private static float ClampedCosine(float dot, float pp, float tt, float eps)
    {
        float den = XMath.Sqrt(pp) * XMath.Sqrt(tt);
        return dot / (den > eps ? den : eps);
    }

    private static void PairsKernel(Index1D t, int per, int B, int C, int mode, float eps, ArrayView<float> stats, ArrayView<float> pairs)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, B); i < e; i++)
        {
            float dot = stats[4 * i], pp = stats[4 * i + 1], tt = stats[4 * i + 2], dd = stats[4 * i + 3];
            float v;
            if (mode == ModeCosineLoss) v = 1f - ClampedCosine(dot, pp, tt, eps);
            else if (mode == ModeL2) v = XMath.Sqrt(dd);
            else if (mode == ModeMse) v = dd / C;
            else v = ClampedCosine(dot, pp, tt, eps);
            pairs[i] = v;
        }
    }

    private static void GradKernel(Index1D t, int per, int n, int C, int mode, float eps, float scale, int hasDt,
        ArrayView<float> p, ArrayView<float> tg, ArrayView<float> stats, ArrayView<float> dp, ArrayView<float> dt)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, n); i < e; i++)
        {
            int row = i / C;
            float a = p[i], b = tg[i];
            float gp, gt;
            if (mode == ModeCosineLoss)
            {
                float dot = stats[4 * row], pp = stats[4 * row + 1], tt = stats[4 * row + 2];
                float den = XMath.Sqrt(pp) * XMath.Sqrt(tt);
                if (den > eps)
                {
                    float cos = dot / den;
                    gp = cos * a / pp - b / den;   // ∂(1 − cos)/∂p
                    gt = cos * b / tt - a / den;
                }
                else
                {
                    gp = -b / eps;                 // clamped: ∂(1 − p·t/ε)/∂p
                    gt = -a / eps;
                }
            }
            else if (mode == ModeL2)
            {
                float d = XMath.Sqrt(stats[4 * row + 3]);
                gp = d > 0f ? (a - b) / d : 0f;
                gt = -gp;
            }
            else
            {
                gp = 2f * (a - b) / C;
                gt = -gp;
            }
            dp[i] += scale * gp;
            if (hasDt != 0) dt[i] += scale * gt;
        }
    }

    // ---------------------------------------------------------------- infonce

    /// <summary>InfoNCE with in-batch negatives: pairs[i] = −log softmax_j(p̂_i·t̂_j/τ)[i]; loss[0] = mean_i pairs[i].</summary>
    public void InfoNce(ArrayView<float> p, ArrayView<float> t, ArrayView<float> pairs, ArrayView<float> loss, int B, int C,
        float temperature = DefaultTemperature)
    {
        const string op = "JepaInfoNce";
        CheckInfoNce(op, p, t, B, C, temperature);
        Check.Length(op, nameof(pairs), pairs, B); Check.Length(op, nameof(loss), loss, 1);
        var scratch = _k.Device.Pool.Rent(InfoScratchLength(B));
        try
        {
            var s = new InfoScratch(scratch.View, B);
            InfoLogits(p, t, s, B, C, temperature, pairs);
            _reductions.Mean(pairs, B, loss, B);
        }
        finally { _k.Device.Pool.Return(scratch); }
    }

    /// <summary>Backward of <see cref="InfoNce"/>: with G_ij = (softmax_j(logits_i)_j − δ_ij)·dloss/B,
    /// dp̂_i = Σ_j G_ij t̂_j/τ and dt̂_j = Σ_i G_ij p̂_i/τ, taken back through the normalisation
    /// (dp_i += (dp̂_i − p̂_i (p̂_i·dp̂_i)) / ‖p_i‖, or dp̂_i/ε where the norm is clamped); dt likewise
    /// (skipped when <paramref name="dt"/> is empty).</summary>
    public void InfoNceBackward(ArrayView<float> p, ArrayView<float> t, ArrayView<float> dp, ArrayView<float> dt, int B, int C,
        float dloss = 1f, float temperature = DefaultTemperature)
    {
        const string op = "JepaInfoNceBackward";
        int n = CheckInfoNce(op, p, t, B, C, temperature);
        Check.Length(op, nameof(dp), dp, n);
        bool hasDt = dt.Length > 0;
        if (hasDt) Check.Length(op, nameof(dt), dt, n);
        var scratch = _k.Device.Pool.Rent(InfoScratchLength(B));
        try
        {
            var s = new InfoScratch(scratch.View, B);
            InfoLogits(p, t, s, B, C, temperature, s.Pairs);
            int bb = B * B;
            _k.Get("JepaDistance.InfoSoftmaxGrad", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>>(InfoSoftmaxGradKernel))
                (G.Threads(bb), G.PerThread(bb), bb, B, dloss / B, s.Logits, s.Lse, s.G);
            _k.Get("JepaDistance.InfoDots", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(InfoDotsKernel))
                (G.Threads(B), G.PerThread(B), B, NormalizeEps, s.Stats, s.Logits, s.G, s.Dots);
            _k.Get("JepaDistance.InfoGrad", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(InfoGradKernel))
                (G.Threads(n), G.PerThread(n), n, B, C, temperature, hasDt ? 1 : 0, p, t, s.Norms, s.G, s.Dots, dp, hasDt ? dt : dp);
        }
        finally { _k.Device.Pool.Return(scratch); }
    }

    private static int CheckInfoNce(string op, ArrayView<float> p, ArrayView<float> t, int B, int C, float temperature)
    {
        int n = Check.Positive(op, (nameof(B), B), (nameof(C), C));
        if ((long)B * B > int.MaxValue)
            throw new ArgumentException($"{op}: B = {B} needs a B×B logits matrix of more than 2^31 − 1 elements.", nameof(B));
        if (!(temperature > 0f) || !float.IsFinite(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{op}: temperature must be positive and finite.");
        Check.Length(op, nameof(p), p, n); Check.Length(op, nameof(t), t, n);
        return n;
    }

    private static long InfoScratchLength(int B) => 4L * B + 2L * B + 2L * B * B + 2L * B + 2L * B;

    /// <summary>Views into one pooled scratch buffer for InfoNCE.</summary>
    private readonly struct InfoScratch
    {
        public InfoScratch(ArrayView<float> v, int B)
        {
            long o = 0, bb = (long)B * B;
            Stats = v.SubView(o, 4L * B); o += 4L * B;
            Norms = v.SubView(o, 2L * B); o += 2L * B;
            Logits = v.SubView(o, bb); o += bb;
            G = v.SubView(o, bb); o += bb;
            Lse = v.SubView(o, B); o += B;
            Pairs = v.SubView(o, B); o += B;
            Dots = v.SubView(o, 2L * B);
        }

        public ArrayView<float> Stats { get; }   // per row: p·t, ‖p‖², ‖t‖², ‖p − t‖²
        public ArrayView<float> Norms { get; }   // per row: max(‖p‖, ε), max(‖t‖, ε)
        public ArrayView<float> Logits { get; }  // [B, B]
        public ArrayView<float> G { get; }       // [B, B] ∂loss/∂logits
        public ArrayView<float> Lse { get; }     // per row logsumexp
        public ArrayView<float> Pairs { get; }   // per row loss (backward only)
        public ArrayView<float> Dots { get; }    // per row: p̂·dp̂, t̂·dt̂ (0 where the norm is clamped)
    }

    /// <summary>Norms, the B×B logits, their row logsumexp and the per-pair losses.</summary>
    private void InfoLogits(ArrayView<float> p, ArrayView<float> t, InfoScratch s, int B, int C, float temperature, ArrayView<float> pairs)
    {
        RowStats(p, t, s.Stats, B, C);
        _k.Get("JepaDistance.InfoNorms", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, float, ArrayView<float>, ArrayView<float>>(InfoNormsKernel))
            (G.Threads(B), G.PerThread(B), B, NormalizeEps, s.Stats, s.Norms);
        int bb = B * B;
        _k.Get("JepaDistance.InfoLogits", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(InfoLogitsKernel))
            (G.Threads(bb), G.PerThread(bb), bb, B, C, temperature, p, t, s.Norms, s.Logits);
        _k.Get("JepaDistance.InfoRows", acc => acc.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(InfoRowsKernel))
            (G.Threads(B), G.PerThread(B), B, s.Logits, s.Lse, pairs);
    }

    private static void InfoNormsKernel(Index1D t, int per, int B, float eps, ArrayView<float> stats, ArrayView<float> norms)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, B); i < e; i++)
        {
            norms[2 * i] = XMath.Max(XMath.Sqrt(stats[4 * i + 1]), eps);
            norms[2 * i + 1] = XMath.Max(XMath.Sqrt(stats[4 * i + 2]), eps);
        }
    }

    private static void InfoLogitsKernel(Index1D t, int per, int bb, int B, int C, float tau,
        ArrayView<float> p, ArrayView<float> tg, ArrayView<float> norms, ArrayView<float> logits)
    {
        for (int k = Chunk.Start(t, per), e = Chunk.End(t, per, bb); k < e; k++)
        {
            int i = k / B, j = k - i * B;
            long pi = (long)i * C, tj = (long)j * C;
            float s = 0f;
            for (int c = 0; c < C; c++) s += p[pi + c] * tg[tj + c];
            logits[k] = s / (norms[2 * i] * norms[2 * j + 1]) / tau;
        }
    }

    private static void InfoRowsKernel(Index1D t, int per, int B, ArrayView<float> logits, ArrayView<float> lse, ArrayView<float> pairs)
    {
        for (int i = Chunk.Start(t, per), e = Chunk.End(t, per, B); i < e; i++)
        {
            long off = (long)i * B;
            float m = float.NegativeInfinity;
            for (int j = 0; j < B; j++) m = XMath.Max(m, logits[off + j]);
            float s = 0f;
            for (int j = 0; j < B; j++) s += XMath.Exp(logits[off + j] - m);
            float l = m + XMath.Log(s);
            lse[i] = l;
            pairs[i] = l - logits[off + i];
        }
    }

    private static void InfoSoftmaxGradKernel(Index1D t, int per, int bb, int B, float scale, ArrayView<float> logits, ArrayView<float> lse, ArrayView<float> g)
    {
        for (int k = Chunk.Start(t, per), e = Chunk.End(t, per, bb); k < e; k++)
        {
            int i = k / B, j = k - i * B;
            g[k] = (XMath.Exp(logits[k] - lse[i]) - (i == j ? 1f : 0f)) * scale;
        }
    }

    private static void InfoDotsKernel(Index1D t, int per, int B, float eps, ArrayView<float> stats, ArrayView<float> logits, ArrayView<float> g, ArrayView<float> dots)
    {
        for (int r = Chunk.Start(t, per), e = Chunk.End(t, per, B); r < e; r++)
        {
            // p̂_r·dp̂_r = Σ_j G_rj (p̂_r·t̂_j)/τ = Σ_j G_rj logits_rj; t̂_r·dt̂_r = Σ_i G_ir logits_ir.
            float row = 0f, col = 0f;
            for (int j = 0; j < B; j++)
            {
                row += g[(long)r * B + j] * logits[(long)r * B + j];
                col += g[(long)j * B + r] * logits[(long)j * B + r];
            }
            dots[2 * r] = XMath.Sqrt(stats[4 * r + 1]) > eps ? row : 0f;
            dots[2 * r + 1] = XMath.Sqrt(stats[4 * r + 2]) > eps ? col : 0f;
        }
    }

    private static void InfoGradKernel(Index1D t, int per, int n, int B, int C, float tau, int hasDt,
        ArrayView<float> p, ArrayView<float> tg, ArrayView<float> norms, ArrayView<float> g, ArrayView<float> dots,
        ArrayView<float> dp, ArrayView<float> dt)
    {
        for (int k = Chunk.Start(t, per), e = Chunk.End(t, per, n); k < e; k++)
        {
            int r = k / C, c = k - r * C;
            float np = norms[2 * r], nt = norms[2 * r + 1];
            float dph = 0f;
            for (int j = 0; j < B; j++) dph += g[(long)r * B + j] * (tg[(long)j * C + c] / norms[2 * j + 1]);
            dph /= tau;
            dp[k] += (dph - p[k] / np * dots[2 * r]) / np;
            if (hasDt != 0)
            {
                float dth = 0f;
                for (int i = 0; i < B; i++) dth += g[(long)i * B + r] * (p[(long)i * C + c] / norms[2 * i]);
                dth /= tau;
                dt[k] += (dth - tg[k] / nt * dots[2 * r + 1]) / nt;
            }
        }
    }
}
