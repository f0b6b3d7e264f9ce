using System.Text.Json;
using Jepa.Training.Evaluation;

namespace Jepa.Cli.Support;

/// <summary>One line of a predictions file (<see cref="EvalRunner.WritePredictions"/>).</summary>
/// <param name="Line">The line number in the file (1-based).</param>
/// <param name="Text">The prompt, or null when the line has none.</param>
/// <param name="Reference">The reference answer, or null when the line has none.</param>
/// <param name="Prediction">The generated answer.</param>
/// <param name="Error">Why no answer was generated, or null.</param>
public sealed record SavedPrediction(int Line, string? Text, string? Reference, string Prediction, string? Error);

/// <summary>Reads the predictions a run wrote (<c>jepa eval --out</c>, a training run's <c>eval.jsonl</c>).</summary>
public static class PredictionsFile
{
    /// <summary>The predictions of <paramref name="path"/>, one per non-blank line, each an object with a string
    /// <c>prediction</c> and optional string <c>text</c>, <c>reference</c> and <c>error</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A malformed line, named as FILE:LINE.</exception>
    public static IReadOnlyList<SavedPrediction> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Predictions file '{path}' does not exist.", path);
        var result = JsonlObjects.Read(path, (root, lineNo) =>
        {
            string prediction = OptionalString(root, "prediction", path, lineNo)
                ?? throw new InvalidDataException($"{path}:{lineNo}: no \"prediction\" (is this a predictions file from jepa eval --out or a run's eval.jsonl?).");
            return new SavedPrediction(lineNo, OptionalString(root, "text", path, lineNo), OptionalString(root, "reference", path, lineNo),
                prediction, OptionalString(root, "error", path, lineNo));
        });
        if (result.Count == 0) throw new InvalidDataException($"{path}: no predictions.");
        return result;
    }

    /// <summary>The records to score: each prediction with its prompt and reference, from <paramref name="data"/> when
    /// given (the i-th prediction answers the i-th example; a prompt or reference that differs is an error), else from
    /// the predictions file itself.</summary>
    /// <exception cref="InvalidDataException">The files do not line up, or a prediction lacks its text or reference.</exception>
    public static IReadOnlyList<EvalRecord> Records(string path, IReadOnlyList<SavedPrediction> predictions,
        string? dataPath, IReadOnlyList<Jepa.Training.Data.PairExample>? data)
    {
        if (data is not null && predictions.Count > data.Count)
            throw new InvalidDataException($"{path} has {predictions.Count} predictions but {dataPath} has {data.Count} examples: the files do not line up.");
        var records = new EvalRecord[predictions.Count];
        for (int i = 0; i < predictions.Count; i++)
        {
            var p = predictions[i];
            string text, reference;
            if (data is not null)
            {
                var e = data[i];
                if (p.Text is not null && p.Text != e.Text)
                    throw new InvalidDataException($"{path}:{p.Line}: its text differs from example {i + 1} of {dataPath}: the files do not line up.");
                if (p.Reference is not null && p.Reference != e.Code)
                    throw new InvalidDataException($"{path}:{p.Line}: its reference differs from example {i + 1} of {dataPath}: the files do not line up.");
                (text, reference) = (e.Text, e.Code);
            }
            else
            {
                text = p.Text ?? throw new InvalidDataException($"{path}:{p.Line}: no \"text\"; give --data with the examples.");
                reference = p.Reference ?? throw new InvalidDataException($"{path}:{p.Line}: no \"reference\"; give --data with the examples.");
            }
            records[i] = new EvalRecord(text, reference, p.Prediction, false, p.Error);
        }
        return records;
    }

    private static string? OptionalString(JsonElement root, string name, string path, int line)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}:{line}: \"{name}\" must be a string.");
        return v.GetString();
    }
}
