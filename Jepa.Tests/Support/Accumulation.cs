namespace Jepa.Tests.Support;

/// <summary>Checks of the backward convention (gradients accumulate, <c>+=</c>).</summary>
public static class Accumulation
{
    /// <summary>What a backward added: <c>after − before</c> elementwise, so a gradient that started from
    /// non-zero values can be compared with a reference gradient.</summary>
    public static float[] Delta(float[] after, float[] before) =>
        after.Zip(before, (a, b) => a - b).ToArray();
}
