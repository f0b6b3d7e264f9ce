using System.Text;

namespace Jepa.Cli.Options;

/// <summary>
/// The options of one command: parses its arguments and writes its <c>--help</c> from the same table, so
/// the two never disagree. Values follow their option (<c>--steps 10</c> or <c>--steps=10</c>; a value may
/// start with '-', as in <c>--last-token -2</c>); the last occurrence of an option wins.
/// </summary>
public sealed class OptionTable
{
    private readonly Dictionary<string, OptionSpec> _byName;

    /// <summary>Creates the table of command <paramref name="command"/>.</summary>
    /// <param name="command">The command's words after <c>jepa</c>, e.g. <c>data regex</c>.</param>
    /// <param name="synopsis">The argument summary after the command, e.g. <c>--model DIR --data FILE [options]</c>.</param>
    /// <param name="description">What the command does (one or a few lines).</param>
    /// <param name="options">The options.</param>
    /// <param name="positionals">Names and help of positional arguments, in order (the last may be optional).</param>
    public OptionTable(string command, string synopsis, string description, IReadOnlyList<OptionSpec> options,
        IReadOnlyList<(string Name, string Help)>? positionals = null)
    {
        Command = command;
        Synopsis = synopsis;
        Description = description;
        Options = options;
        Positionals = positionals ?? [];
        _byName = options.ToDictionary(o => o.Name, StringComparer.Ordinal);
    }

    /// <summary>The command's words after <c>jepa</c>.</summary>
    public string Command { get; }

    /// <summary>The argument summary.</summary>
    public string Synopsis { get; }

    /// <summary>What the command does.</summary>
    public string Description { get; }

    /// <summary>The options, in help order.</summary>
    public IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>The positional arguments.</summary>
    public IReadOnlyList<(string Name, string Help)> Positionals { get; }

    /// <summary>The option called <paramref name="name"/>, or null.</summary>
    public OptionSpec? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The option called <paramref name="name"/>, or a usage error listing the valid ones.</summary>
    public OptionSpec Get(string name) =>
        Find(name) ?? throw new UsageException($"unknown option '--{name}'. Valid options: {ValidNames()}. Run 'jepa {Command} --help' for details.");

    private string ValidNames() => string.Join(", ", Options.Select(o => "--" + o.Name));

    /// <summary>Parses <paramref name="args"/> (the arguments after the command's words).</summary>
    /// <exception cref="UsageException">An unknown option, a missing value, a value given to a flag, or too many positional arguments.</exception>
    public ParsedArgs Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var positionals = new List<string>();
        bool help = false, onlyPositionals = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (onlyPositionals || !a.StartsWith('-') || a == "-")
            {
                positionals.Add(a);
                continue;
            }
            if (a == "--") { onlyPositionals = true; continue; }
            if (a is "-h" or "--help") { help = true; continue; }
            if (!a.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"unknown option '{a}' (options are spelled --name). Valid options: {ValidNames()}.");
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            var spec = Get(name);
            if (values.ContainsKey(name)) throw new UsageException($"option --{name} is given twice; give it once.");
            if (spec.IsFlag)
            {
                if (value is not null) throw new UsageException($"option --{name} is a flag and takes no value (got '{value}').");
                values[name] = "true";
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count) throw new UsageException($"option --{name} needs a value ({spec.Value}).");
                value = args[++i];
            }
            values[name] = value;
        }
        if (!help && positionals.Count > Positionals.Count)
        {
            string extra = positionals[Positionals.Count];
            throw new UsageException(Positionals.Count == 0
                ? $"unexpected argument '{extra}': 'jepa {Command}' takes only options. Run 'jepa {Command} --help'."
                : $"unexpected argument '{extra}'. Run 'jepa {Command} --help'.");
        }
        return new ParsedArgs(this, values, positionals, help);
    }

    /// <summary>The <c>--help</c> text.</summary>
    public string Help()
    {
        var sb = new StringBuilder();
        sb.Append("usage: jepa ").Append(Command);
        if (Synopsis.Length > 0) sb.Append(' ').Append(Synopsis);
        sb.AppendLine().AppendLine();
        foreach (string line in Description.Split('\n')) sb.Append("  ").AppendLine(line.TrimEnd());
        if (Positionals.Count > 0)
        {
            sb.AppendLine().AppendLine("arguments:");
            int w = Positionals.Max(p => p.Name.Length);
            foreach (var (name, help) in Positionals) sb.Append("  ").Append(name.PadRight(w + 2)).AppendLine(help);
        }
        sb.AppendLine().AppendLine("options:");
        var heads = Options.Select(o => "--" + o.Name + (o.IsFlag ? "" : " " + o.Value)).ToList();
        heads.Add("-h, --help");
        int width = Math.Min(heads.Max(h => h.Length), 34);
        for (int i = 0; i < Options.Count; i++)
        {
            var o = Options[i];
            string text = o.Help + (o.Default is null ? "" : $" (default: {o.Default})");
            AppendRow(sb, heads[i], text, width);
        }
        AppendRow(sb, "-h, --help", "show this help", width);
        return sb.ToString().TrimEnd();
    }

    private static void AppendRow(StringBuilder sb, string head, string text, int width)
    {
        sb.Append("  ").Append(head.PadRight(width));
        if (head.Length > width) sb.AppendLine().Append("  ").Append(new string(' ', width));
        sb.Append("  ").AppendLine(text);
    }
}
