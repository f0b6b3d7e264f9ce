namespace Jepa.Kernels;

/// <summary>Which GELU formula <see cref="Activations.Gelu"/> computes (PyTorch's <c>approximate</c> argument).</summary>
public enum GeluApproximation
{
    /// <summary>Exact: <c>x · Φ(x) = ½x(1 + erf(x/√2))</c> (Hugging Face <c>"gelu"</c>).</summary>
    None,

    /// <summary>Tanh form: <c>½x(1 + tanh(√(2/π)(x + 0.044715x³)))</c> (Hugging Face <c>"gelu_pytorch_tanh"</c>, <c>"gelu_new"</c>).</summary>
    Tanh,
}
