using System.Text.Json.Nodes;
using Jepa.Core.Safetensors;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Generation;
using Jepa.Training.Lora;
using Jepa.Training.Model;

namespace Jepa.Tests.Model;

/// <summary>What every model family's tests share: writing a tiny Hugging Face folder, running a forward pass, and the
/// checks that do not depend on the family (cached generation against the full forward, a save and load).</summary>
internal static class FamilyChecks
{
    /// <summary>Writes <paramref name="config"/> as config.json and <paramref name="weights"/> as model.safetensors into
    /// <paramref name="directory"/>, as Hugging Face writes a folder.</summary>
    public static void WriteFolder(string directory, JsonObject config, Dictionary<string, (float[] Data, int[] Shape)> weights)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"),
            weights.ToDictionary(kv => kv.Key, kv => new HostTensor(kv.Value.Data, kv.Value.Shape)), new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>The weights as float64 arrays, by name.</summary>
    public static Dictionary<string, double[]> ToDouble(Dictionary<string, (float[] Data, int[] Shape)> w) =>
        w.ToDictionary(kv => kv.Key, kv => Reference.ToDouble(kv.Value.Data));

    /// <summary>The final hidden states and logits of one sequence.</summary>
    public static (float[] Hidden, float[] Logits) Run(CpuFixture f, LlamaModel model, int[] ids)
    {
        using var batch = new SequenceBatch(f.Device, 1, ids.Length, ids, model.Config.VocabSize);
        using var tape = new Tape(f.Ops, recordGradients: false);
        var hidden = model.Forward(tape, batch);
        return (hidden.Value.ToArray(), model.Logits(tape, hidden).Value.ToArray());
    }

    /// <summary><c>jepa forward</c> on the folder <paramref name="directory"/> writes the logits and final hidden states of
    /// <paramref name="ids"/> within 1e-4 of <paramref name="expected"/>, the family's float64 reference.</summary>
    public static void AssertForwardCommandMatches(string directory, int[] ids, (double[] Hidden, double[] Logits) expected)
    {
        string outPath = Path.Combine(directory, "forward.safetensors");
        var r = Jepa.Tests.Cli.CliRunner.Run("forward", "--model", directory, "--ids", string.Join(",", ids), "--out", outPath, "--device", "cpu");
        Assert.True(r.Code == 0, r.ToString());
        using var written = SafetensorsReader.Open(outPath);
        Reference.AssertClose(written.ReadFloat32("logits"), expected.Logits, 1e-4, "jepa forward logits");
        Reference.AssertClose(written.ReadFloat32("hidden"), expected.Hidden, 1e-4, "jepa forward hidden states");
    }

    /// <summary>Greedy generation through the key/value cache picks the full forward's argmax at every step, and the cached
    /// hidden states, one token at a time after the prompt, equal the full forward's.</summary>
    public static void AssertCachedGenerationMatchesTheFullForward(CpuFixture f, LlamaModel model, int[] prompt, int newTokens)
    {
        int vocab = model.Config.VocabSize;
        var gen = Generator.Generate(model, prompt, new GenerateOptions(MaxNewTokens: newTokens), []);
        Assert.Equal(newTokens, gen.Length);
        var seq = prompt.ToList();
        foreach (int token in gen)
        {
            var logits = Run(f, model, [.. seq]).Logits;
            Assert.Equal(Sampler.ArgMax(logits.AsSpan((seq.Count - 1) * vocab, vocab)), token);
            seq.Add(token);
        }
        using var cache = new KvCache(f.Device, model.Config, 1, seq.Count);
        using var tape = new Tape(f.Ops, recordGradients: false);
        var got = new List<float>(model.ForwardCached(tape, cache, prompt, prompt.Length).Value.ToArray());
        for (int i = prompt.Length; i < seq.Count; i++) got.AddRange(model.ForwardCached(tape, cache, [seq[i]], 1).Value.ToArray());
        Reference.AssertClose([.. got], Reference.ToDouble(Run(f, model, [.. seq]).Hidden), 1e-5, "cached hidden states");
    }

    /// <summary>The model saved as a Hugging Face folder holds exactly <paramref name="names"/> and loads back with the same
    /// config and bit-identical logits.</summary>
    public static void AssertSavesAndLoadsBackBitwise(CpuFixture f, LlamaModel model, string directory, IEnumerable<string> names, int[] ids)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), model.Parameters.ToDictionary(p => p.Name, p => p.Value));
        File.WriteAllText(Path.Combine(directory, "config.json"), HfConfig.ToJson(model.Config));
        using (var reader = SafetensorsReader.Open(directory))
            Assert.Equal(names.Order(StringComparer.Ordinal), reader.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        using var back = HfCheckpoint.Load(directory, f.Ops);
        Assert.Equal(model.Config, back.Config);
        Reference.AssertBitwiseEqual(Run(f, back, ids).Logits, Run(f, model, ids).Logits, "logits after a save and load");
    }

    /// <summary>
    /// The gradient of Σ g ⊙ logits (g drawn from <paramref name="gradientSeed"/>) with respect to each weight named in
    /// <paramref name="names"/>, at the elements <paramref name="pick"/> chooses from the analytic gradient, against central
    /// finite differences (h 1e-5) of <paramref name="referenceLogits"/>, the family's float64 forward over
    /// <paramref name="weights"/>; each weight must also have a gradient element above 1e-2.
    /// </summary>
    public static void AssertGradientsMatchFiniteDifferences(CpuFixture f, LlamaModel model, Dictionary<string, double[]> weights, int[] ids,
        ulong gradientSeed, IEnumerable<string> names, Func<float[], IEnumerable<int>> pick,
        Func<IReadOnlyDictionary<string, double[]>, double[]> referenceLogits)
    {
        int vocab = model.Config.VocabSize;
        var seed = Reference.Random(ids.Length * vocab, gradientSeed);
        var dlogits = Reference.ToDouble(seed);
        model.ZeroGrad();
        using (var batch = new SequenceBatch(f.Device, 1, ids.Length, ids, vocab))
        using (var tape = new Tape(f.Ops))
        {
            var logits = model.Logits(tape, model.Forward(tape, batch));
            tape.Backward(logits, seed); // d(Σ g ⊙ logits)
        }
        var byName = model.Parameters.ToDictionary(p => p.Name);
        foreach (string name in names)
        {
            var analytic = byName[name].Grad!.ToArray();
            var keep = weights[name];
            foreach (int i in pick(analytic))
            {
                double Loss(double v)
                {
                    var copy = (double[])keep.Clone();
                    copy[i] = v;
                    weights[name] = copy;
                    return GradCheck.Dot(referenceLogits(weights), dlogits);
                }
                const double h = 1e-5;
                double numeric = (Loss(keep[i] + h) - Loss(keep[i] - h)) / (2 * h);
                weights[name] = keep;
                Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 * Math.Max(Math.Abs(numeric), 1),
                    $"{name}[{i}]: analytic {analytic[i]:G6}, numeric {numeric:G6}");
            }
            Assert.Contains(analytic, g => Math.Abs(g) > 1e-2);
        }
    }

    /// <summary>Three JEPA training steps of <paramref name="model"/> (LoRA already attached or not) on the tiny pairs give
    /// finite losses; <paramref name="norms"/> (the model's norm gains) stay bit-identical under LoRA and move without it.</summary>
    public static void AssertJepaStepsTrain(LlamaModel model, Jepa.Training.Objective.ViewEncoding views, Func<float[]> norms)
    {
        bool lora = model.Lora is not null;
        var before = norms();
        using var t = new Jepa.Training.Training.Trainer(model, Jepa.Tests.Training.TinySetup.Tokenizer,
            new Jepa.Training.Objective.JepaOptions { Views = views }, new Jepa.Training.Training.TrainOptions
            {
                Steps = 3, BatchSize = 4, LearningRate = 1e-2, Seed = 5, MaxLength = 64, MonitorEvery = 2, AdamW = new(ClipNorm: 0),
            });
        var result = t.Train(Jepa.Tests.Training.TinySetup.Pairs(8, 4));
        Assert.Equal(3, result.Steps);
        Assert.True(result.Last is { } last && double.IsFinite(last.LmLoss) && double.IsFinite(last.JepaLoss), "finite losses");
        if (lora) Reference.AssertBitwiseEqual(norms(), before, "norms under LoRA");
        else Assert.NotEqual(before, norms());
    }
}
