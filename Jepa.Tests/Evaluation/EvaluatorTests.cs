using Jepa.Core;
using Jepa.Training;
using Jepa.Training.Data;
using Jepa.Training.Evaluation;
using Jepa.Training.Generation;
using Jepa.Training.Model;

namespace Jepa.Tests.Evaluation;

public sealed class EvaluatorTests
{
    private static JepaModel Tiny() =>
        JepaModel.Create(new ModelConfig(0, 16, 1, 2, 1, 24, MaxLength: 24), seed: 3, new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = 2 }, predictorTokens: 2);

    [Fact]
    public void EvaluatesEveryExampleInOrderAndScoresWithTheMetric()
    {
        using var model = Tiny();
        PairExample[] data = [new(null, "ab", "x"), new("sys", "c", "y"), new(null, new string('z', 40), "w")];
        var seen = new List<EvalRecord>();
        var options = new GenerateOptions(MaxNewTokens: 3);
        var result = Evaluator.Evaluate(model, data, AnswerMetric.Exact, options, new Sync(seen));

        Assert.Equal(3, result.Count);
        Assert.Equal(result.Records, seen);
        Assert.Equal(["ab", "c", new string('z', 40)], result.Records.Select(r => r.Text));
        Assert.Equal(["x", "y", "w"], result.Records.Select(r => r.Reference));
        // The same greedy decoding as JepaModel.Generate; the score is the metric's verdict on it.
        Assert.Equal(model.Generate("c", options, "sys"), result.Records[1].Prediction);
        foreach (var r in result.Records.Take(2)) Assert.Equal(ExactMatch.IsCorrect(r.Prediction, r.Reference), r.Correct);
        // A prompt longer than the model is wrong with its reason, not an exception.
        Assert.False(result.Records[2].Correct);
        Assert.Contains("maximum length is 24", result.Records[2].Error);
    }

    [Fact]
    public void CancellationStopsBetweenExamples()
    {
        using var model = Tiny();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            Evaluator.Evaluate(model, [new PairExample(null, "a", "b")], AnswerMetric.Exact, cancellation: cts.Token));
    }

    private sealed class Sync(List<EvalRecord> list) : IProgress<EvalRecord>
    {
        public void Report(EvalRecord value) => list.Add(value);
    }
}
