using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Jepa.Training.Tokenization;

/// <summary>
/// The pre-tokenizer of a byte-level BPE <c>tokenizer.json</c>: splits text into pieces that BPE merges never cross.
/// Supported: <c>ByteLevel</c> (the GPT-2 regex when <c>use_regex</c>, a space prepended to each piece with
/// <c>add_prefix_space</c>), <c>Split</c> with a <c>Regex</c> or <c>String</c> pattern, behaviour <c>Isolated</c> and
/// <c>invert</c> false (the file's regex is compiled with .NET <see cref="Regex"/>), and a <c>Sequence</c> of these,
/// as Llama-3 and Qwen2 use (<c>Sequence[Split(regex), ByteLevel(use_regex: false)]</c>).
/// </summary>
public sealed class PreTokenizer
{
    private readonly Func<IEnumerable<string>, IEnumerable<string>>[] _steps;
    private readonly JsonNode _json;

    private PreTokenizer(Func<IEnumerable<string>, IEnumerable<string>>[] steps, JsonNode json)
    {
        _steps = steps;
        _json = json;
    }

    /// <summary>GPT-2's: <c>ByteLevel</c> with the GPT-2 regex and no prefix space (what <see cref="BpeTrainer"/> uses).</summary>
    public static PreTokenizer Gpt2 { get; } = FromJson(ByteLevelJson(), "GPT-2 default");

    /// <summary>The <c>tokenizer.json</c> description of a <c>ByteLevel</c> pre-tokenizer (or decoder).</summary>
    public static JsonObject ByteLevelJson(bool useRegex = true, bool addPrefixSpace = false) => new()
    {
        ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = true, ["use_regex"] = useRegex,
    };

    /// <summary>This pre-tokenizer's <c>tokenizer.json</c> description (a copy).</summary>
    public JsonNode ToJson() => _json.DeepClone();

    /// <summary>
    /// Reads a <c>pre_tokenizer</c> node of a <c>tokenizer.json</c>. <paramref name="source"/> names the file in errors.
    /// </summary>
    /// <exception cref="InvalidDataException">An unsupported type, behaviour or pattern; the message names it and the file.</exception>
    public static PreTokenizer FromJson(JsonNode node, string source)
    {
        var steps = new List<Func<IEnumerable<string>, IEnumerable<string>>>();
        Add(node, steps, source);
        return new PreTokenizer([.. steps], node.DeepClone());
    }

    private static void Add(JsonNode node, List<Func<IEnumerable<string>, IEnumerable<string>>> steps, string source)
    {
        string type = Str(node, "type", source) ?? throw new InvalidDataException($"{source}: pre_tokenizer has no \"type\".");
        switch (type)
        {
            case "Sequence":
                if (node["pretokenizers"] is not JsonArray list) throw new InvalidDataException($"{source}: pre_tokenizer Sequence has no \"pretokenizers\" array.");
                foreach (var child in list) Add(child ?? throw new InvalidDataException($"{source}: null entry in pre_tokenizer Sequence."), steps, source);
                break;
            case "ByteLevel":
            {
                bool prefix = Bool(node, "add_prefix_space", false, source), useRegex = Bool(node, "use_regex", true, source);
                steps.Add(pieces => ByteLevelStep(pieces, prefix, useRegex));
                break;
            }
            case "Split":
            {
                string behavior = Str(node, "behavior", source) ?? "Isolated";
                if (behavior != "Isolated") throw new InvalidDataException($"{source}: pre_tokenizer Split behavior '{behavior}' is not supported (only Isolated).");
                if (Bool(node, "invert", false, source)) throw new InvalidDataException($"{source}: pre_tokenizer Split with invert true is not supported.");
                var pattern = node["pattern"] as JsonObject ?? throw new InvalidDataException($"{source}: pre_tokenizer Split has no \"pattern\" object.");
                string text = Str(pattern, "Regex", source) is { } r ? r
                    : Str(pattern, "String", source) is { } s ? Regex.Escape(s)
                    : throw new InvalidDataException($"{source}: pre_tokenizer Split pattern has neither \"Regex\" nor \"String\".");
                Regex regex;
                try { regex = new Regex(text, RegexOptions.CultureInvariant); }
                catch (ArgumentException e) { throw new InvalidDataException($"{source}: pre_tokenizer Split regex does not compile in .NET: {e.Message}", e); }
                steps.Add(pieces => Isolate(pieces, regex));
                break;
            }
            default:
                throw new InvalidDataException($"{source}: pre_tokenizer type '{type}' is not supported (ByteLevel, Split, Sequence).");
        }
    }

    private static string? Str(JsonNode node, string name, string source)
    {
        var v = node[name];
        if (v is null) return null;
        try { return v.GetValue<string>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new InvalidDataException($"{source}: pre_tokenizer field \"{name}\" must be a string.", e); }
    }

    private static bool Bool(JsonNode node, string name, bool fallback, string source)
    {
        var v = node[name];
        if (v is null) return fallback;
        try { return v.GetValue<bool>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        { throw new InvalidDataException($"{source}: pre_tokenizer field \"{name}\" must be true or false.", e); }
    }

    /// <summary>Splits <paramref name="text"/> into pieces (their concatenation is the text, plus any prefix spaces).</summary>
    public IEnumerable<string> Split(string text)
    {
        IEnumerable<string> pieces = [text];
        foreach (var step in _steps) pieces = step(pieces);
        return pieces.Where(p => p.Length > 0);
    }

    private static IEnumerable<string> ByteLevelStep(IEnumerable<string> pieces, bool addPrefixSpace, bool useRegex)
    {
        foreach (string p in pieces)
        {
            string piece = addPrefixSpace && !p.StartsWith(' ') ? " " + p : p;
            if (!useRegex) { yield return piece; continue; }
            foreach (string q in ByteLevel.PreTokenize(piece)) yield return q;
        }
    }

    private static IEnumerable<string> Isolate(IEnumerable<string> pieces, Regex regex)
    {
        foreach (string p in pieces)
        {
            int at = 0;
            for (var m = regex.Match(p); m.Success; m = m.NextMatch())
            {
                if (m.Length == 0) continue;
                if (m.Index > at) yield return p[at..m.Index];
                yield return m.Value;
                at = m.Index + m.Length;
            }
            if (at < p.Length) yield return p[at..];
        }
    }
}
