using ILGPU;
using ILGPU.Runtime;

namespace Jepa.Kernels.Cpu;

/// <summary>
/// Host pointers into the CPU accelerator's buffers. There a buffer's memory is plain host memory, so SIMD
/// host code can read and write an <see cref="ArrayView{T}"/> in place, and kernels launched afterwards see
/// the result. The caller must first wait for every kernel queued on the accelerator
/// (<c>Device.Synchronize()</c>), since they may still be using that memory.
/// </summary>
internal static unsafe class HostView
{
    /// <summary>The address of element 0 of <paramref name="view"/> (its buffer's native pointer plus the
    /// view's offset).</summary>
    /// <exception cref="ArgumentException">The view is invalid or lives on another accelerator than the CPU one.</exception>
    public static T* Ptr<T>(ArrayView<T> view, string name) where T : unmanaged
    {
        if (!view.IsValid) throw new ArgumentException($"'{name}' is not a valid view.", name);
        if (view.GetAcceleratorType() != AcceleratorType.CPU)
            throw new ArgumentException($"'{name}' lives on a {view.GetAcceleratorType()} accelerator; host code reaches only the CPU accelerator's memory.", name);
        return (T*)view.LoadEffectiveAddressAsPtr<T>();
    }
}
