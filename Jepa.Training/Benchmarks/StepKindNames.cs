namespace Jepa.Training.Benchmarks;

/// <summary>Names of <see cref="StepKind"/> values as users type them and as tables print them.</summary>
public static class StepKindNames
{
    /// <summary>Every kind, in table order.</summary>
    public static IReadOnlyList<StepKind> All { get; } = [StepKind.Lm, StepKind.JepaSeparate, StepKind.JepaSingle];

    /// <summary>The lower-case name: <c>lm</c>, <c>jepa-separate</c> or <c>jepa-single</c>.</summary>
    public static string Name(this StepKind kind) => kind switch
    {
        StepKind.Lm => "lm",
        StepKind.JepaSeparate => "jepa-separate",
        StepKind.JepaSingle => "jepa-single",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses one name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is none of the kinds; the message lists the valid names.</exception>
    public static StepKind Parse(string name) =>
        All.Where(k => string.Equals(k.Name(), name.Trim(), StringComparison.OrdinalIgnoreCase)).Select(k => (StepKind?)k).FirstOrDefault()
        ?? throw new ArgumentException($"Unknown step kind '{name}'. Valid: {string.Join(", ", All.Select(k => k.Name()))}.");

    /// <summary>Parses a comma-separated list (duplicates dropped, order kept).</summary>
    /// <exception cref="ArgumentException">A name is unknown or the list is empty.</exception>
    public static IReadOnlyList<StepKind> ParseList(string names)
    {
        var kinds = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).Distinct().ToList();
        return kinds.Count > 0 ? kinds : throw new ArgumentException("The list of step kinds is empty.");
    }
}
