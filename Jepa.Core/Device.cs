using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Jepa.Core;

/// <summary>
/// An ILGPU accelerator with everything that belongs to it: its launch geometry and its memory pool.
/// Create one with <see cref="Create"/>; dispose it last, after every tensor on it.
/// </summary>
public sealed class Device : IDisposable
{
    private readonly Context _context;
    private bool _disposed;

    private Device(Context context, Accelerator accelerator, DeviceInfo info, int cpuChunks, MatMulPrecision precision)
    {
        _context = context;
        MatMulPrecision = precision;
        Accelerator = accelerator;
        Info = info;
        Geometry = new LaunchGeometry(info.Kind, cpuChunks, accelerator.MaxNumThreadsPerGroup, accelerator.WarpSize);
        Pool = new BufferPool(this);
    }

    /// <summary>The accelerator kind.</summary>
    public DeviceKind Kind => Info.Kind;

    /// <summary>What this device is.</summary>
    public DeviceInfo Info { get; }

    /// <summary>The underlying ILGPU accelerator.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>How kernels split their work on this device.</summary>
    public LaunchGeometry Geometry { get; }

    /// <summary>The arithmetic of the linear layers' forward products on this device (<see cref="DeviceOptions.MatMulPrecision"/>).</summary>
    public MatMulPrecision MatMulPrecision { get; }

    /// <summary>The device-memory pool that tensors rent from.</summary>
    public BufferPool Pool { get; }

    /// <summary>Waits until every kernel queued on the device has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>The CPU accelerator's layout: groups of up to 64 threads (8 per warp × 8 warps), so the
    /// same shared-memory tiled kernels that run on GPUs run, and are tested, on the CPU.</summary>
    private static CPUDevice CpuLayout() => new(8, 8, 1);

    private static Context CreateContext() =>
        Context.Create(b => b.CPU(CpuLayout()).Cuda().OpenCL().EnableAlgorithms());

    /// <summary>Lists every accelerator ILGPU can use on this machine, GPUs first.</summary>
    public static IReadOnlyList<DeviceInfo> Enumerate()
    {
        using var context = CreateContext();
        return Describe(context);
    }

    private static List<DeviceInfo> Describe(Context context)
    {
        var list = new List<DeviceInfo>();
        int cuda = 0, cl = 0, cpu = 0;
        foreach (var d in context.Devices)
        {
            switch (d)
            {
                case CudaDevice c:
                    list.Add(new DeviceInfo(DeviceKind.Cuda, cuda++, c.Name, c.MemorySize,
                        $"SM {c.Architecture?.ToString() ?? "?"}, driver {c.DriverVersion}"));
                    break;
                case CLDevice o:
                    list.Add(new DeviceInfo(DeviceKind.OpenCL, cl++, o.Name, o.MemorySize,
                        $"{o.Vendor}, OpenCL C {o.CVersion}"));
                    break;
                case CPUDevice:
                    list.Add(new DeviceInfo(DeviceKind.Cpu, cpu++, "ILGPU CPU accelerator", HostMemoryBytes(),
                        $"{Environment.ProcessorCount} cores"));
                    break;
            }
        }
        return list.OrderBy(i => i.Kind == DeviceKind.Cpu ? 2 : i.Kind == DeviceKind.OpenCL ? 1 : 0).ToList();
    }

    private static long HostMemoryBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Opens a device: the kind in <paramref name="options"/>, else the one named by <c>JEPA_DEVICE</c>,
    /// else the best present (CUDA, then OpenCL, then the CPU accelerator).
    /// </summary>
    /// <exception cref="ArgumentException">The requested kind or index is absent; the message lists what exists.</exception>
    public static Device Create(DeviceOptions? options = null)
    {
        options ??= new DeviceOptions();
        DeviceKind? requested = options.Kind;
        if (requested is null)
        {
            string? env = Environment.GetEnvironmentVariable(DeviceOptions.EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(env))
            {
                try { requested = DeviceKindNames.Parse(env); }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"{DeviceOptions.EnvironmentVariable}={env}: {e.Message}", e);
                }
            }
        }

        var context = CreateContext();
        try
        {
            var infos = Describe(context);
            DeviceInfo? pick = requested is { } kind
                ? infos.FirstOrDefault(i => i.Kind == kind && i.Index == options.Index)
                : infos.FirstOrDefault();
            if (pick is null)
            {
                string have = string.Join("; ", infos.Select(i => i.ToString()));
                throw new ArgumentException(
                    $"No {requested!.Value.Name()} device with index {options.Index} on this machine. Available: {have}.");
            }
            Accelerator acc = pick.Kind switch
            {
                DeviceKind.Cuda => context.CreateCudaAccelerator(pick.Index),
                DeviceKind.OpenCL => context.CreateCLAccelerator(pick.Index),
                _ => context.CreateCPUAccelerator(pick.Index),
            };
            if (options.MatMulPrecision != MatMulPrecision.Fp32 && pick.Kind != DeviceKind.Cuda)
            {
                acc.Dispose();
                throw new ArgumentException($"{options.MatMulPrecision.ToString().ToLowerInvariant()} matrix products run on tensor cores, which need a CUDA device (SM 80 or newer); {pick.Kind.Name()}:{pick.Index} is not one, so use fp32.");
            }
            return new Device(context, acc, pick, options.CpuChunks, options.MatMulPrecision);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Opens the CPU accelerator (deterministic, always present).</summary>
    public static Device Cpu(int cpuChunks = 0) =>
        Create(new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = cpuChunks > 0 ? cpuChunks : Math.Max(1, Environment.ProcessorCount) });

    /// <inheritdoc />
    public override string ToString() => Info.ToString();

    /// <summary>Frees the pool, the accelerator and the ILGPU context.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Pool.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
