namespace Jepa.Training.Evaluation;

/// <summary>
/// The <c>exact</c> metric, the paper's accuracy: the generated answer with surrounding white space stripped
/// (<see cref="PythonText.Strip"/>, as the paper's code strips every response) equals the reference as it stands
/// (ordinal comparison; the reference is not stripped).
/// </summary>
public static class ExactMatch
{
    /// <summary>True when the stripped prediction equals the reference.</summary>
    public static bool IsCorrect(string prediction, string reference) =>
        string.Equals(PythonText.Strip(prediction), reference, StringComparison.Ordinal);
}
