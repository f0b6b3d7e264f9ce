using ILGPU;
using ILGPU.Runtime;

namespace Jepa.Core;

/// <summary>
/// A pool of float32 device buffers, bucketed by size, so a steady-state training step reuses memory
/// instead of allocating. Tensors rent from it and give their buffer back on dispose.
/// Thread-safe. <see cref="Allocations"/> counts real device allocations: it stays flat once a
/// training loop has reached its steady state.
/// </summary>
public sealed class BufferPool : IDisposable
{
    private readonly Device _device;
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _free = new();
    private readonly object _lock = new();
    private bool _disposed;

    internal BufferPool(Device device) => _device = device;

    /// <summary>Number of device allocations made so far.</summary>
    public long Allocations { get; private set; }

    /// <summary>Bytes held by the pool (rented and idle).</summary>
    public long BytesReserved { get; private set; }

    /// <summary>Bytes currently rented out.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>The highest <see cref="BytesInUse"/> seen since creation or <see cref="ResetPeak"/>.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>Restarts peak tracking from the current use.</summary>
    public void ResetPeak()
    {
        lock (_lock) PeakBytesInUse = BytesInUse;
    }

    /// <summary>The capacity a request of <paramref name="length"/> floats is rounded up to:
    /// the next value of the form 2^k or 1.5·2^k, at least 64.</summary>
    public static long BucketFor(long length)
    {
        if (length <= 64) return 64;
        long p = 64;
        while (p < length)
        {
            long mid = p + p / 2;
            if (mid >= length) return mid;
            p *= 2;
        }
        return p;
    }

    /// <summary>Rents a buffer of at least <paramref name="length"/> floats (contents undefined).</summary>
    /// <exception cref="OutOfMemoryException">The device cannot hold it; the message gives sizes and pool use.</exception>
    public MemoryBuffer1D<float, Stride1D.Dense> Rent(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "Buffer length must be non-negative.");
        long cap = BucketFor(length);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            MemoryBuffer1D<float, Stride1D.Dense> buffer;
            if (_free.TryGetValue(cap, out var stack) && stack.Count > 0)
            {
                buffer = stack.Pop();
            }
            else
            {
                buffer = AllocateOrTrim(cap);
                Allocations++;
                BytesReserved += cap * sizeof(float);
            }
            BytesInUse += cap * sizeof(float);
            PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
            return buffer;
        }
    }

    private MemoryBuffer1D<float, Stride1D.Dense> AllocateOrTrim(long cap)
    {
        try
        {
            return _device.Accelerator.Allocate1D<float>(cap);
        }
        catch (Exception first) when (first is AcceleratorException or OutOfMemoryException or InvalidOperationException)
        {
            TrimLocked();
            try
            {
                return _device.Accelerator.Allocate1D<float>(cap);
            }
            catch (Exception e) when (e is AcceleratorException or OutOfMemoryException or InvalidOperationException)
            {
                throw new OutOfMemoryException(
                    $"Out of memory on {_device.Info.Kind.Name()}:{_device.Info.Index} ({_device.Info.Name}) allocating " +
                    $"{cap * 4.0 / (1 << 20):F1} MiB; {BytesInUse / (double)(1 << 20):F1} MiB in use by tensors. " +
                    "Reduce the batch size or sequence length, or use a device with more memory.", e);
            }
        }
    }

    /// <summary>Gives a rented buffer back for reuse.</summary>
    public void Return(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                buffer.Dispose();
                return;
            }
            long cap = buffer.Length;
            BytesInUse -= cap * sizeof(float);
            if (!_free.TryGetValue(cap, out var stack)) _free[cap] = stack = new Stack<MemoryBuffer1D<float, Stride1D.Dense>>();
            stack.Push(buffer);
        }
    }

    /// <summary>Frees every idle buffer.</summary>
    public void Trim()
    {
        lock (_lock) TrimLocked();
    }

    private void TrimLocked()
    {
        foreach (var stack in _free.Values)
        {
            while (stack.Count > 0)
            {
                var b = stack.Pop();
                BytesReserved -= b.Length * sizeof(float);
                b.Dispose();
            }
        }
    }

    /// <summary>Frees every idle buffer; buffers still rented are freed when returned.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            TrimLocked();
            _disposed = true;
        }
    }
}
