using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Kernels;

namespace Jepa.Training.Model;

/// <summary>
/// Opens a Hugging Face model folder of a Llama-family model: <c>config.json</c> and <c>model.safetensors</c> or
/// shards listed in <c>model.safetensors.index.json</c> (F32, BF16 or F16 weights, read as float32). Optionally grows
/// the vocabulary by new token rows (the JEPA predictor tokens) initialised from the existing rows.
/// </summary>
public static class HfCheckpoint
{
    /// <summary>The model's configuration in a Hugging Face model folder.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>Tensors a checkpoint may hold that the model does not use: buffers older exports saved, and the classifier an
    /// untied OpenELM model builds beside its <c>lm_head</c> and never calls.</summary>
    private static bool Ignorable(string name) =>
        name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || name == "transformer.classifier.weight";

    /// <summary>Reads the model shape from <c>config.json</c> in <paramref name="directory"/>.</summary>
    /// <exception cref="InvalidDataException">The file is missing, malformed or describes an unsupported model; the message says which.</exception>
    public static ModelConfig ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) throw new InvalidDataException($"'{directory}' is not a Hugging Face model folder: {path} is missing.");
        return HfConfig.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Loads the model in <paramref name="directory"/> onto <paramref name="ops"/>' device. With
    /// <paramref name="addedTokens"/> &gt; 0 the vocabulary grows to <c>vocab_size + addedTokens</c>: each new row of the
    /// embedding (and of an untied LM head) is the mean of the existing rows plus normal noise of a tenth of their
    /// per-element spread, drawn from Philox stream <c>row</c> of <paramref name="seed"/>, so the new tokens start
    /// distinct, typical and small in logit. With <paramref name="trainable"/> false no gradient buffers are made.
    /// </summary>
    /// <exception cref="InvalidDataException">A file or tensor is missing, misshapen, or a tensor the model would not use is
    /// present (a variant this loader does not run); the message names it.</exception>
    public static LlamaModel Load(string directory, KernelLibrary ops, int addedTokens = 0, ulong seed = 0, bool trainable = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(addedTokens);
        var config = ReadConfig(directory);
        int baseVocab = config.VocabSize;
        config = config with { VocabSize = baseVocab + addedTokens };
        using var weights = SafetensorsReader.Open(directory);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var model = LlamaModel.FromTensors(config, ops, (name, shape) =>
        {
            if (!weights.Contains(name)) return null;
            used.Add(name);
            bool vocabRows = name is "model.embed_tokens.weight" or "transformer.token_embeddings.weight" or "lm_head.weight";
            return vocabRows && addedTokens > 0 ? Grown(weights, name, baseVocab, shape, seed, ops.Device) : weights.ReadTensor(name, ops.Device);
        }, trainable);
        var unused = weights.Tensors.Select(t => t.Name)
            .Where(n => !used.Contains(n) && !Ignorable(n) && !(config.TieEmbeddings && n == "lm_head.weight")).ToList();
        if (unused.Count > 0)
        {
            model.Dispose();
            throw new InvalidDataException($"{weights.Source}: tensor '{unused[0]}'{(unused.Count > 1 ? $" (and {unused.Count - 1} more)" : "")} is not part of a " +
                "Llama-family model as config.json describes it; this architecture variant is not supported.");
        }
        return model;
    }

    private static Tensor Grown(SafetensorsReader weights, string name, int baseVocab, int[] shape, ulong seed, Device device)
    {
        var info = weights.Info(name);
        int c = shape[1];
        if (info.Shape.Count != 2 || info.Shape[0] != baseVocab || info.Shape[1] != c)
            throw new InvalidDataException($"{weights.Source}: tensor '{name}' has shape {info.ShapeString}, expected [{baseVocab}, {c}].");
        var host = new float[(long)shape[0] * c];
        weights.ReadFloat32(name, host.AsSpan(0, checked(baseVocab * c)));
        var mean = new double[c];
        var sq = new double[c];
        for (int r = 0; r < baseVocab; r++)
            for (int j = 0; j < c; j++)
            {
                double v = host[(long)r * c + j];
                mean[j] += v;
                sq[j] += v * v;
            }
        double spread = 0;
        for (int j = 0; j < c; j++)
        {
            mean[j] /= baseVocab;
            spread += Math.Max(sq[j] / baseVocab - mean[j] * mean[j], 0);
        }
        float std = (float)(0.1 * Math.Sqrt(spread / c));
        var noise = new float[c];
        for (int r = baseVocab; r < shape[0]; r++)
        {
            Philox.FillNormal(noise, seed, (ulong)r, 0f, std);
            for (int j = 0; j < c; j++) host[(long)r * c + j] = (float)mean[j] + noise[j];
        }
        return Tensor.FromArray(device, host, shape);
    }
}
