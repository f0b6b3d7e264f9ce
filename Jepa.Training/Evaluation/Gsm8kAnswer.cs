using System.Globalization;
using System.Text.RegularExpressions;

namespace Jepa.Training.Evaluation;

/// <summary>
/// The <c>gsm8k</c> metric, numeric GSM8K scoring (more lenient than the paper's string rule,
/// <see cref="Gsm8kPaperAnswer"/>): a solution ends with <c>#### N</c>; the answer is the first number after the last
/// <c>####</c>, with thousands separators (commas) and a dollar sign removed. A prediction is correct when
/// both it and the reference have an answer and the two are equal as decimal numbers (<c>1,800</c> equals
/// <c>1800</c>, <c>18.0</c> equals <c>18</c>).
/// </summary>
public static partial class Gsm8kAnswer
{
    /// <summary>The marker before the final answer.</summary>
    public const string Marker = "####";

    [GeneratedRegex(@"(-?)\$?([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();

    /// <summary>The number after the last <c>####</c> of <paramref name="text"/> without commas (e.g. <c>-1234.5</c>), or null when there is none.</summary>
    public static string? Extract(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = text.LastIndexOf(Marker, StringComparison.Ordinal);
        if (at < 0) return null;
        var m = NumberPattern().Match(text, at + Marker.Length);
        if (!m.Success) return null;
        return m.Groups[1].Value + m.Groups[2].Value.Replace(",", "", StringComparison.Ordinal);
    }

    /// <summary>True when both texts have a final answer and the two are the same number.</summary>
    public static bool IsCorrect(string prediction, string reference)
    {
        string? p = Extract(prediction), r = Extract(reference);
        if (p is null || r is null) return false;
        const NumberStyles style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;
        if (decimal.TryParse(p, style, CultureInfo.InvariantCulture, out var pv) && decimal.TryParse(r, style, CultureInfo.InvariantCulture, out var rv))
            return pv == rv;
        return string.Equals(p, r, StringComparison.Ordinal);
    }
}
