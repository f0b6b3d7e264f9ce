using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Every op of the library, bound to one device. Ops compile their kernels on first use and keep them
/// for the device's lifetime. Create one per device and share it.
/// </summary>
public sealed class KernelLibrary
{
    /// <summary>Binds the library to <paramref name="device"/>. <paramref name="path"/> picks the implementation of the
    /// ops that have a CPU fast path (matrix products, attention, RMSNorm, RoPE, SiLU/SwiGLU, elementwise ops, embedding,
    /// cross-entropy, JEPA distances, reductions, AdamW, clipping, dropout); <see cref="KernelPath.Kernel"/> runs the ILGPU kernels
    /// even on the CPU accelerator.</summary>
    public KernelLibrary(Device device, KernelPath path = KernelPath.Auto)
    {
        Device = device;
        Cache = new KernelCache(device);
        Elementwise = new Elementwise(Cache, path);
        Embedding = new Embedding(Cache, path);
        CrossEntropy = new CrossEntropy(Cache, path: path);
        JepaDistance = new JepaDistance(Cache, path: path);
        SigReg = new SigReg(Cache);
        VicReg = new VicReg(Cache);
        SegmentMean = new SegmentMean(Cache);
        CenterRows = new CenterRows(Cache);
        MatMul = new MatMul(Cache, path: path);
        CachedAttention = new CachedAttention(Cache);
        RmsNorm = new RmsNorm(Cache, path: path);
        LayerNorm = new LayerNorm(Cache);
        Softmax = new Softmax(Cache);
        Activations = new Activations(Cache, path);
        Rope = new Rope(Cache, path);
        Reductions = new Reductions(Cache, path: path);
        AdamW = new AdamW(Cache, path);
        GradClip = new GradClip(Cache, path);
        Attention = new Attention(Cache, path);
        Dropout = new Dropout(Cache, path);
    }

    /// <summary>The device every op runs on.</summary>
    public Device Device { get; }

    /// <summary>The loaded kernels.</summary>
    public KernelCache Cache { get; }

    /// <summary>Add, mul, scale, bias, axpy, copy, fill.</summary>
    public Elementwise Elementwise { get; }

    /// <summary>Token embedding lookup and its deterministic backward.</summary>
    public Embedding Embedding { get; }

    /// <summary>Fused log-softmax + cross-entropy with an ignore index.</summary>
    public CrossEntropy CrossEntropy { get; }

    /// <summary>JEPA distances between predicted and target embeddings (cosine, L2, MSE, InfoNCE).</summary>
    public JepaDistance JepaDistance { get; }

    /// <summary>SIGReg (LeJEPA's Epps–Pulley test of projected embeddings against N(0, 1)), forward and backward.</summary>
    public SigReg SigReg { get; }

    /// <summary>VICReg's variance and covariance terms, forward and backward.</summary>
    public VicReg VicReg { get; }

    /// <summary>The mean of each segment of consecutive rows (a view embedded as the mean of its tokens' states), forward and backward.</summary>
    public SegmentMean SegmentMean { get; }

    /// <summary>Centring a batch of rows on their mean, forward and backward.</summary>
    public CenterRows CenterRows { get; }

    /// <summary>Batched matrix products in the NN, NT and TN forms, with their backward.</summary>
    public MatMul MatMul { get; }

    /// <summary>RMS normalisation over rows, with saved rstd and deterministic weight gradient.</summary>
    public RmsNorm RmsNorm { get; }

    /// <summary>Layer normalisation over rows, with saved mean/rstd and deterministic weight and bias gradients.</summary>
    public LayerNorm LayerNorm { get; }

    /// <summary>Numerically stable row softmax.</summary>
    public Softmax Softmax { get; }

    /// <summary>SiLU, GELU (exact or tanh), SwiGLU (separate or packed gate/up).</summary>
    public Activations Activations { get; }

    /// <summary>Rotary position embedding (rotate-half or interleaved) from a double-precision cos/sin table.</summary>
    public Rope Rope { get; }

    /// <summary>Deterministic sum, sum of squares, max, max |x|, L2 norm: whole views, rows, lists of views.</summary>
    public Reductions Reductions { get; }

    /// <summary>The fused AdamW update (torch.optim.AdamW semantics).</summary>
    public AdamW AdamW { get; }

    /// <summary>Global-norm gradient clipping on the device.</summary>
    public GradClip GradClip { get; }

    /// <summary>Causal (optionally block-causal) grouped-query attention, forward and backward.</summary>
    public Attention Attention { get; }

    /// <summary>Inverted dropout with a counter-based (Philox) mask, regenerated in the backward.</summary>
    public Dropout Dropout { get; }

    /// <summary>Attention over a key/value cache, for generation.</summary>
    public CachedAttention CachedAttention { get; }
}
