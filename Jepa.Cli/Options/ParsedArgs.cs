using System.Globalization;

namespace Jepa.Cli.Options;

/// <summary>
/// The parsed arguments of one command, with typed getters. A value that does not parse is a
/// <see cref="UsageException"/> when it came from the command line, or an <see cref="InvalidDataException"/>
/// naming the file when it came from a settings file merged in with <see cref="WithFallback"/>.
/// </summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, string> _values;
    private readonly Dictionary<string, string> _origins; // option name → file it came from (absent: the command line)

    internal ParsedArgs(OptionTable table, Dictionary<string, string> values, IReadOnlyList<string> positionals, bool help,
        Dictionary<string, string>? origins = null)
    {
        Table = table;
        _values = values;
        Positionals = positionals;
        HelpRequested = help;
        _origins = origins ?? new Dictionary<string, string>(StringComparer.Ordinal);
    }

    /// <summary>The command's option table.</summary>
    public OptionTable Table { get; }

    /// <summary>The positional arguments, in order.</summary>
    public IReadOnlyList<string> Positionals { get; }

    /// <summary>True when <c>-h</c> or <c>--help</c> was given.</summary>
    public bool HelpRequested { get; }

    /// <summary>The names of the options that were given (on the command line or by a settings file).</summary>
    public IEnumerable<string> Given => _values.Keys;

    /// <summary>True when the option was given on the command line (not by a settings file).</summary>
    public bool GivenOnCommandLine(string name) => _values.ContainsKey(Check(name)) && !_origins.ContainsKey(name);

    /// <summary>
    /// These arguments with the options of <paramref name="fallback"/> (from the file <paramref name="source"/>) added
    /// where the command line did not give them. Flags take <c>true</c> or <c>false</c> there.
    /// </summary>
    /// <exception cref="InvalidDataException">The file names an unknown option or gives a flag a value other than true/false.</exception>
    public ParsedArgs WithFallback(IReadOnlyDictionary<string, string> fallback, string source)
    {
        var values = new Dictionary<string, string>(_values, StringComparer.Ordinal);
        var origins = new Dictionary<string, string>(_origins, StringComparer.Ordinal);
        foreach (var (name, value) in fallback)
        {
            var spec = Table.Find(name) ?? throw new InvalidDataException(
                $"{source}: unknown option '{name}'. Valid options: {string.Join(", ", Table.Options.Select(o => o.Name))}.");
            if (values.ContainsKey(name)) continue;
            if (spec.IsFlag)
            {
                if (value == "false") continue;
                if (value != "true") throw new InvalidDataException($"{source}: option '{name}' is a flag: give true or false, not '{value}'.");
            }
            values[name] = value;
            origins[name] = source;
        }
        return new ParsedArgs(Table, values, Positionals, HelpRequested, origins);
    }

    private string Check(string name) =>
        Table.Find(name) is null ? throw new InvalidOperationException($"'{name}' is not an option of 'jepa {Table.Command}'.") : name;

    /// <summary>True when the flag or option was given.</summary>
    public bool Has(string name) => _values.ContainsKey(Check(name));

    /// <summary>True when the flag was given.</summary>
    public bool Flag(string name) => Has(name);

    /// <summary>The option's text, or null when absent.</summary>
    public string? String(string name) => _values.GetValueOrDefault(Check(name));

    /// <summary>The option's text, or <paramref name="fallback"/> when absent.</summary>
    public string String(string name, string fallback) => String(name) ?? fallback;

    /// <summary>The option's text; a usage error when absent.</summary>
    public string Required(string name) =>
        String(name) ?? throw new UsageException($"'jepa {Table.Command}' needs --{name} {Table.Get(name).Value}. Run 'jepa {Table.Command} --help'.");

    /// <summary>The option as an integer, or null when absent.</summary>
    public int? Int(string name) => Parse<int>(name, "an integer", s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : null);

    /// <summary>The option as an integer, or <paramref name="fallback"/>.</summary>
    public int Int(string name, int fallback) => Int(name) ?? fallback;

    /// <summary>The option as a positive integer, or null when absent.</summary>
    public int? PositiveInt(string name)
    {
        int? v = Int(name);
        if (v is <= 0) Fail(name, String(name)!, "a positive integer");
        return v;
    }

    /// <summary>The option as an integer ≥ 0, or null when absent.</summary>
    public int? NonNegativeInt(string name)
    {
        int? v = Int(name);
        if (v is < 0) Fail(name, String(name)!, "an integer ≥ 0");
        return v;
    }

    /// <summary>The option as an unsigned 64-bit integer (a seed), or null when absent.</summary>
    public ulong? ULong(string name) => Parse<ulong>(name, "an integer ≥ 0", s => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : null);

    /// <summary>The option as a finite number, or null when absent.</summary>
    public double? Double(string name) => Parse<double>(name, "a number", s =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null);

    /// <summary>The option as a finite single-precision number, or null when absent.</summary>
    public float? Float(string name) => Double(name) is { } d ? (float)d : null;

    /// <summary>The option's value, which must be one of its choices (case-insensitive), in lower case; or null when absent.</summary>
    public string? Choice(string name)
    {
        string? s = String(name);
        if (s is null) return null;
        var choices = Table.Get(name).Choices ?? throw new InvalidOperationException($"--{name} has no choices.");
        string lower = s.Trim().ToLowerInvariant();
        if (!choices.Contains(lower)) Fail(name, s, "one of " + string.Join(", ", choices));
        return lower;
    }

    private T? Parse<T>(string name, string what, Func<string, T?> parse) where T : struct
    {
        string? s = String(name);
        if (s is null) return null;
        return parse(s.Trim()) ?? Fail<T>(name, s, what);
    }

    private T Fail<T>(string name, string value, string what)
    {
        Fail(name, value, what);
        return default!;
    }

    /// <summary>Throws the error for a malformed value of <paramref name="name"/>: a usage error on the command line, a data error in a file.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public void Fail(string name, string value, string what)
    {
        if (_origins.TryGetValue(name, out string? file))
            throw new InvalidDataException($"{file}: option '{name}' must be {what}, got '{value}'.");
        throw new UsageException($"--{name} must be {what}, got '{value}'.");
    }
}
