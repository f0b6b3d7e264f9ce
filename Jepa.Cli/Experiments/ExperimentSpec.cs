using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Cli.Options;

namespace Jepa.Cli.Experiments;

/// <summary>One configuration of an experiment: a name and the <c>jepa train</c> options that override the base's.</summary>
/// <param name="Name">The name (letters, digits, '.', '_' and '-'), used in run folder names.</param>
/// <param name="Options">Option name → value as text; null unsets an option of the base.</param>
public sealed record ExperimentConfig(string Name, IReadOnlyList<KeyValuePair<string, string?>> Options);

/// <summary>
/// An experiment spec for <c>jepa experiment</c>: a grid of configurations × seeds of <c>jepa train</c>.
/// <code>
/// {"name": "nlrx",
///  "base": {"data": "train.jsonl", "eval-data": "val.jsonl", "metric": "regex", "epochs": 2, "config": "model.json"},
///  "seeds": [1, 2, 3],
///  "configs": [{"name": "baseline", "lambda": 0}, {"name": "jepa", "lambda": 1, "predictors": 1}]}
/// </code>
/// Options are <c>jepa train</c>'s long names (<c>grad_accum</c> or <c>grad-accum</c>) with numbers, strings, or
/// true/false for flags; a config's options override the base's, and null unsets one. The seed comes from "seeds";
/// "out" from the experiment. Relative file and folder options are resolved against the spec's folder when it is read.
/// </summary>
/// <param name="Name">The experiment's name.</param>
/// <param name="Source">The spec file (for messages).</param>
/// <param name="Base">The options every configuration starts from.</param>
/// <param name="Seeds">The seeds each configuration is trained with.</param>
/// <param name="Configs">The configurations.</param>
public sealed record ExperimentSpec(string Name, string Source, IReadOnlyList<KeyValuePair<string, string?>> Base, IReadOnlyList<ulong> Seeds,
    IReadOnlyList<ExperimentConfig> Configs)
{
    /// <summary>Options an experiment sets itself.</summary>
    public static IReadOnlyList<string> Reserved { get; } = ["out", "resume", "seed"];

    private static readonly string[] Fields = ["name", "base", "seeds", "configs"];

    /// <summary>Reads the spec at <paramref name="path"/>, resolving path options against its folder.</summary>
    /// <param name="path">The spec file.</param>
    /// <param name="train">The option table of <c>jepa train</c> (says which options are files or folders).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The spec is malformed; the message names the file.</exception>
    public static ExperimentSpec Read(string path, OptionTable train)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Experiment spec '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path))!, train);
    }

    /// <summary>Parses spec text; <paramref name="source"/> names it in messages and relative paths resolve against <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">The spec is malformed.</exception>
    public static ExperimentSpec Parse(string json, string source, string folder, OptionTable train)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                as JsonObject ?? throw new InvalidDataException($"{source}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON ({e.Message}).", e);
        }
        foreach (var (key, _) in root)
            if (!Fields.Contains(key)) throw new InvalidDataException($"{source}: unknown field '{key}'. Valid fields: {string.Join(", ", Fields)}.");

        string name = root["name"] switch
        {
            null => Path.GetFileNameWithoutExtension(source),
            JsonValue v when v.TryGetValue(out string? s) && s.Length > 0 => s,
            var other => throw new InvalidDataException($"{source}: \"name\" must be a non-empty string, got {other.ToJsonString()}."),
        };
        var baseOptions = root["base"] switch
        {
            null => [],
            JsonObject o => OptionsOf(o, source, "base", folder, train),
            _ => throw new InvalidDataException($"{source}: \"base\" must be an object of jepa train options."),
        };
        var seeds = SeedsOf(root["seeds"], source);
        if (root["configs"] is not JsonArray configsNode || configsNode.Count == 0)
            throw new InvalidDataException($"{source}: \"configs\" must be a non-empty array of objects, each with a \"name\".");
        var configs = new List<ExperimentConfig>();
        foreach (var node in configsNode)
        {
            if (node is not JsonObject o) throw new InvalidDataException($"{source}: config {configs.Count + 1} must be an object.");
            if (o["name"] is not JsonValue nv || !nv.TryGetValue(out string? configName) || !IsName(configName))
                throw new InvalidDataException($"{source}: config {configs.Count + 1} needs a \"name\" of letters, digits, '.', '_' or '-'.");
            if (configs.Any(c => c.Name == configName)) throw new InvalidDataException($"{source}: config '{configName}' appears twice.");
            var rest = new JsonObject();
            foreach (var (k, v) in o) if (k != "name") rest[k] = v?.DeepClone();
            configs.Add(new ExperimentConfig(configName, OptionsOf(rest, source, $"config '{configName}'", folder, train)));
        }
        return new ExperimentSpec(name, source, baseOptions, seeds, configs);
    }

    /// <summary>The options of <paramref name="config"/>: the base's, overridden by the config's, without the unset ones.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> OptionsOf(ExperimentConfig config)
    {
        var merged = new List<KeyValuePair<string, string?>>(Base);
        foreach (var (k, v) in config.Options)
        {
            int i = merged.FindIndex(p => p.Key == k);
            if (i >= 0) merged[i] = new(k, v);
            else merged.Add(new(k, v));
        }
        return merged.Where(p => p.Value is not null).Select(p => new KeyValuePair<string, string>(p.Key, p.Value!)).ToList();
    }

    /// <summary>The options of <paramref name="config"/> whose value differs from the base's (null: unset).</summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Differences(ExperimentConfig config) =>
        config.Options.Where(p => Base.FirstOrDefault(b => b.Key == p.Key).Value != p.Value).ToList();

    /// <summary>The spec as JSON (paths already resolved), readable again by <see cref="Parse"/>.</summary>
    public string ToJson()
    {
        static JsonObject Object(IEnumerable<KeyValuePair<string, string?>> options)
        {
            var o = new JsonObject();
            foreach (var (k, v) in options) o[k] = v;
            return o;
        }
        var configs = new JsonArray();
        foreach (var c in Configs)
        {
            var o = Object(c.Options);
            o.Insert(0, "name", c.Name);
            configs.Add(o);
        }
        var root = new JsonObject
        {
            ["name"] = Name,
            ["base"] = Object(Base),
            ["seeds"] = new JsonArray(Seeds.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            ["configs"] = configs,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    /// <summary>True for a name usable in a folder name: letters, digits, '.', '_' and '-', not starting with '.'.</summary>
    public static bool IsName(string? s) =>
        !string.IsNullOrEmpty(s) && s[0] != '.' && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static List<ulong> SeedsOf(JsonNode? node, string source)
    {
        const string What = "\"seeds\" must be a non-empty array of distinct integers ≥ 0";
        if (node is not JsonArray array || array.Count == 0) throw new InvalidDataException($"{source}: {What}.");
        var seeds = new List<ulong>();
        foreach (var s in array)
        {
            if (s is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !ulong.TryParse(v.ToJsonString(), out ulong seed) || seeds.Contains(seed))
                throw new InvalidDataException($"{source}: {What}, got {s?.ToJsonString() ?? "null"}.");
            seeds.Add(seed);
        }
        return seeds;
    }

    /// <summary>The options of one JSON object as text (names with '_' spelled '-'), path options resolved against <paramref name="folder"/>.</summary>
    private static List<KeyValuePair<string, string?>> OptionsOf(JsonObject o, string source, string where, string folder, OptionTable train)
    {
        var list = new List<KeyValuePair<string, string?>>();
        foreach (var (key, value) in o)
        {
            string name = key.Replace('_', '-');
            if (Reserved.Contains(name))
                throw new InvalidDataException($"{source}: {where}: option '{key}' is set by the experiment ({(name == "seed" ? "from \"seeds\"" : "leave it out")}).");
            if (list.Any(p => p.Key == name)) throw new InvalidDataException($"{source}: {where}: option '{name}' appears twice.");
            string? text = value switch
            {
                null => null,
                JsonValue v when v.TryGetValue(out bool b) => b ? "true" : "false",
                JsonValue v when v.TryGetValue(out string? s) => s!,
                JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
                _ => throw new InvalidDataException($"{source}: {where}: option '{key}' must be a number, a string, true/false or null."),
            };
            list.Add(new(name, text is null ? null : Resolve(train.Find(name), text, folder)));
        }
        return list;
    }

    /// <summary>A relative file or folder option as a full path under <paramref name="folder"/>; other values as they are.</summary>
    private static string Resolve(OptionSpec? option, string value, string folder)
    {
        if (option is null || value.Length == 0 || Path.IsPathRooted(value)) return value;
        string full = Path.GetFullPath(Path.Combine(folder, value));
        return option.Value switch
        {
            "FILE" or "DIR" or "FILE.json" => full,
            { } v when v.EndsWith("|FILE", StringComparison.Ordinal) => File.Exists(full) || Directory.Exists(full) ? full : value,
            _ => value,
        };
    }
}
