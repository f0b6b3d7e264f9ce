namespace Jepa.Core;

/// <summary>Finds NaNs and infinities in float data, so that they are refused where they would otherwise be saved or
/// loaded silently.</summary>
public static class NonFinite
{
    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or −1 when every value is finite.</summary>
    public static int IndexIn(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
