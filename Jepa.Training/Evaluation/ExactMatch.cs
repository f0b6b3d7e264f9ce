namespace Jepa.Training.Evaluation;

/// <summary>The paper's accuracy: the generated answer equals the reference after trimming surrounding white space.</summary>
public static class ExactMatch
{
    /// <summary>True when the trimmed strings are equal (ordinal comparison).</summary>
    public static bool IsCorrect(string prediction, string reference) =>
        string.Equals(prediction.Trim(), reference.Trim(), StringComparison.Ordinal);
}
