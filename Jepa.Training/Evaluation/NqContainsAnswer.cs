using System.Text;
using System.Text.Json;

namespace Jepa.Training.Evaluation;

/// <summary>
/// The <c>nq-contains</c> metric, NQ-open scoring by normalised answer containment (not the paper's rule, which is
/// <see cref="NqAnswer"/>): the prediction is correct when, after normalisation (lower case, punctuation removed,
/// the articles a/an/the removed, white space collapsed — SQuAD's normalize_answer), the words of any reference
/// answer occur as a contiguous run of its words. The reference holds one or
/// several answers: a JSON list of strings (<c>["Paris", "Paris, France"]</c>) or answers separated by
/// <c>|</c>.
/// </summary>
public static class NqContainsAnswer
{
    /// <summary>The normalised words of <paramref name="text"/>.</summary>
    public static string[] NormalizedWords(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        foreach (char c in text.ToLowerInvariant())
            sb.Append(char.IsPunctuation(c) || char.IsSymbol(c) ? ' ' : c);
        return sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Where(w => w is not ("a" or "an" or "the")).ToArray();
    }

    /// <summary>The normalised form of <paramref name="text"/>: its normalised words joined by single spaces.</summary>
    public static string Normalize(string text) => string.Join(' ', NormalizedWords(text));

    /// <summary>The reference answers held by <paramref name="reference"/>: a JSON list of strings, or <c>|</c>-separated answers.</summary>
    public static IReadOnlyList<string> References(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        string r = reference.Trim();
        if (r.StartsWith('['))
        {
            try
            {
                var list = JsonSerializer.Deserialize<string[]>(r);
                if (list is not null) return list.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()).ToArray();
            }
            catch (JsonException)
            {
                // Not a JSON list of strings: read it as '|'-separated text.
            }
        }
        return r.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>True when any reference answer's normalised words occur contiguously in the normalised prediction.</summary>
    public static bool IsCorrect(string prediction, string reference)
    {
        string[] words = NormalizedWords(prediction);
        foreach (string answer in References(reference))
        {
            string[] target = NormalizedWords(answer);
            if (target.Length > 0 && Contains(words, target)) return true;
        }
        return false;
    }

    private static bool Contains(string[] words, string[] run)
    {
        for (int i = 0; i + run.Length <= words.Length; i++)
        {
            int j = 0;
            while (j < run.Length && string.Equals(words[i + j], run[j], StringComparison.Ordinal)) j++;
            if (j == run.Length) return true;
        }
        return false;
    }
}
