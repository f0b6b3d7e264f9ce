using Jepa.Core;
using Jepa.Tests.Support;
using Jepa.Training;
using Jepa.Training.Autograd;
using Jepa.Training.Generation;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Training;

namespace Jepa.Tests.Training;

public sealed class GenerationTests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-gen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private float[] Full(LlamaModel model, int[] ids)
    {
        using var b = new SequenceBatch(f.Device, 1, ids.Length, ids, model.Config.VocabSize);
        using var tape = new Tape(f.Ops, recordGradients: false);
        return model.Forward(tape, b).Value.ToArray();
    }

    [Fact]
    public void CachedDecodingReproducesTheFullForward()
    {
        using var model = TinySetup.Model(f.Ops, 5, TinySetup.Config(d: 16, layers: 2, heads: 4, kv: 2, ffn: 24));
        int[] ids = [1, 40, 99, 7, 256, 3, 120, 61, 8];
        var full = Full(model, ids);
        int c = model.Config.DModel;
        using var cache = new KvCache(f.Device, model.Config, 1, 16);
        var got = new List<float>();
        using (var tape = new Tape(f.Ops, recordGradients: false))
            got.AddRange(model.ForwardCached(tape, cache, ids[..4], 4).Value.ToArray()); // prefill 4
        for (int i = 4; i < ids.Length; i++)
        {
            using var tape = new Tape(f.Ops, recordGradients: false);
            got.AddRange(model.ForwardCached(tape, cache, [ids[i]], 1).Value.ToArray()); // then one at a time
        }
        Assert.Equal(ids.Length, cache.Length);
        Reference.AssertClose(got.ToArray(), Reference.ToDouble(full), 1e-5, "cached hidden states");
        Assert.Equal(full.Length, ids.Length * c);
    }

    [Fact]
    public void GreedyGenerationEqualsArgmaxOfTheFullForwardAtEveryStep()
    {
        using var model = TinySetup.Model(f.Ops, 6);
        int[] prompt = [1, 260, 97, 98, 262, 261];
        var gen = Generator.Generate(model, prompt, new GenerateOptions(MaxNewTokens: 6), []);
        Assert.Equal(6, gen.Length);
        var seq = prompt.ToList();
        foreach (int token in gen)
        {
            using var b = new SequenceBatch(f.Device, 1, seq.Count, seq.ToArray(), model.Config.VocabSize);
            using var tape = new Tape(f.Ops, recordGradients: false);
            var logits = model.Logits(tape, model.Forward(tape, b)).Value.ToArray();
            int v = model.Config.VocabSize;
            Assert.Equal(Sampler.ArgMax(logits.AsSpan((seq.Count - 1) * v, v)), token);
            seq.Add(token);
        }
    }

    [Fact]
    public void SamplingIsSeededAndTopPNarrowsToTheMostLikely()
    {
        var logits = new float[] { 0.1f, 2.0f, 1.9f, -1f, 0.5f };
        var hot = new GenerateOptions(Temperature: 1f, Seed: 9);
        var draws = Enumerable.Range(0, 200).Select(i => Sampler.Next(logits, hot, i)).ToArray();
        Assert.Equal(draws, Enumerable.Range(0, 200).Select(i => Sampler.Next(logits, hot, i)).ToArray());
        Assert.True(draws.Distinct().Count() >= 4);
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(1, Sampler.Next(logits, hot with { TopP = 0.01f }, i)));
        Assert.Throws<ArgumentException>(() => new GenerateOptions(TopP: 0f).Validate());
    }

    [Fact]
    public void LibraryApiTrainsEmbedsGeneratesSavesAndLoads()
    {
        var config = TinySetup.Config(d: 16, layers: 1, heads: 2, kv: 1, ffn: 32);
        using var model = JepaModel.Create(config, seed: 3, new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = 2 }, predictorTokens: 4);
        var data = TinySetup.Pairs(12, 31);
        var r = model.Train(data, new JepaOptions { Predictors = 2 }, new TrainOptions { Steps = 3, BatchSize = 4, MaxLength = 64 }, Path.Combine(_dir, "run"));
        Assert.Equal(3, r.Steps);
        Assert.NotNull(r.Checkpoint);

        // Embed is Pred(Enc(text)): the objective's predicted embedding for the same text
        var e = model.Embed("abc", predictors: 2);
        Assert.Equal(config.DModel, e.Length);
        var o = new JepaOptions { Predictors = 2 };
        using (var batch = PairBatch.Build(model.Device, [model.Template.Encode(new Jepa.Training.Data.PairExample(null, "abc", "CBA"), 64)],
                   model.Tokenizer.Special, model.Tokenizer.VocabSize, o, true))
        using (var tape = new Tape(model.Ops, recordGradients: false))
        {
            var (_, parts) = new JepaObjective(model.Model, o).Forward(tape, batch, false);
            Reference.AssertClose(e, Reference.ToDouble(parts.Predicted!.Value.ToArray()), 1e-5, "embedding");
        }
        string answer = model.Generate("abc", new GenerateOptions(MaxNewTokens: 5));
        Assert.True(answer.Length <= 5 * 4);

        string saved = Path.Combine(_dir, "saved");
        model.Save(saved);
        using (var back = JepaModel.Load(saved, new DeviceOptions { Kind = DeviceKind.Cpu }))
        {
            Reference.AssertBitwiseEqual(back.Embed("abc", predictors: 2), e, "embedding after save/load");
            Assert.Equal(answer, back.Generate("abc", new GenerateOptions(MaxNewTokens: 5)));
        }
        using (var ckpt = JepaModel.Load(r.Checkpoint!, new DeviceOptions { Kind = DeviceKind.Cpu }))
            Reference.AssertBitwiseEqual(ckpt.Embed("abc", predictors: 2), e, "embedding from the checkpoint");
    }

    [Fact]
    public void CancelledTrainingSavesACheckpointAndReturns()
    {
        using var model = JepaModel.Create(TinySetup.Config(), seed: 1, new DeviceOptions { Kind = DeviceKind.Cpu }, predictorTokens: 4);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        string run = Path.Combine(_dir, "cancel");
        var r = model.Train(TinySetup.Pairs(8, 1), new JepaOptions(), new TrainOptions { Steps = 50, BatchSize = 4, MaxLength = 64 }, run, cancellation: cts.Token);
        Assert.True(r.Cancelled);
        Assert.Equal(0, r.Steps);
        Assert.Single(Trainer.ListCheckpoints(run));
    }
}
