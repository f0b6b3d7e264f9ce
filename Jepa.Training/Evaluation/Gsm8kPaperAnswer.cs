using System.Text.RegularExpressions;

namespace Jepa.Training.Evaluation;

/// <summary>
/// The <c>gsm8k-paper</c> metric, the paper's GSM8K rule: the answer is what follows the first <c>\n#### </c> whose line
/// runs to the end of the text (the regular expression <c>\n#### (.+)$</c> searched without the multi-line flag, so
/// <c>$</c> matches only at the end or before a final line break), taken from the stripped prediction and from the
/// reference; the two answers are compared as strings (<c>18</c> and <c>18.0</c> differ, and so do <c>18</c> and
/// <c>18 dollars</c>). A marker without a line break before it is not found. One departure: the paper counts a
/// prediction without the marker correct when the reference has none either (Python's <c>None == None</c>); here a
/// reference without the marker makes the example wrong (GSM8K references always have it).
/// </summary>
public static partial class Gsm8kPaperAnswer
{
    // .NET's '.' and '$' without RegexOptions.Multiline behave as Python's re without re.MULTILINE: '.' stops at '\n',
    // '$' matches at the end or before a final '\n'.
    [GeneratedRegex(@"\n#### (.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex AnswerPattern();

    /// <summary>The text after the marker (the paper's <c>group(1)</c>), or null when the pattern does not match.</summary>
    public static string? Extract(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var m = AnswerPattern().Match(text);
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>True when the reference has an answer and the stripped prediction has the same one.</summary>
    public static bool IsCorrect(string prediction, string reference)
    {
        string? r = Extract(reference);
        return r is not null && string.Equals(Extract(PythonText.Strip(prediction)), r, StringComparison.Ordinal);
    }
}
