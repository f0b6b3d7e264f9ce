using System.Collections.Concurrent;
using ILGPU.Runtime;
using Jepa.Core;
using Device = Jepa.Core.Device;

namespace Jepa.Kernels;

/// <summary>
/// Loaded kernels of one device, compiled on first use and kept for the device's lifetime.
/// Keys are the kernel method plus any specialization, so each kernel is compiled once per device.
/// </summary>
public sealed class KernelCache
{
    private readonly ConcurrentDictionary<string, object> _kernels = new();

    /// <summary>Creates the cache for <paramref name="device"/>.</summary>
    public KernelCache(Device device) => Device = device;

    /// <summary>The device the kernels are loaded on.</summary>
    public Device Device { get; }

    /// <summary>The accelerator the kernels are loaded on.</summary>
    public Accelerator Accelerator => Device.Accelerator;

    /// <summary>The kernel under <paramref name="key"/>, loaded with <paramref name="load"/> the first time.</summary>
    public T Get<T>(string key, Func<Accelerator, T> load) where T : class =>
        (T)_kernels.GetOrAdd(key, _ => load(Device.Accelerator));
}
