using Jepa.Kernels;
using Jepa.Training.Data;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;

namespace Jepa.Tests.Training;

/// <summary>A tiny model and a toy paired task (a lower-case word ↔ its upper-case reverse) for trainer tests.</summary>
internal static class TinySetup
{
    public static readonly ByteTokenizer Tokenizer = new(predictorTokens: 4);

    public static ModelConfig Config(int d = 16, int layers = 1, int heads = 2, int kv = 1, int ffn = 32) =>
        new(Tokenizer.VocabSize, d, layers, heads, kv, ffn, MaxLength: 64);

    public static LlamaModel Model(KernelLibrary ops, ulong seed = 7, ModelConfig? config = null) =>
        LlamaModel.Create(config ?? Config(), ops, seed);

    public static PairExample[] Pairs(int count, ulong seed)
    {
        var list = new PairExample[count];
        for (int i = 0; i < count; i++)
        {
            int len = 2 + Jepa.Core.Philox.NextInt(seed, 1, (ulong)i, 4);
            var chars = new char[len];
            for (int j = 0; j < len; j++) chars[j] = (char)('a' + Jepa.Core.Philox.NextInt(seed, 2, (ulong)(i * 16 + j), 6));
            string text = new(chars);
            list[i] = new PairExample(null, text, new string(text.ToUpperInvariant().Reverse().ToArray()));
        }
        return list;
    }

    public static PairBatch Batch(KernelLibrary ops, PairExample[] pairs, JepaOptions options, int maxLength = 64)
    {
        var tpl = new ChatTemplate(Tokenizer);
        return PairBatch.Build(ops.Device, pairs.Select(p => tpl.Encode(p, maxLength)).ToList(), Tokenizer.Special, Tokenizer.VocabSize, options, options.UsesJepa);
    }
}
