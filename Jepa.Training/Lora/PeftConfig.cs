using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Lora;

/// <summary>Hugging Face PEFT's <c>adapter_config.json</c> for a LoRA adapter of a causal language model.</summary>
public static class PeftConfig
{
    /// <summary>The config's file name in an adapter folder.</summary>
    public const string FileName = "adapter_config.json";

    /// <summary>The weights' file name in an adapter folder.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The JSON PEFT writes for <paramref name="options"/> (peft_type LORA, task_type CAUSAL_LM, no bias, no DoRA/rsLoRA).</summary>
    public static string ToJson(LoraOptions options, string? baseModelNameOrPath = null)
    {
        static JsonNode Number(float x) => JsonValue.Create(double.Parse(x.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
        var o = new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = options.Alpha == MathF.Round(options.Alpha) ? JsonValue.Create((int)options.Alpha) : Number(options.Alpha),
            ["lora_dropout"] = Number(options.Dropout),
            ["modules_to_save"] = null,
            ["peft_type"] = "LORA",
            ["r"] = options.Rank,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = new JsonArray([.. options.Targets.Select(t => (JsonNode)JsonValue.Create(t))]),
            ["task_type"] = "CAUSAL_LM",
            ["use_dora"] = false,
            ["use_rslora"] = false,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads a LoRA adapter config (as PEFT writes it) into options; <paramref name="path"/> names the file in errors.</summary>
    /// <exception cref="InvalidDataException">Not a LoRA config, or it asks for something this library does not run; the message names the field.</exception>
    public static LoraOptions FromJson(string json, string path)
    {
        JsonObject o;
        try
        {
            o = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed JSON ({e.Message}).", e);
        }
        string? peft = Str(o, "peft_type", path);
        if (peft != "LORA") throw new InvalidDataException($"{path}: peft_type is '{peft ?? "(missing)"}', only LORA adapters can be loaded.");
        string? bias = Str(o, "bias", path);
        if (bias is not null and not "none") throw new InvalidDataException($"{path}: bias '{bias}' is not supported (only \"none\").");
        foreach (var flag in new[] { "use_dora", "use_rslora", "fan_in_fan_out" })
            if (o[flag] is JsonValue v && v.TryGetValue(out bool on) && on) throw new InvalidDataException($"{path}: {flag} true is not supported.");
        foreach (var field in new[] { "layers_to_transform", "modules_to_save" })
            if (o[field] is JsonNode n && !(n is JsonArray { Count: 0 })) throw new InvalidDataException($"{path}: {field} is set ({n.ToJsonString()}); only adapters of every layer with no extra saved modules are supported.");
        foreach (var field in new[] { "rank_pattern", "alpha_pattern" })
            if (o[field] is JsonObject { Count: > 0 } p) throw new InvalidDataException($"{path}: {field} is set ({p.ToJsonString()}); per-module ranks and alphas are not supported.");
        int r = (int)Num(o, "r", path, required: true);
        if (r != Num(o, "r", path, required: true)) throw new InvalidDataException($"{path}: r must be an integer.");
        double alpha = Num(o, "lora_alpha", path, required: false, fallback: 8);
        double dropout = Num(o, "lora_dropout", path, required: false, fallback: 0);
        string[] targets = o["target_modules"] switch
        {
            JsonArray a => [.. a.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : throw new InvalidDataException($"{path}: target_modules holds a non-string {n?.ToJsonString() ?? "null"}."))],
            JsonValue v when v.TryGetValue(out string? s) => throw new InvalidDataException($"{path}: target_modules is the pattern '{s}'; list the module names instead ({string.Join(", ", LoraOptions.AllTargets)})."),
            _ => throw new InvalidDataException($"{path}: target_modules is missing."),
        };
        var options = new LoraOptions { Rank = r, Alpha = (float)alpha, Dropout = (float)dropout, Targets = targets };
        try
        {
            return options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static string? Str(JsonObject o, string key, string path) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        var n => throw new InvalidDataException($"{path}: {key} must be a string, got {n.ToJsonString()}."),
    };

    private static double Num(JsonObject o, string key, string path, bool required, double fallback = 0) => o[key] switch
    {
        null when !required => fallback,
        null => throw new InvalidDataException($"{path}: {key} is missing."),
        JsonValue v when v.TryGetValue(out double d) => d,
        var n => throw new InvalidDataException($"{path}: {key} must be a number, got {n.ToJsonString()}."),
    };
}
