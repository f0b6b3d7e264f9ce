using Jepa.Core;

namespace Jepa.Kernels;

/// <summary>
/// The device-resident outputs of global-norm gradient clipping: the gradients' total L2 norm and the clip
/// coefficient, one float each. They stay on the device (AdamW reads the coefficient directly); the
/// <c>…ToHost</c> accessors copy them back for logging.
/// </summary>
public sealed class ClipScalars : IDisposable
{
    /// <summary>Allocates both scalars on <paramref name="device"/>.</summary>
    public ClipScalars(Device device)
    {
        Norm = Tensor.Zeros(device, 1);
        Coefficient = Tensor.Zeros(device, 1);
    }

    /// <summary>‖g‖₂ over all gradients of the last clip, [1].</summary>
    public Tensor Norm { get; }

    /// <summary>min(1, max_norm / (‖g‖₂ + 1e-6)) of the last clip, [1].</summary>
    public Tensor Coefficient { get; }

    /// <summary>The norm, copied to the host (waits for the device).</summary>
    public float NormToHost() => Norm.ToArray()[0];

    /// <summary>The coefficient, copied to the host (waits for the device).</summary>
    public float CoefficientToHost() => Coefficient.ToArray()[0];

    /// <summary>Returns both scalars to the device pool.</summary>
    public void Dispose()
    {
        Norm.Dispose();
        Coefficient.Dispose();
    }
}
