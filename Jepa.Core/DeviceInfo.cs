namespace Jepa.Core;

/// <summary>One accelerator ILGPU can see on this machine.</summary>
/// <param name="Kind">Backend kind.</param>
/// <param name="Index">Index among the accelerators of that kind (0 for the first).</param>
/// <param name="Name">The name the driver reports.</param>
/// <param name="MemoryBytes">Device memory in bytes (host memory for the CPU accelerator).</param>
/// <param name="Detail">Backend details such as compute capability or OpenCL version.</param>
public sealed record DeviceInfo(DeviceKind Kind, int Index, string Name, long MemoryBytes, string Detail)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind.Name()}:{Index}  {Name}  {MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB  {Detail}";
}
