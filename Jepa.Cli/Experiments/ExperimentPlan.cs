using System.Text.Json;
using Jepa.Cli.Commands;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Training.Tokenization;

namespace Jepa.Cli.Experiments;

/// <summary>
/// The runs of an experiment (configurations × seeds) with their <c>jepa train</c> argument lists, each parsed with
/// the train command's option table and its values checked before anything trains, so a wrong option name or value
/// is one line naming the spec file and the configuration.
/// </summary>
public static class ExperimentPlan
{
    /// <summary>The folder of the runs under the experiment folder.</summary>
    public const string RunsFolder = "runs";

    /// <summary>The runs of <paramref name="spec"/> under <paramref name="outDir"/>, configuration by configuration, seed by seed.</summary>
    /// <param name="spec">The experiment.</param>
    /// <param name="outDir">The experiment folder.</param>
    /// <param name="only">Names of the configurations to keep, or null for all.</param>
    /// <param name="train">The option table of <c>jepa train</c>.</param>
    /// <param name="check">Parse and check every run's options (false: only build the runs, e.g. to tabulate them).</param>
    /// <exception cref="InvalidDataException">An option name or value is wrong; the message names the spec file and the configuration.</exception>
    /// <exception cref="UsageException">A name in <paramref name="only"/> is no configuration of the spec.</exception>
    public static IReadOnlyList<ExperimentRun> Build(ExperimentSpec spec, string outDir, IReadOnlyCollection<string>? only, OptionTable train,
        bool check = true)
    {
        if (only is not null)
            foreach (string name in only)
                if (spec.Configs.All(c => c.Name != name))
                    throw new UsageException($"--only: '{name}' is no config of {spec.Source}. Its configs: {string.Join(", ", spec.Configs.Select(c => c.Name))}.");
        string runs = Path.Combine(Path.GetFullPath(outDir), RunsFolder);
        var list = new List<ExperimentRun>();
        foreach (var config in spec.Configs.Where(c => only is null || only.Contains(c.Name)))
        {
            var options = spec.OptionsOf(config);
            foreach (ulong seed in spec.Seeds)
            {
                var args = new List<string> { "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                foreach (var (name, value) in options)
                {
                    if (train.Find(name) is { IsFlag: true })
                    {
                        if (value == "false") continue;
                        if (value != "true") throw new InvalidDataException($"{spec.Source}: config '{config.Name}': option '{name}' is a flag: give true or false, not '{value}'.");
                        args.Add("--" + name);
                    }
                    else args.AddRange(["--" + name, value]);
                }
                var run = new ExperimentRun(config.Name, seed, Path.Combine(runs, $"{config.Name}-s{seed}"), args);
                if (check) Check(run, train, $"{spec.Source}: config '{config.Name}'");
                list.Add(run);
            }
        }
        return list;
    }

    /// <summary>Parses the run's argument list with the option table and checks every value's form (and that files exist),
    /// with the options of its <c>--config</c> file merged in as <c>jepa train</c> does.</summary>
    private static void Check(ExperimentRun run, OptionTable train, string where)
    {
        try
        {
            var parsed = train.Parse(run.TrainArguments.Skip(1).ToList());
            foreach (string name in parsed.Given) CheckValue(parsed, train.Get(name));
            if (parsed.String("config") is { } config)
            {
                var file = SettingsFile.Read(config, new ByteTokenizer(TrainCommand.PredictorTokens).VocabSize);
                foreach (string name in (string[])["config", "resume"])
                    if (file.Options.ContainsKey(name)) throw new InvalidDataException($"{config}: option '{name}' belongs on the command line, not in a config file.");
                parsed = parsed.WithFallback(file.Options, config);
                foreach (string name in parsed.Given) CheckValue(parsed, train.Get(name));
            }
        }
        catch (Exception e) when (e is UsageException or InvalidDataException or FileNotFoundException)
        {
            throw new InvalidDataException($"{where}: {e.Message}", e);
        }
    }

    private static void CheckValue(ParsedArgs args, OptionSpec option)
    {
        string name = option.Name, value = args.String(name)!;
        if (ExperimentSpec.Reserved.Contains(name)) return; // set by the experiment
        if (option.Choices is not null)
        {
            args.Choice(name);
            return;
        }
        switch (option.Value)
        {
            case "N" or "k" or "r": args.NonNegativeInt(name); break;
            case "S": args.ULong(name); break;
            case "-n": args.Int(name); break;
            case "FILE" or "FILE.json" or "DIR":
                if (!File.Exists(value) && !Directory.Exists(value)) throw new UsageException($"--{name}: '{value}' does not exist.");
                break;
            case "X" or { Length: 1 }: args.Double(name); break;
        }
    }

    /// <summary>
    /// Checks that a run begun earlier (its <see cref="ExperimentRun.ArgumentsFile"/>) was started with the options the spec gives now.
    /// </summary>
    /// <exception cref="InvalidDataException">The options differ; the message says which.</exception>
    public static void CheckUnchanged(ExperimentRun run, OptionTable train)
    {
        string path = run.PathOf(ExperimentRun.ArgumentsFile);
        if (!File.Exists(path)) return;
        string[] before;
        try
        {
            before = JsonSerializer.Deserialize<string[]>(File.ReadAllText(path)) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed ({e.Message}).", e);
        }
        if (before.SequenceEqual(run.Arguments)) return;
        var was = Options(train, before) ?? [];
        var now = Options(train, run.Arguments) ?? [];
        var changes = was.Keys.Union(now.Keys).Where(k => was.GetValueOrDefault(k) != now.GetValueOrDefault(k))
            .Select(k => $"--{k} {Show(was.GetValueOrDefault(k))} → {Show(now.GetValueOrDefault(k))}");
        throw new InvalidDataException($"run '{run.Name}' in {run.Directory} was started with other options than the spec gives now " +
            $"({string.Join(", ", changes)}); delete that folder to train it anew, or choose another --out.");

        static string Show(string? v) => v ?? "(unset)";
    }

    private static Dictionary<string, string>? Options(OptionTable train, IReadOnlyList<string> args)
    {
        try
        {
            var parsed = train.Parse(args);
            return parsed.Given.ToDictionary(n => n, n => parsed.String(n)!, StringComparer.Ordinal);
        }
        catch (UsageException)
        {
            return null; // written by a version of jepa train with other options
        }
    }

    /// <summary>An argument list as a shell line, quoting what needs it.</summary>
    public static string CommandLine(IEnumerable<string> args) =>
        string.Join(' ', args.Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'"));
}
