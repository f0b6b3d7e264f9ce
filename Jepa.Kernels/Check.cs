using ILGPU;

namespace Jepa.Kernels;

/// <summary>Argument checks for op launchers, with messages that name the op, the argument and both sizes.</summary>
public static class Check
{
    /// <summary>Throws unless <paramref name="view"/> holds at least <paramref name="expected"/> elements.</summary>
    public static void Length(string op, string name, ArrayView<float> view, long expected)
    {
        if (view.Length < expected)
            throw new ArgumentException($"{op}: '{name}' has {view.Length} elements but the given sizes need {expected}.", name);
    }

    /// <summary>Throws unless <paramref name="view"/> holds at least <paramref name="expected"/> elements.</summary>
    public static void Length(string op, string name, ArrayView<int> view, long expected)
    {
        if (view.Length < expected)
            throw new ArgumentException($"{op}: '{name}' has {view.Length} elements but the given sizes need {expected}.", name);
    }

    /// <summary>Throws unless every size is positive and their product fits in an int.</summary>
    public static int Positive(string op, params (string Name, int Value)[] sizes)
    {
        long n = 1;
        foreach (var (name, v) in sizes)
        {
            if (v <= 0) throw new ArgumentOutOfRangeException(name, v, $"{op}: size '{name}' must be positive.");
            n *= v;
            if (n > int.MaxValue) throw new ArgumentException($"{op}: {string.Join("×", sizes.Select(s => s.Value))} elements exceed 2^31 − 1.");
        }
        return (int)n;
    }
}
