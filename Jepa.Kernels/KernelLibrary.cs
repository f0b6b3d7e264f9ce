using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// Every op of the library, bound to one device. Ops compile their kernels on first use and keep them
/// for the device's lifetime. Create one per device and share it.
/// </summary>
public sealed class KernelLibrary
{
    /// <summary>Binds the library to <paramref name="device"/>.</summary>
    public KernelLibrary(Device device)
    {
        Device = device;
        Cache = new KernelCache(device);
        Elementwise = new Elementwise(Cache);
        Embedding = new Embedding(Cache);
        CrossEntropy = new CrossEntropy(Cache);
        JepaDistance = new JepaDistance(Cache);
        MatMul = new MatMul(Cache);
        Attention = new Attention(Cache);
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

    /// <summary>Batched matrix products in the NN, NT and TN forms, with their backward.</summary>
    public MatMul MatMul { get; }

    /// <summary>Causal (optionally block-causal) grouped-query attention, forward and backward.</summary>
    public Attention Attention { get; }
}
