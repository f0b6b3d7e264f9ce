using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Tokenization;

/// <summary>A Hugging Face model folder's tokenizer: the tokenizer, its chat format and its BOS/EOS token texts.</summary>
/// <param name="Tokenizer">The tokenizer (padding id: the EOS token when there is one), without predictor tokens unless the file has them.</param>
/// <param name="Format">The chat format: the one asked for, else detected from <c>chat_template</c>.</param>
/// <param name="BosToken">The <c>bos_token</c> of tokenizer_config.json, or null.</param>
/// <param name="EosToken">The <c>eos_token</c> of tokenizer_config.json, or null.</param>
public sealed record HfTokenizerFolder(BpeTokenizer Tokenizer, ChatFormat Format, string? BosToken, string? EosToken);

/// <summary>Loads the tokenizer of a Hugging Face model folder (tokenizer.json + tokenizer_config.json).</summary>
public static class HfTokenizer
{
    /// <summary>
    /// Reads <c>tokenizer.json</c> (<see cref="BpeTokenizer.Load"/>) and <c>tokenizer_config.json</c> (<c>chat_template</c>,
    /// <c>bos_token</c>, <c>eos_token</c>) from <paramref name="directory"/>. The chat format is <paramref name="format"/>, else
    /// <see cref="ChatFormat.Detect"/> of the chat template. Add predictor tokens with <see cref="BpeTokenizer.WithPredictors"/>
    /// (first id: the model's vocabulary size).
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or the chat template is not recognised.</exception>
    public static HfTokenizerFolder LoadFolder(string directory, ChatFormat? format = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        string tokPath = Path.Combine(directory, "tokenizer.json"), cfgPath = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(tokPath)) throw new FileNotFoundException($"{directory}: tokenizer.json is missing (BPE tokenizer.json files are supported: byte-level, or SentencePiece-style with ▁ for spaces).", tokPath);
        if (!File.Exists(cfgPath)) throw new FileNotFoundException($"{directory}: tokenizer_config.json is missing (it gives the chat template and the BOS/EOS tokens).", cfgPath);
        var tokenizer = BpeTokenizer.Load(tokPath);
        JsonObject config;
        try { config = JsonNode.Parse(File.ReadAllText(cfgPath)) as JsonObject ?? throw new InvalidDataException($"{cfgPath}: not a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{cfgPath}: invalid JSON: {e.Message}", e); }
        string? bos = TokenText(config["bos_token"], "bos_token", cfgPath), eos = TokenText(config["eos_token"], "eos_token", cfgPath);
        if (eos is not null && tokenizer.AddedTokens.TryGetValue(eos, out int eosId)) tokenizer = tokenizer.WithPad(eosId);
        format ??= DetectIn(config["chat_template"], cfgPath);
        return new HfTokenizerFolder(tokenizer, format, bos, eos);
    }

    private static ChatFormat DetectIn(JsonNode? template, string path)
    {
        string? text = template switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? s) => s,
            // The list form: [{"name": "default", "template": "..."}, ...].
            JsonArray list => list.OfType<JsonObject>().FirstOrDefault(o => (string?)o["name"] == "default")?["template"]?.GetValue<string>(),
            _ => throw new InvalidDataException($"{path}: chat_template must be a string or a list of named templates."),
        };
        try { return ChatFormat.Detect(text); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    private static string? TokenText(JsonNode? node, string field, string path) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        _ => throw new InvalidDataException($"{path}: {field} must be a string or an object with \"content\"."),
    };
}
