namespace Jepa.Kernels.Cpu;

/// <summary>
/// Fixed-partition parallel loops for the host paths. Work is cut into items whose bounds depend only on the
/// sizes (never on the thread count); each output element belongs to exactly one item and is computed in a
/// fixed order inside it, so results are bitwise independent of how many workers run the items. One item, or
/// one worker, runs inline on the calling thread.
/// </summary>
internal static class HostParallel
{
    /// <summary>Floats per item of elementwise loops (64 KiB): large enough to amortise scheduling, small enough
    /// that the 256 K-element activations of a small model still split over a few workers.</summary>
    public const int Chunk = 16384;

    /// <summary>Number of items of <paramref name="per"/> elements that cover <paramref name="n"/> elements.</summary>
    public static int Items(long n, int per) => n <= 0 ? 0 : checked((int)((n + per - 1) / per));

    /// <summary>Runs <paramref name="body"/>(i) for every item i in [0, <paramref name="items"/>) on at most
    /// <paramref name="threads"/> workers.</summary>
    public static void For(int items, int threads, Action<int> body)
    {
        if (items <= 0) return;
        if (items == 1 || threads <= 1)
        {
            for (int i = 0; i < items; i++) body(i);
            return;
        }
        Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(threads, items) }, body);
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over [0, <paramref name="n"/>) cut into fixed ranges of
    /// <paramref name="per"/> elements (the last one shorter), on at most <paramref name="threads"/> workers.</summary>
    public static void ForRanges(long n, int per, int threads, Action<long, long> body) =>
        For(Items(n, per), threads, i =>
        {
            long start = (long)i * per;
            body(start, Math.Min(n, start + per));
        });
}
