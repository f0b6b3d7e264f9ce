using Jepa.Core;
using Jepa.Training;
using Jepa.Training.Autograd;
using Jepa.Training.Data;
using Jepa.Training.Evaluation;
using Jepa.Training.Generation;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;
using Jepa.Training.Training;

namespace Jepa.Tests.Evaluation;

public sealed class NextTokenChoiceTests
{
    private static JepaModel Tiny(int maxLength = 48) =>
        JepaModel.Create(new ModelConfig(0, 16, 2, 2, 1, 24, MaxLength: maxLength), seed: 5, new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = 2 }, predictorTokens: 2);

    private static readonly PairExample[] Questions =
    [
        .. Enumerable.Range(0, 11).Select(i => new PairExample(i % 3 == 0 ? "pick" : null, new string((char)('a' + i % 7), 1 + i % 9), "ABCD"[i % 4].ToString())),
    ];

    /// <summary>Prompts of 1 to 9 tokens ending in different bytes (a chat prompt always ends in the assistant header,
    /// after which a tiny random model tends to pick one letter for all).</summary>
    private static int[][] RawPrompts(JepaModel model) =>
        Questions.Select((e, i) => model.Tokenizer.Encode(e.Text + (char)('m' + i))).ToArray();

    /// <summary>The logits at the prompt's last position from the cached (generation) forward pass, one prompt alone, in float64.</summary>
    private static double[] AloneLogits(LlamaModel model, int[] prompt)
    {
        using var cache = new KvCache(model.Device, model.Config, 1, prompt.Length);
        using var tape = new Tape(model.Ops, recordGradients: false);
        var h = model.ForwardCached(tape, cache, prompt, prompt.Length);
        float[] all = model.Logits(tape, tape.GatherRows(h, [prompt.Length - 1])).Value.ToArray();
        return all.Select(x => (double)x).ToArray();
    }

    [Fact]
    public void TheChoiceIsTheLikeliestLetterOfAPromptAlone()
    {
        using var model = Tiny();
        int[] letters = NextTokenChoice.CandidateIds(model.Tokenizer, AnswerMetrics.Choices);
        Assert.Equal(AnswerMetrics.Choices.Select(c => model.Tokenizer.Encode(c).Single()), letters);
        var prompts = RawPrompts(model);
        int[] chosen = NextTokenChoice.Choose(model.Model, prompts, letters, batchSize: 4);
        var seen = new HashSet<int>();
        for (int i = 0; i < prompts.Length; i++)
        {
            double[] logits = AloneLogits(model.Model, prompts[i]);
            double[] four = letters.Select(id => logits[id]).ToArray();
            int best = Array.IndexOf(four, four.Max());
            // Far from a tie, so the float32 passes of either path cannot disagree.
            Assert.True(four.Where((_, k) => k != best).All(x => four[best] - x > 1e-4), $"prompt {i}: near tie {string.Join(", ", four)}");
            Assert.Equal(best, chosen[i]);
            seen.Add(best);
        }
        Assert.True(seen.Count >= 2, "a random model should not pick the same letter for every prompt");
    }

    [Fact]
    public void BatchedChoicesEqualOneAtATime()
    {
        using var model = Tiny();
        int[] letters = NextTokenChoice.CandidateIds(model.Tokenizer, AnswerMetrics.Choices);
        var prompts = RawPrompts(model);
        Assert.True(prompts.Select(p => p.Length).Distinct().Count() >= 5);
        int[] single = NextTokenChoice.Choose(model.Model, prompts, letters, batchSize: 1);
        var order = new List<int>();
        int[] batched = NextTokenChoice.Choose(model.Model, prompts, letters, batchSize: 4, (i, _) => order.Add(i));
        Assert.Equal(single, batched);
        Assert.True(single.Distinct().Count() >= 2, "every prompt chose the same letter: the test would not see a mix-up");
        Assert.Equal(Enumerable.Range(0, prompts.Length), order);
        Assert.Equal(single, NextTokenChoice.Choose(model.Model, prompts, letters, batchSize: 100));
    }

    [Fact]
    public void ArgMaxTakesTheFirstOfEqualLogits()
    {
        float[] logits = [0f, 3f, 1f, 3f, 2f];
        Assert.Equal(0, NextTokenChoice.ArgMax(logits, [1, 3, 2]));
        Assert.Equal(1, NextTokenChoice.ArgMax(logits, [2, 3, 1]));
        Assert.Equal(2, NextTokenChoice.ArgMax(logits, [0, 2, 4]));
    }

    [Fact]
    public void AChoiceThatIsNotOneTokenIsRefused()
    {
        var tokenizer = new ByteTokenizer(predictorTokens: 0);
        var e = Assert.Throws<ArgumentException>(() => NextTokenChoice.CandidateIds(tokenizer, ["A", "BC"]));
        Assert.Contains("\"BC\" is 2 tokens", e.Message);
    }

    [Fact]
    public void TheEvaluatorWritesTheChosenLetterAndScoresItAsExact()
    {
        using var model = Tiny(maxLength: 24);
        int[] letters = NextTokenChoice.CandidateIds(model.Tokenizer, AnswerMetrics.Choices);
        string fullLength = new('q', 24 - model.Template.Prompt(null, "").Length);
        Assert.Equal(24, model.Template.Prompt(null, fullLength).Length); // as long as the model: one forward pass still fits
        PairExample[] data = [.. Questions, new(null, new string('z', 40), "A"), new(null, fullLength, "B")];
        var seen = new List<EvalRecord>();
        var result = Evaluator.Evaluate(model, data, new AnswerScorer(AnswerMetric.Hellaswag), progress: new Sync(seen), batchSize: 3);
        Assert.Equal(AnswerMetric.Hellaswag, result.Metric);
        Assert.Equal(result.Records, seen);
        int[] chosen = NextTokenChoice.Choose(model.Model, Questions.Select(e => model.Template.Prompt(e.System, e.Text)).ToArray(), letters);
        Assert.Equal(chosen.Select(c => AnswerMetrics.Choices[c]), result.Records.Take(Questions.Length).Select(r => r.Prediction));
        foreach (var r in result.Records.Where(r => r.Error is null)) Assert.Equal(r.Prediction == r.Reference, r.Correct);
        Assert.Contains("maximum length is 24", result.Records[^2].Error);
        Assert.Null(result.Records[^1].Error);
        Assert.Contains(result.Records[^1].Prediction, AnswerMetrics.Choices);
        Assert.Equal(result.Records.Select(r => r.Correct), result.Rescore(AnswerMetric.Exact).Records.Select(r => r.Correct));
    }

    [Fact]
    public void AModelTrainedToAnswerBChoosesB()
    {
        using var model = Tiny();
        PairExample[] data = [.. Enumerable.Range(0, 16).Select(i => new PairExample("pick", new string((char)('a' + i % 5), 2 + i % 4), "B"))];
        Assert.True(Evaluator.Evaluate(model, data, AnswerMetric.Hellaswag).Accuracy < 1, "the untrained model already answers B");
        model.Train(data, new JepaOptions { Lambda = 0, Labels = LabelReach.Answer }, new TrainOptions { Steps = 30, BatchSize = 8, LearningRate = 1e-2, MaxLength = 48 });
        var result = Evaluator.Evaluate(model, data, AnswerMetric.Hellaswag, batchSize: 8);
        Assert.All(result.Records, r => Assert.Equal("B", r.Prediction));
        Assert.Equal(1.0, result.Accuracy);
    }

    private sealed class Sync(List<EvalRecord> seen) : IProgress<EvalRecord>
    {
        public void Report(EvalRecord value) => seen.Add(value);
    }
}
