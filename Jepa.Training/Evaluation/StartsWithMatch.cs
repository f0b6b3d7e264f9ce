namespace Jepa.Training.Evaluation;

/// <summary>
/// The <c>startswith</c> metric, the paper's <c>--startswith</c> rule for Rotten Tomatoes and Yelp (answers such as
/// "Good", "Very Good"): the stripped generated answer begins with the reference (ordinal; the reference is not
/// stripped, and an empty reference accepts everything, as Python's <c>str.startswith("")</c> does).
/// </summary>
public static class StartsWithMatch
{
    /// <summary>True when the stripped prediction starts with the reference.</summary>
    public static bool IsCorrect(string prediction, string reference) =>
        PythonText.Strip(prediction).StartsWith(reference, StringComparison.Ordinal);
}
