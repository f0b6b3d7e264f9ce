using System.Text.Json.Nodes;
using Jepa.Core;
using Jepa.Tests.Support;
using Jepa.Training;
using Jepa.Training.Generation;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;
using Jepa.Training.Training;

namespace Jepa.Tests.Training;

/// <summary>
/// A JepaModel with a real-model-style tokenizer (Llama-3 pre-tokenizer, added tokens, predictor tokens past the
/// tokenizer's ids) and the llama3 chat format: trains, checkpoints, saves and loads back with both.
/// </summary>
public sealed class TokenizerModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-tokmodel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Bytes, "ab" 256 (merge a b), Llama 3's special tokens at 257–261, Llama 3's regex, ignore_merges; no predictor tokens.</summary>
    internal static BpeTokenizer LlamaStyleBase()
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevel.Char((byte)b).ToString(), b => b);
        vocab["ab"] = 256;
        string[] specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];
        var pre = PreTokenizer.FromJson(new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+" }, ["behavior"] = "Isolated" },
                PreTokenizer.ByteLevelJson(useRegex: false)),
        }, "llama-style");
        return new BpeTokenizer(vocab, [("a", "b")], specials.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => 257 + p.i), pre, ignoreMerges: true);
    }

    [Fact]
    public void Llama3FormatModelTrainsSavesAndLoadsWithItsTokenizer()
    {
        var cpu = new DeviceOptions { Kind = DeviceKind.Cpu, CpuChunks = 2 };
        var tok = LlamaStyleBase().WithPredictors(2, firstId: 270);
        Assert.Equal(272, tok.VocabSize);
        using var model = JepaModel.Create(TinySetup.Config(), seed: 3, cpu, tokenizer: tok, format: ChatFormat.Llama3);
        Assert.Equal(272, model.Model.Config.VocabSize);
        Assert.Equal(ChatFormat.Llama3, model.Format);
        Assert.Equal([261, 258], model.Template.StopIds);
        var r = model.Train(TinySetup.Pairs(8, 5), new JepaOptions { Predictors = 2 }, new TrainOptions { Steps = 2, BatchSize = 4, MaxLength = 64 }, Path.Combine(_dir, "run"));
        Assert.True(double.IsFinite(r.Last!.LmLoss));
        Assert.Equal("BpeTokenizer:272", RunDirectory.ReadState(r.Checkpoint!).Tokenizer);
        var e = model.Embed("abc", predictors: 2);
        string answer = model.Generate("abc", new GenerateOptions(MaxNewTokens: 4));

        string saved = Path.Combine(_dir, "saved");
        model.Save(saved);
        Assert.True(File.Exists(Path.Combine(saved, TokenizerFiles.BpeFile)));
        foreach (string dir in new[] { saved, r.Checkpoint! })
        {
            using var back = JepaModel.Load(dir, cpu);
            var bt = Assert.IsType<BpeTokenizer>(back.Tokenizer);
            Assert.Equal([270, 271], bt.Special.Predictors);
            Assert.Equal(tok.AddedTokens.OrderBy(kv => kv.Value), bt.AddedTokens.OrderBy(kv => kv.Value));
            Assert.Equal(tok.Encode("abc 123 ab\n\nx"), bt.Encode("abc 123 ab\n\nx"));
            Assert.Equal(ChatFormat.Llama3, back.Format);
            Assert.Equal(answer, back.Generate("abc", new GenerateOptions(MaxNewTokens: 4)));
            if (dir == saved) Reference.AssertBitwiseEqual(back.Embed("abc", predictors: 2), e, "embedding after save/load");
        }

        // a checkpoint that recorded a BPE tokenizer but lost its file is a clear error
        File.Delete(Path.Combine(r.Checkpoint!, TokenizerFiles.BpeFile));
        var err = Assert.Throws<InvalidDataException>(() => JepaModel.Load(r.Checkpoint!, cpu));
        Assert.Contains("BpeTokenizer:272", err.Message);
        Assert.Contains("tokenizer.json", err.Message);
    }

    [Fact]
    public void OldByteCheckpointWithoutTokenizerFilesStillLoads()
    {
        var cpu = new DeviceOptions { Kind = DeviceKind.Cpu };
        using var model = JepaModel.Create(TinySetup.Config(), seed: 3, cpu, predictorTokens: 4);
        var r = model.Train(TinySetup.Pairs(4, 5), new JepaOptions(), new TrainOptions { Steps = 1, BatchSize = 4, MaxLength = 64 }, Path.Combine(_dir, "old"));
        File.Delete(Path.Combine(r.Checkpoint!, TokenizerFiles.ByteFile));
        File.Delete(Path.Combine(r.Checkpoint!, TokenizerFiles.FormatFile));
        using var back = JepaModel.Load(r.Checkpoint!, cpu);
        Assert.Equal(4, Assert.IsType<ByteTokenizer>(back.Tokenizer).Special.Predictors.Count);
        Assert.Equal(ChatFormat.Jepa, back.Format);
    }
}
