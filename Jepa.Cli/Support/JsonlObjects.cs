using System.Text.Json;

namespace Jepa.Cli.Support;

/// <summary>Reads JSONL files of one JSON object per line (metrics, curves, predictions, embeddings), with every error
/// named as FILE:LINE.</summary>
public static class JsonlObjects
{
    /// <summary>
    /// Parses each non-blank line of <paramref name="path"/> as a JSON object and returns what <paramref name="read"/> makes
    /// of it (given the object and its 1-based line number; the object lives only during the call). <paramref name="read"/>
    /// reports a field it cannot use by throwing <see cref="InvalidDataException"/> with <c>{path}:{line}:</c> in front.
    /// </summary>
    /// <exception cref="InvalidDataException">A line is not JSON or not an object, or <paramref name="read"/> refused it.</exception>
    public static List<T> Read<T>(string path, Func<JsonElement, int, T> read)
    {
        var items = new List<T>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNo}: invalid JSON ({e.Message.Split('.')[0]}).", e); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}:{lineNo}: expected a JSON object.");
                items.Add(read(doc.RootElement, lineNo));
            }
        }
        return items;
    }
}
