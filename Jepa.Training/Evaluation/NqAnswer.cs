namespace Jepa.Training.Evaluation;

/// <summary>
/// The <c>nq</c> metric, the paper's NQ-open rule: the stripped generated answer is split on <c>"; "</c> and is
/// correct when any piece occurs (ordinal substring, no normalisation) in the raw reference text. Empty pieces are
/// kept, as Python's <c>str.split("; ")</c> keeps them, and the empty string occurs in every reference: so an empty
/// answer, or one with an empty piece (it begins with <c>"; "</c> or holds <c>"; ; "</c>), is correct. This follows
/// the paper's code; <see cref="NqContainsAnswer"/> (<c>nq-contains</c>) is the normalised alternative.
/// </summary>
public static class NqAnswer
{
    /// <summary>The separator between the answers of one response.</summary>
    public const string Separator = "; ";

    /// <summary>True when a <c>"; "</c>-separated piece of the stripped prediction is a substring of the reference.</summary>
    public static bool IsCorrect(string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        foreach (string piece in PythonText.Strip(prediction).Split(Separator))
            if (reference.Contains(piece, StringComparison.Ordinal)) return true;
        return false;
    }
}
