using System.Text;
using System.Text.Json;

namespace Jepa.Training.Data;

/// <summary>What <see cref="JsonlPairReader"/> read from a file.</summary>
/// <param name="Examples">The examples, in file order.</param>
/// <param name="Skipped">Lines skipped as malformed (only with skip-bad).</param>
/// <param name="Problems">One message per skipped line: file, line and reason.</param>
public sealed record JsonlReadResult(IReadOnlyList<PairExample> Examples, int Skipped, IReadOnlyList<string> Problems);

/// <summary>
/// Reads paired views from JSONL: either the chat "messages" form of the LLM-JEPA code
/// (<c>{"messages":[{"role":"system",...},{"role":"user",...},{"role":"assistant",...}]}</c>) or the
/// plain form <c>{"text": ..., "code": ...}</c> (optional <c>"system"</c>). Blank lines are ignored.
/// A malformed line is an error naming file, line and reason, unless skip-bad is on: then it is counted
/// and reported, never dropped silently.
/// </summary>
public static class JsonlPairReader
{
    /// <summary>Reads every example of <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">A line is malformed and <paramref name="skipBad"/> is false.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static JsonlReadResult Read(string path, bool skipBad = false)
    {
        if (Directory.Exists(path)) throw new FileNotFoundException($"Data file '{path}' is a folder; give a JSONL file.", path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        var examples = new List<PairExample>();
        var problems = new List<string>();
        int lineNo = 0;
        foreach (string? line in Lines(path))
        {
            lineNo++;
            if (line is not null && string.IsNullOrWhiteSpace(line)) continue;
            PairExample? example = null;
            string? error = line is null ? "invalid UTF-8" : TryParse(line, out example);
            if (error is null)
            {
                examples.Add(example!);
                continue;
            }
            string message = $"{path}:{lineNo}: {error}";
            if (!skipBad) throw new InvalidDataException(message + " (use --skip-bad to skip such lines)");
            problems.Add(message);
        }
        return new JsonlReadResult(examples, problems.Count, problems);
    }

    /// <summary>The file's lines decoded as strict UTF-8 (a leading byte-order mark skipped); null for a line that is not
    /// valid UTF-8, which a lenient decoder would silently turn into U+FFFD.</summary>
    private static IEnumerable<string?> Lines(string path)
    {
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        byte[] bytes = File.ReadAllBytes(path);
        int start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        while (start < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', start);
            int end = nl < 0 ? bytes.Length : nl;
            int stop = end > start && bytes[end - 1] == (byte)'\r' ? end - 1 : end;
            string? line;
            try { line = strict.GetString(bytes, start, stop - start); }
            catch (DecoderFallbackException) { line = null; }
            yield return line;
            start = end + 1;
        }
    }

    /// <summary>Parses one JSONL line; returns null on success or the reason it is malformed.</summary>
    public static string? TryParse(string line, out PairExample? example)
    {
        example = null;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { return $"invalid JSON ({e.Message})"; }
        try
        {
            using (doc) return Parse(doc, out example);
        }
        catch (InvalidOperationException)
        {
            example = null;
            return "a string holds a lone UTF-16 surrogate escape (such as \\ud800), which is no text";
        }
    }

    private static string? Parse(JsonDocument doc, out PairExample? example)
    {
        example = null;
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "expected a JSON object";
            if (root.TryGetProperty("messages", out var messages)) return ParseMessages(messages, out example);
            if (root.TryGetProperty("text", out var text) && root.TryGetProperty("code", out var code))
            {
                if (text.ValueKind != JsonValueKind.String || code.ValueKind != JsonValueKind.String)
                    return "\"text\" and \"code\" must be strings";
                string? system = root.TryGetProperty("system", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                example = new PairExample(system, text.GetString()!, code.GetString()!);
                return null;
            }
            return "expected a \"messages\" array or \"text\" and \"code\" fields";
        }
    }

    private static string? ParseMessages(JsonElement messages, out PairExample? example)
    {
        example = null;
        if (messages.ValueKind != JsonValueKind.Array) return "\"messages\" must be an array";
        string? system = null, user = null, assistant = null;
        int i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                return $"message {i} has no string \"role\"";
            if (!m.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                return $"message {i} ({Shown(role.GetString())}) has no string \"content\"";
            switch (role.GetString())
            {
                case "system": system ??= content.GetString(); break;
                case "user": if (user is not null) return "more than one user message"; user = content.GetString(); break;
                case "assistant": if (assistant is not null) return "more than one assistant message"; assistant = content.GetString(); break;
                default: return $"message {i} has unknown role {Shown(role.GetString())} (expected system, user or assistant)";
            }
            i++;
        }
        if (user is null) return "no user message (the Text view)";
        if (assistant is null) return "no assistant message (the Code view)";
        example = new PairExample(system, user, assistant);
        return null;
    }

    /// <summary>A value from the file as a JSON string literal, so that control characters in it cannot break the one-line message.</summary>
    private static string Shown(string? value) => JsonSerializer.Serialize(value);
}
