using ILGPU;
using ILGPU.Runtime;
using Jepa.Core;
using Jepa.Kernels;
using Device = Jepa.Core.Device;

namespace Jepa.Cli.SelfTest;

/// <summary>
/// The ops of one device for the self-test, with the matrix-product and attention path fixed
/// (<see cref="KernelPath.Kernel"/> to compare kernels across devices, <see cref="KernelPath.Host"/> for the CPU
/// fast path), and helpers to move data. Every tensor it makes is freed with it.
/// </summary>
public sealed class SelfTestRig : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    /// <summary>Binds the ops of <paramref name="ops"/>'s device, with <paramref name="path"/> for the ops that have one.</summary>
    public SelfTestRig(KernelLibrary ops, KernelPath path)
    {
        Ops = ops;
        Path = path;
        MatMul = new MatMul(ops.Cache, path: path);
        Attention = new Attention(ops.Cache, path);
    }

    /// <summary>The device's ops.</summary>
    public KernelLibrary Ops { get; }

    /// <summary>The path of the matrix product and attention.</summary>
    public KernelPath Path { get; }

    /// <summary>Matrix products on <see cref="Path"/>.</summary>
    public MatMul MatMul { get; }

    /// <summary>Attention on <see cref="Path"/>.</summary>
    public Attention Attention { get; }

    /// <summary>The device.</summary>
    public Device Device => Ops.Device;

    /// <summary>A device copy of <paramref name="data"/>.</summary>
    public ArrayView<float> Up(float[] data) => Own(Tensor.FromArray(Device, data, data.Length)).View;

    /// <summary>A device copy of integer <paramref name="data"/>.</summary>
    public ArrayView<int> UpInt(int[] data) => Own(Tensor.FromInt32(Device, data, data.Length)).AsInt32();

    /// <summary>A zeroed device buffer of <paramref name="n"/> floats.</summary>
    public ArrayView<float> Zeros(int n) => Own(Tensor.Zeros(Device, n)).View;

    /// <summary>The host copy of <paramref name="view"/>.</summary>
    public float[] Down(ArrayView<float> view)
    {
        var host = new float[view.Length];
        view.CopyToCPU(Device.Accelerator.DefaultStream, host.AsSpan());
        return host;
    }

    /// <summary>Frees <paramref name="item"/> with the rig.</summary>
    public T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    /// <summary>Frees every tensor the rig made.</summary>
    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
