namespace Jepa.Training.Evaluation;

/// <summary>One evaluated example.</summary>
/// <param name="Text">The prompt (the Text view).</param>
/// <param name="Reference">The reference answer (the Code view).</param>
/// <param name="Prediction">The generated answer (empty when <paramref name="Error"/> is set).</param>
/// <param name="Correct">True when the metric accepts the prediction.</param>
/// <param name="Error">Why no answer was generated (e.g. the prompt does not fit the model), or null.</param>
public sealed record EvalRecord(string Text, string Reference, string Prediction, bool Correct, string? Error = null);
