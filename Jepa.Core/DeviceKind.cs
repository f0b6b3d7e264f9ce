namespace Jepa.Core;

/// <summary>The kind of accelerator a <see cref="Device"/> runs on.</summary>
public enum DeviceKind
{
    /// <summary>ILGPU's CPU accelerator: the portable fallback and the deterministic test device.</summary>
    Cpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend (needs only the driver).</summary>
    Cuda,
    /// <summary>An OpenCL 2.0+ device through ILGPU's OpenCL backend.</summary>
    OpenCL,
}

/// <summary>Parsing and naming of <see cref="DeviceKind"/> values as users type them.</summary>
public static class DeviceKindNames
{
    /// <summary>Parses "cpu", "cuda" or "opencl" (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is none of those; the message lists the valid names.</exception>
    public static DeviceKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cpu" => DeviceKind.Cpu,
        "cuda" => DeviceKind.Cuda,
        "opencl" or "cl" => DeviceKind.OpenCL,
        _ => throw new ArgumentException($"Unknown device '{name}'. Valid devices: cpu, cuda, opencl.", nameof(name)),
    };

    /// <summary>The lower-case name used on the command line and in <c>JEPA_DEVICE</c>.</summary>
    public static string Name(this DeviceKind kind) => kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Cuda => "cuda",
        DeviceKind.OpenCL => "opencl",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
