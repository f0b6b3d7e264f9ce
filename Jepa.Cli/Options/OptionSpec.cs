namespace Jepa.Cli.Options;

/// <summary>One option of a command: <c>--name</c> (a flag) or <c>--name VALUE</c>.</summary>
/// <param name="Name">The long name without dashes, e.g. <c>steps</c>.</param>
/// <param name="Value">The value's placeholder in help (e.g. <c>N</c>, <c>FILE</c>), or null for a flag.</param>
/// <param name="Help">One line saying what it does.</param>
/// <param name="Default">The default shown in help, or null.</param>
/// <param name="Choices">The accepted values, or null for any.</param>
public sealed record OptionSpec(string Name, string? Value, string Help, string? Default = null, IReadOnlyList<string>? Choices = null)
{
    /// <summary>True for an option without a value.</summary>
    public bool IsFlag => Value is null;

    /// <summary>A flag.</summary>
    public static OptionSpec Flag(string name, string help) => new(name, null, help);

    /// <summary>An option with a value, one of <paramref name="choices"/>.</summary>
    public static OptionSpec Choice(string name, string help, string? @default, params string[] choices) =>
        new(name, string.Join('|', choices), help, @default, choices);
}
