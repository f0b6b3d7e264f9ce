using System.Text.Encodings.Web;
using System.Text.Json;

namespace Jepa.Cli.Support;

/// <summary>One-line JSON objects for <c>--json</c> output and JSONL files: keys as given, non-finite numbers as null
/// (inside arrays, such as embeddings, as "NaN"/"Infinity" strings).</summary>
public static class JsonLine
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The object as one line of JSON.</summary>
    public static string Of(IEnumerable<KeyValuePair<string, object?>> fields) =>
        JsonSerializer.Serialize(fields.ToDictionary(kv => kv.Key, kv => Clean(kv.Value)), Options);

    /// <summary>Indented JSON (for files people read).</summary>
    public static string Indented(IEnumerable<KeyValuePair<string, object?>> fields) =>
        JsonSerializer.Serialize(fields.ToDictionary(kv => kv.Key, kv => Clean(kv.Value)), new JsonSerializerOptions(Options) { WriteIndented = true });

    private static object? Clean(object? value) => value switch
    {
        double d when !double.IsFinite(d) => null,
        float f when !float.IsFinite(f) => null,
        IEnumerable<KeyValuePair<string, object?>> nested => nested.ToDictionary(kv => kv.Key, kv => Clean(kv.Value)),
        _ => value,
    };
}
