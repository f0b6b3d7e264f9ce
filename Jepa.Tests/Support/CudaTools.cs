namespace Jepa.Tests.Support;

/// <summary>
/// CUDA 11.8's <c>ptxas</c> where <c>scripts/ptx-check.sh</c> puts it: <c>.tools/cuda-11.8/bin/</c> at the repository
/// root (git-ignored, fetched by the script, never by the tests).
/// </summary>
internal static class CudaTools
{
    /// <summary>The folder the script fetches the tools into, found from the test binary's folder upwards (the
    /// first folder that holds <c>Jepa.sln</c>); null when the tests run outside a checkout.</summary>
    public static string? Folder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Jepa.sln"))) return Path.Combine(dir.FullName, ".tools", "cuda-11.8", "bin");
            return null;
        }
    }

    /// <summary>The <c>ptxas</c> executable, or null when it has not been fetched.</summary>
    public static string? Ptxas => Folder is { } f && File.Exists(Path.Combine(f, "ptxas")) ? Path.Combine(f, "ptxas") : null;
}
