namespace Jepa.Training.Evaluation;

/// <summary>Python's string operations where the paper's evaluation code relies on them.</summary>
public static class PythonText
{
    /// <summary>
    /// Python's <c>str.strip()</c>: removes leading and trailing characters that Python counts as white space — .NET's
    /// <see cref="char.IsWhiteSpace(char)"/> set plus the separators U+001C to U+001F, which Python also strips.
    /// </summary>
    public static string Strip(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int start = 0, end = text.Length;
        while (start < end && IsSpace(text[start])) start++;
        while (end > start && IsSpace(text[end - 1])) end--;
        return text[start..end];
    }

    /// <summary>True for a character Python's <c>str.isspace()</c> accepts.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';
}
