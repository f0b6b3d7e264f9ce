using Jepa.Core;
using Jepa.Kernels;
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

    /// <summary>A tiny model with a short maximum length (24), so that some prompts meet it while decoding.</summary>
    private static LlamaModel Short(KernelLibrary ops) =>
        TinySetup.Model(ops, 11, TinySetup.Config(d: 16, layers: 2, heads: 4, kv: 2, ffn: 24) with { MaxLength = 24 });

    /// <summary>Random prompts of mixed lengths, many lengths shared by several prompts (one by eight), up to 23 tokens.</summary>
    private static int[][] MixedPrompts(int vocab)
    {
        int[] lengths = [5, 1, 8, 3, 8, 8, 2, 13, 8, 3, 23, 8, 5, 21, 8, 1, 17, 8, 3, 20, 22, 12, 12];
        return lengths.Select((n, i) => Enumerable.Range(0, n).Select(j => Jepa.Core.Philox.NextInt(21, 1, (ulong)(i * 32 + j), vocab)).ToArray()).ToArray();
    }

    /// <summary>Each prompt's tokens decoded in batches of <paramref name="batch"/>, checked against the callback's.</summary>
    private static int[][] Batched(LlamaModel model, int[][] prompts, GenerateOptions options, int[] stops, int batch)
    {
        var seen = new Dictionary<int, int[]>();
        var got = Generator.GenerateBatch(model, prompts, options, stops, batch, (i, tokens) => seen.Add(i, tokens));
        Assert.Equal(prompts.Length, got.Length);
        Assert.Equal(Enumerable.Range(0, prompts.Length), seen.Keys.Order());
        Assert.All(seen, p => Assert.Same(got[p.Key], p.Value));
        return got;
    }

    private static void AssertSameRows(int[][] expected, int[][] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i].SequenceEqual(actual[i]), $"{what}, prompt {i}: [{string.Join(", ", expected[i])}] alone, [{string.Join(", ", actual[i])}] batched");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CachedForwardOfSeveralSequencesIsBitwiseEachOneAlone(bool kernels)
    {
        // What batched decoding rests on: rows of one cached forward do not affect each other, copied cache rows
        // carry on like the originals, and a forward of the cache's first rows leaves the others alone.
        var ops = kernels ? f.Kernels : f.Ops;
        using var model = Short(ops);
        int n = 7, c = model.Config.DModel;
        var prompts = MixedPrompts(model.Config.VocabSize).Where(p => p.Length == 8).Take(3).Select(p => p[..n]).ToArray();
        var alone = new List<float[]>[3];
        for (int j = 0; j < 3; j++)
        {
            using var one = new KvCache(f.Device, model.Config, 1, n + 2);
            alone[j] = [Hidden(ops, model, one, prompts[j], n), Hidden(ops, model, one, [j + 40], 1), Hidden(ops, model, one, [j + 50], 1)];
        }
        using var prefill = new KvCache(f.Device, model.Config, 3, n);
        var together = Hidden(ops, model, prefill, [.. prompts.SelectMany(p => p)], n);
        for (int j = 0; j < 3; j++) Reference.AssertBitwiseEqual(alone[j][0], together[(j * n * c)..((j + 1) * n * c)], $"prefill row {j}");
        using (var split = new KvCache(f.Device, model.Config, 1, n))
        {
            Hidden(ops, model, split, prompts[0][..3], 3);
            Reference.AssertBitwiseEqual(alone[0][0][(3 * c)..], Hidden(ops, model, split, prompts[0][3..], n - 3), "prefill in two passes");
        }

        using var cache = new KvCache(f.Device, model.Config, 4, n + 2);
        Hidden(ops, model, cache, new int[4 * n], n); // fills n positions of every row with something else
        int[] slot = [2, 0, 1]; // prompt j goes to row slot[j]; row 3 keeps the other tokens
        for (int j = 0; j < 3; j++) cache.CopyRow(prefill, j, slot[j], n);
        var step = Hidden(ops, model, cache, [41, 42, 40], 1);
        for (int j = 0; j < 3; j++) Reference.AssertBitwiseEqual(alone[j][1], step[(slot[j] * c)..((slot[j] + 1) * c)], $"first step, prompt {j}");
        cache.CopyRow(cache, 2, 1, n + 1); // prompt 0 moves from row 2 to row 1 (prompt 2 is done); prompt 1 stays in row 0
        var second = Hidden(ops, model, cache, [51, 50], 1); // only the first two rows
        Reference.AssertBitwiseEqual(alone[1][2], second[..c], "second step, prompt 1");
        Reference.AssertBitwiseEqual(alone[0][2], second[c..], "second step, prompt 0 in its new row");
        Assert.Throws<ArgumentException>(() => Hidden(ops, model, cache, [1, 2, 3, 4, 5], 1)); // more rows than the cache holds
    }

    private static float[] Hidden(KernelLibrary ops, LlamaModel model, KvCache cache, int[] tokens, int tq)
    {
        using var tape = new Tape(ops, recordGradients: false);
        return model.ForwardCached(tape, cache, tokens, tq).Value.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchedGreedyDecodingEqualsDecodingEachPromptAlone(bool sharedPrefix)
    {
        using var model = Short(f.Ops);
        var prompts = MixedPrompts(model.Config.VocabSize);
        if (sharedPrefix) prompts = [.. prompts.Select(p => ((int[])[7, 99, 250, 3, .. p])[..Math.Min(p.Length + 4, 23)])]; // prefilled once for all
        var options = new GenerateOptions(MaxNewTokens: 6);
        int[] stops = [Generator.Generate(model, prompts[0], options with { MaxNewTokens = 1 }, [])[0]]; // prompt 0 stops at once
        var alone = prompts.Select(p => Generator.Generate(model, p, options, stops)).ToArray();

        // Every way a row ends is here: at once, by a stop token later, at the token limit, at the model's length.
        Assert.Empty(alone[0]);
        Assert.Contains(alone, a => a.Length == options.MaxNewTokens);
        Assert.Contains(prompts.Zip(alone), x => x.Second.Length is > 0 and < 6 && x.First.Length + x.Second.Length <= 24);
        Assert.Contains(prompts.Zip(alone), x => x.Second.Length < 6 && x.First.Length + x.Second.Length == 24 + 1);
        // The rows differ, so rows mixed up would show.
        Assert.True(alone.Select(a => string.Join(",", a)).Distinct().Count() >= prompts.Length * 2 / 3, "too few distinct answers");

        foreach (int batch in (int[])[1, 3, 5, 32])
            AssertSameRows(alone, Batched(model, prompts, options, stops, batch), $"batch {batch}");
    }

    [Fact]
    public void BatchedSamplingEqualsSamplingEachPromptAlone()
    {
        using var model = Short(f.Ops);
        var prompts = MixedPrompts(model.Config.VocabSize);
        var options = new GenerateOptions(MaxNewTokens: 5, Temperature: 1.5f, TopP: 0.9f, Seed: 4);
        var alone = prompts.Select(p => Generator.Generate(model, p, options, [])).ToArray();
        var greedy = prompts[..6].Select(p => Generator.Generate(model, p, options with { Temperature = 0f }, [])).ToArray();
        Assert.Contains(alone.Zip(greedy), x => !x.First.SequenceEqual(x.Second)); // it does sample
        AssertSameRows(alone, Batched(model, prompts, options, [], 4), "sampled, batch 4");
    }

    [Fact]
    public void BatchedDecodingChecksItsPrompts()
    {
        using var model = Short(f.Ops);
        var options = new GenerateOptions(MaxNewTokens: 2);
        Assert.Empty(Generator.GenerateBatch(model, [], options, []));
        Assert.Contains("Prompt 1 is empty", Assert.Throws<ArgumentException>(() => Generator.GenerateBatch(model, [[1], []], options, [])).Message);
        Assert.Contains("Prompt 0 has 24 tokens", Assert.Throws<ArgumentException>(() => Generator.GenerateBatch(model, [new int[24]], options, [])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Generator.GenerateBatch(model, [[1]], options, [], batchSize: 0));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => Generator.GenerateBatch(model, [[1]], options, [], cancellation: cts.Token));
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
        Assert.Single(new RunDirectory(run).Checkpoints());
    }
    [Fact]
    public void NonFiniteLogitsAreAnErrorNotAToken()
    {
        var logits = Reference.Random(12, 41);
        Assert.Equal(Array.IndexOf(logits, logits.Max()), Sampler.Next(logits, new GenerateOptions(), 0));
        logits[5] = float.NaN;
        var e = Assert.Throws<InvalidDataException>(() => Sampler.Next(logits, new GenerateOptions(), 3));
        Assert.Contains("token 5", e.Message);
        Assert.Contains("step 3", e.Message);
        Assert.Throws<InvalidDataException>(() => Sampler.Next(logits, new GenerateOptions { Temperature = 0.7f }, 3));
    }
}
