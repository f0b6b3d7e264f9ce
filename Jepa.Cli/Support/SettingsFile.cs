using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Training.Model;

namespace Jepa.Cli.Support;

/// <summary>
/// A JSON settings file for <c>jepa train --config</c>: a model config and/or options. The model is the
/// <c>"model"</c> object, or the file itself when it has a <c>"d_model"</c> (a <see cref="ModelConfig"/> as
/// written by <see cref="ModelConfig.ToJson"/>) or <c>"hidden_size"</c> (a Hugging Face <c>config.json</c>)
/// field; <c>vocab_size</c> may be left out (the tokenizer sets it). Every other field is an option by its
/// long name (<c>"steps": 600</c>, <c>"grad_accum": 2</c> or <c>"grad-accum": 2</c>, <c>"front_pred": true</c>).
/// </summary>
/// <param name="Source">The file's path (or another name) for messages.</param>
/// <param name="Model">The model config, or null when the file has none.</param>
/// <param name="Options">Option name → value as text.</param>
public sealed record SettingsFile(string Source, ModelConfig? Model, IReadOnlyDictionary<string, string> Options)
{
    /// <summary>True when the model config gives <c>vocab_size</c> itself (else the tokenizer's size filled it in).</summary>
    public bool VocabSizeGiven { get; init; }

    private static readonly string[] ModelFields =
        ["vocab_size", "d_model", "layers", "heads", "kv_heads", "ffn", "rope_theta", "norm_eps", "max_length", "tie_embeddings", "rope_interleaved"];

    private static readonly string[] HfFields =
        ["architectures", "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
         "num_key_value_heads", "head_dim", "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_theta", "tie_word_embeddings",
         "attention_bias", "mlp_bias", "torch_dtype", "jepa_rope_interleaved", "bos_token_id", "eos_token_id", "pad_token_id", "transformers_version"];

    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">It is not a JSON object, or its model config is invalid; the message names the file.</exception>
    public static SettingsFile Read(string path, int vocabSize)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path, vocabSize);
    }

    /// <summary>Parses settings text; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">Not a JSON object, or an invalid model config.</exception>
    public static SettingsFile Parse(string json, string source, int vocabSize)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new InvalidDataException($"{source}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: invalid JSON ({e.Message}).", e);
        }

        JsonObject? model = null;
        string[] modelKeys = [];
        if (root["model"] is JsonObject nested) { model = nested; modelKeys = ["model"]; }
        else if (root.ContainsKey("d_model")) { model = Pick(root, ModelFields); modelKeys = ModelFields; }
        else if (root.ContainsKey("hidden_size")) { model = Pick(root, HfFields); modelKeys = HfFields; }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in root)
        {
            if (modelKeys.Contains(key)) continue;
            options[key.Replace('_', '-')] = OptionText(value, key, source);
        }
        return new SettingsFile(source, model is null ? null : ModelFrom(model, source, vocabSize), options)
        {
            VocabSizeGiven = model?.ContainsKey("vocab_size") == true,
        };
    }

    private static JsonObject Pick(JsonObject root, string[] fields)
    {
        var o = new JsonObject();
        foreach (var (k, v) in root) if (fields.Contains(k)) o[k] = v?.DeepClone();
        return o;
    }

    private static ModelConfig ModelFrom(JsonObject o, string source, int vocabSize)
    {
        var copy = (JsonObject)o.DeepClone();
        copy.TryAdd("vocab_size", vocabSize);
        if (copy.ContainsKey("hidden_size")) return HfConfig.FromJson(copy.ToJsonString(), source);
        foreach (var (k, _) in copy)
            if (!ModelFields.Contains(k))
                throw new InvalidDataException($"{source}: unknown model field '{k}'. Valid fields: {string.Join(", ", ModelFields)}.");
        foreach (string required in (string[])["d_model", "layers", "heads", "kv_heads", "ffn"])
            if (!copy.ContainsKey(required)) throw new InvalidDataException($"{source}: the model config misses '{required}'.");
        try
        {
            return ModelConfig.FromJson(copy.ToJsonString(), source);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    private static string OptionText(JsonNode? value, string key, string source) => value switch
    {
        JsonValue v when v.TryGetValue(out bool b) => b ? "true" : "false",
        JsonValue v when v.TryGetValue(out string? s) => s!,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => throw new InvalidDataException($"{source}: option '{key}' must be a number, a string or true/false."),
    };
}
