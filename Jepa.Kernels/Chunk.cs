namespace Jepa.Kernels;

/// <summary>
/// Index arithmetic shared by kernels launched through <see cref="Jepa.Core.LaunchGeometry"/>: thread
/// <c>t</c> owns the contiguous range <c>[t·per, min(n, (t+1)·per))</c>. On GPUs <c>per</c> is 1.
/// </summary>
public static class Chunk
{
    /// <summary>First index owned by thread <paramref name="t"/>.</summary>
    public static int Start(int t, int per) => t * per;

    /// <summary>One past the last index owned by thread <paramref name="t"/>.</summary>
    public static int End(int t, int per, int n)
    {
        long e = (long)t * per + per;
        return e < n ? (int)e : n;
    }
}
