using System.Text.Json.Nodes;
using Jepa.Core.Safetensors;
using Jepa.Tests.Support;
using Jepa.Training.Autograd;
using Jepa.Training.Generation;
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
}
