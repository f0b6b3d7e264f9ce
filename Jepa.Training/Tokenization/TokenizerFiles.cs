using Jepa.Core;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Tokenization;

/// <summary>
/// The tokenizer and chat format files of a saved model or checkpoint folder: <see cref="ByteFile"/> for the
/// <see cref="ByteTokenizer"/>, <see cref="BpeFile"/> (a Hugging Face tokenizer.json) for a <see cref="BpeTokenizer"/>,
/// and <see cref="FormatFile"/> for the <see cref="ChatFormat"/> (absent in older folders: <see cref="ChatFormat.Jepa"/>).
/// </summary>
public static class TokenizerFiles
{
    /// <summary>The byte tokenizer's description.</summary>
    public const string ByteFile = "jepa_tokenizer.json";

    /// <summary>A BPE tokenizer, as a Hugging Face tokenizer.json.</summary>
    public const string BpeFile = "tokenizer.json";

    /// <summary>The chat format (see <see cref="ChatFormat.ToJson"/>).</summary>
    public const string FormatFile = "jepa_chat_format.json";

    /// <summary>The short description checkpoints record: type name and vocabulary size, e.g. <c>ByteTokenizer:271</c>.</summary>
    public static string Describe(ITokenizer tokenizer) => $"{tokenizer.GetType().Name}:{tokenizer.VocabSize}";

    /// <summary>Writes the tokenizer's file and the format's into <paramref name="directory"/>.</summary>
    /// <exception cref="NotSupportedException">The tokenizer is neither a <see cref="ByteTokenizer"/> nor a <see cref="BpeTokenizer"/>.</exception>
    public static void Write(string directory, ITokenizer tokenizer, ChatFormat format)
    {
        switch (tokenizer)
        {
            case ByteTokenizer b:
                AtomicFile.WriteAllText(Path.Combine(directory, ByteFile),
                    new JsonObject { ["type"] = "byte", ["predictor_tokens"] = b.Special.Predictors.Count }.ToJsonString());
                break;
            case BpeTokenizer bpe:
                bpe.Save(Path.Combine(directory, BpeFile));
                break;
            default:
                throw new NotSupportedException($"Cannot save a tokenizer of type {tokenizer.GetType().Name}; only ByteTokenizer and BpeTokenizer are saved.");
        }
        format.Save(Path.Combine(directory, FormatFile));
    }

    /// <summary>
    /// Reads the tokenizer and format of <paramref name="directory"/>: <see cref="BpeFile"/> when present, else the byte
    /// tokenizer with <see cref="ByteFile"/>'s predictor count (else <paramref name="bytePredictors"/>).
    /// <paramref name="recorded"/> is a checkpoint's <see cref="Describe"/> string, checked against what is found.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is damaged, or the checkpoint names a tokenizer whose file is missing.</exception>
    public static (ITokenizer Tokenizer, ChatFormat Format) Read(string directory, int bytePredictors = SpecialTokens.DefaultPredictorCount, string? recorded = null)
    {
        ITokenizer tokenizer;
        string bpe = Path.Combine(directory, BpeFile), bytes = Path.Combine(directory, ByteFile);
        if (File.Exists(bpe)) tokenizer = BpeTokenizer.Load(bpe);
        else if (recorded is not null && !recorded.StartsWith(nameof(ByteTokenizer) + ":", StringComparison.Ordinal))
            throw new InvalidDataException($"{directory}: the checkpoint was trained with tokenizer '{recorded}' but holds no {BpeFile}.");
        else
        {
            int predictors = bytePredictors;
            if (File.Exists(bytes))
            {
                JsonNode? node;
                try
                {
                    node = JsonNode.Parse(File.ReadAllText(bytes));
                    predictors = (int?)node?["predictor_tokens"] ?? predictors;
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
                { throw new InvalidDataException($"{bytes}: malformed tokenizer description ({e.Message}).", e); }
                if (node?["type"] is { } type && (type.GetValueKind() != JsonValueKind.String || type.GetValue<string>() != "byte"))
                    throw new InvalidDataException($"{bytes}: unknown tokenizer type {type.ToJsonString()}; this file describes only the byte tokenizer (\"type\": \"byte\"), a BPE tokenizer comes as {BpeFile}.");
                if (predictors < 0 || predictors > ByteTokenizer.MaxPredictorTokens)
                    throw new InvalidDataException($"{bytes}: predictor_tokens must be between 0 and {ByteTokenizer.MaxPredictorTokens}, got {predictors}.");
            }
            tokenizer = new ByteTokenizer(predictors);
        }
        if (recorded is not null && recorded != Describe(tokenizer))
            throw new InvalidDataException($"{directory}: the checkpoint records tokenizer '{recorded}' but its files give '{Describe(tokenizer)}'.");
        string formatPath = Path.Combine(directory, FormatFile);
        var format = File.Exists(formatPath) ? ChatFormat.Load(formatPath) : DetectedOrJepa(directory);
        return (tokenizer, format);
    }

    /// <summary>Without a format file: the format of a Hugging Face folder's chat_template when recognised, else jepa.</summary>
    private static ChatFormat DetectedOrJepa(string directory)
    {
        string config = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(config)) return ChatFormat.Jepa;
        try
        {
            return JsonNode.Parse(File.ReadAllText(config))?["chat_template"] is JsonValue v && v.TryGetValue(out string? t)
                ? ChatFormat.Detect(t) : ChatFormat.Jepa;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            return ChatFormat.Jepa;
        }
    }
}
