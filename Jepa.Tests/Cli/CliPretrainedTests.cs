using System.Security.Cryptography;
using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Kernels;
using Jepa.Training;
using Jepa.Training.Autograd;
using Jepa.RegexTask;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Tokenization;

namespace Jepa.Tests.Cli;

/// <summary>
/// Fine-tuning a Hugging Face model folder end to end: <c>jepa train --model HF</c> with LoRA (adapter folder, base untouched,
/// resume), <c>generate --adapter</c>, <c>jepa export</c> (merged logits equal the adapted model's), and full fine-tuning.
/// </summary>
public sealed class CliPretrainedTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-hf-").FullName;
    private static readonly DeviceOptions Cpu = new() { Kind = DeviceKind.Cpu };

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(string name) => Path.Combine(_root, name);

    /// <summary>A Qwen2-style folder (q/k/v biases, tied embeddings, vocab_size past the tokenizer's ids), BF16 weights,
    /// a Llama-3-style tokenizer.json and a tokenizer_config.json whose chat template is Llama 3's.</summary>
    private string WriteHfFolder(ModelConfig? family = null)
    {
        string dir = P("hf");
        Directory.CreateDirectory(dir);
        var config = family ?? new ModelConfig(272, 16, 2, 2, 1, 32, MaxLength: 128, TieEmbeddings: true, QkvBias: true);
        using (var device = Device.Cpu())
        {
            var ops = new KernelLibrary(device);
            using var model = LlamaModel.Create(config, ops, 11);
            ulong s = 1;
            // biases and norm gains off their initial values, so that dropping one in a later step would show
            foreach (var p in model.Parameters.Where(p => p.Name.EndsWith(".bias", StringComparison.Ordinal) || p.Name.EndsWith("norm.weight", StringComparison.Ordinal)))
                p.Value.CopyFrom(Jepa.Tests.Support.Reference.Random(checked((int)p.Value.Length), s++, -0.1f, 0.1f)
                    .Select(v => p.Name.EndsWith(".bias", StringComparison.Ordinal) || config.Gemma2 ? v : 1 + v).ToArray());
            SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), model.Parameters.ToDictionary(p => p.Name, p => p.Value),
                dtype: SafetensorsDType.BF16);
        }
        File.WriteAllText(Path.Combine(dir, "config.json"), HfConfig.ToJson(config));
        Jepa.Tests.Training.TokenizerModelTests.LlamaStyleBase().Save(Path.Combine(dir, "tokenizer.json"));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """
            {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
             "chat_template": "{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' + m['content'] + '<|eot_id|>' }}{% endfor %}"}
            """);
        RegexPairGenerator.WriteJsonl(P("pairs.jsonl"), 16, seed: 3);
        return dir;
    }

    private static string Hash(string dir) =>
        Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, "model.safetensors"))));

    private static float[] Logits(JepaModel m, int[] ids)
    {
        using var batch = new SequenceBatch(m.Device, 1, ids.Length, ids, m.Model.Config.VocabSize);
        using var tape = new Tape(m.Ops, recordGradients: false);
        return m.Model.Logits(tape, m.Model.Forward(tape, batch)).Value.ToArray();
    }

    private string[] Common(string outDir, string steps) =>
        ["--data", P("pairs.jsonl"), "--out", outDir, "--steps", steps, "--batch", "4", "--lr", "0.01", "--max-length", "128",
         "--device", "cpu", "--max-new-tokens", "3", "--eval-count", "1"];

    [Fact]
    public void LoraFineTuningOfAHuggingFaceFolderSavesAnAdapterResumesAndExports()
    {
        string hf = WriteHfFolder();
        string before = Hash(hf);
        var r = CliRunner.Run(["train", "--model", hf, "--lora-rank", "4", "--lora-targets", "all", "--lora-dropout", "0.1", "--checkpoint-every", "1",
            .. Common(P("run"), "2")]);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("chat format llama3", r.Err);
        string adapter = Path.Combine(P("run"), "adapter");
        foreach (string f in (string[])[PeftConfig.FileName, PeftConfig.WeightsFileName, JepaModel.AddedRowsFile, "tokenizer.json"])
            Assert.True(File.Exists(Path.Combine(adapter, f)), f);
        Assert.False(Directory.Exists(Path.Combine(P("run"), "model")));
        Assert.Equal(before, Hash(hf));
        using (var peft = SafetensorsReader.Open(Path.Combine(adapter, PeftConfig.WeightsFileName)))
        {
            Assert.Equal(2 * 7 * 2, peft.Tensors.Count);
            Assert.Equal([4, 32], peft.Info("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").Shape);
            Assert.Equal([16, 4], peft.Info("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").Shape);
        }

        var resume = CliRunner.Run("train", "--resume", P("run"), "--steps", "3", "--eval-count", "0");
        Assert.True(resume.Code == 0, resume.ToString());
        Assert.True(File.Exists(Path.Combine(P("run"), "checkpoints", "ckpt-0000003", PeftConfig.FileName)));

        var gen = CliRunner.Run("generate", "--model", hf, "--adapter", adapter, "--prompt", "lines with a vowel", "--max-new-tokens", "3", "--device", "cpu");
        Assert.True(gen.Code == 0, gen.ToString());
        var export = CliRunner.Run("export", "--model", hf, "--adapter", adapter, "--out", P("merged"), "--device", "cpu");
        Assert.True(export.Code == 0, export.ToString());

        using var adapted = JepaModel.LoadPretrained(hf, Cpu, seed: 99); // a different seed: the added rows come from the adapter folder
        adapted.LoadLora(adapter);
        using var merged = JepaModel.Load(P("merged"), Cpu);
        Assert.Equal(280, merged.Model.Config.VocabSize);
        Assert.True(merged.Model.Config.QkvBias);
        Assert.Equal(adapted.Tokenizer.Special.Predictors, merged.Tokenizer.Special.Predictors);
        int[] ids = [.. adapted.Template.Prompt(null, "lines with a vowel"), .. adapted.Tokenizer.Special.Predictors.Take(2)];
        float[] a = Logits(adapted, ids), m = Logits(merged, ids);
        Jepa.Tests.Support.Reference.AssertClose(m, Jepa.Tests.Support.Reference.ToDouble(a), 1e-5, "merged vs adapted logits");
        Assert.Equal(adapted.Embed("lines with a vowel"), adapted.Embed("lines with a vowel"));
    }

    /// <summary>The other families' folders (Qwen3's per-head q/k norms, OLMo-2's post-norm block, Gemma-2's whole block with
    /// soft caps and a window shorter than the sequences, OpenELM's fused projections and per-layer widths), each fine-tuned with LoRA and with [PRED] tokens through the CLI,
    /// exported, and fully fine-tuned into a folder of the same family.</summary>
    [Theory]
    [InlineData("qwen3")]
    [InlineData("olmo2")]
    [InlineData("gemma2")]
    [InlineData("openelm")]
    public void EveryFamilyFineTunesWithLoraAndFullyAndExportsThroughTheCli(string family)
    {
        var c = new ModelConfig(272, 16, 2, 2, 1, 32, MaxLength: 128, TieEmbeddings: true);
        c = family switch
        {
            "qwen3" => c with { QkNorm = true, HeadSize = 6 },
            "olmo2" => c with { QkNorm = true, QkNormAcrossHeads = true, PostNorm = true, TieEmbeddings = false },
            // 3 layers of 2, 4, 4 query heads and gated widths 8, 16, 32
            "openelm" => c with { Layers = 3, Heads = 4, KvHeads = 2, HeadSize = 4, NormEps = 1e-6, QkNorm = true, OpenElm = true, LayerScaling = new([0.5, 1.0], [0.5, 1.0, 2.0], 2, 8) },
            _ => c with { Gemma2 = true, HeadSize = 10, QueryPreAttnScalar = 12, AttnSoftCap = 8, FinalSoftCap = 10, SlidingWindow = 5 },
        };
        string hf = WriteHfFolder(c);
        var r = CliRunner.Run(["train", "--model", hf, "--lora-rank", "4", "--lora-targets", "all", "--predictors", "2", .. Common(P("run"), "2")]);
        Assert.True(r.Code == 0, r.ToString());
        string adapter = Path.Combine(P("run"), "adapter");
        var export = CliRunner.Run("export", "--model", hf, "--adapter", adapter, "--out", P("merged"), "--device", "cpu");
        Assert.True(export.Code == 0, export.ToString());
        Assert.Contains($"\"model_type\": \"{family}\"", File.ReadAllText(Path.Combine(P("merged"), "config.json")));
        using (var adapted = JepaModel.LoadPretrained(hf, Cpu, seed: 99))
        {
            adapted.LoadLora(adapter);
            using var merged = JepaModel.Load(P("merged"), Cpu);
            Assert.Equal(adapted.Model.Config with { VocabSize = 280 }, merged.Model.Config);
            int[] ids = [.. adapted.Template.Prompt(null, "lines with a vowel and a digit"), .. adapted.Tokenizer.Special.Predictors.Take(2)];
            Jepa.Tests.Support.Reference.AssertClose(Logits(merged, ids), Jepa.Tests.Support.Reference.ToDouble(Logits(adapted, ids)), 1e-5, $"{family}: merged vs adapted logits");
        }
        var gen = CliRunner.Run("generate", "--model", P("merged"), "--prompt", "lines with a vowel", "--max-new-tokens", "8", "--device", "cpu");
        Assert.True(gen.Code == 0, gen.ToString());

        var full = CliRunner.Run(["train", "--model", hf, .. Common(P("full"), "1")]);
        Assert.True(full.Code == 0, full.ToString());
        using var trained = JepaModel.Load(Path.Combine(P("full"), "model"), Cpu);
        Assert.Equal(c with { VocabSize = 280 }, trained.Model.Config);
    }

    [Fact]
    public void FullFineTuningGrowsTheVocabularyAndSavesAHuggingFaceFolder()
    {
        string hf = WriteHfFolder();
        var r = CliRunner.Run(["train", "--model", hf, .. Common(P("run"), "1")]);
        Assert.True(r.Code == 0, r.ToString());
        using var model = JepaModel.Load(Path.Combine(P("run"), "model"), Cpu);
        Assert.Equal(280, model.Model.Config.VocabSize);
        Assert.Equal(Enumerable.Range(272, 8), model.Tokenizer.Special.Predictors);
        Assert.Equal(ChatFormat.Llama3, model.Format);
        using var original = JepaModel.LoadPretrained(hf, Cpu);
        Assert.Equal(272, original.BaseVocabSize);
        Assert.NotEqual(original.Model.Blocks[0].Bq!.Value.ToArray(), model.Model.Blocks[0].Bq!.Value.ToArray());
    }

    [Fact]
    public void LoraOptionsAndAdapterFoldersAreCheckedWithClearErrors()
    {
        string hf = WriteHfFolder();
        var r = CliRunner.Run(["train", "--model", hf, "--lora-targets", "q_proj", .. Common(P("a"), "1")]);
        Assert.Equal(2, r.Code);
        Assert.Contains("--lora-rank", r.Err);
        r = CliRunner.Run(["train", "--model", hf, "--lora-rank", "4", "--lora-targets", "qkv", .. Common(P("b"), "1")]);
        Assert.Equal(2, r.Code);
        Assert.Contains("qkv", r.Err);
        r = CliRunner.Run("generate", "--model", hf, "--adapter", P("nowhere"), "--prompt", "x", "--device", "cpu");
        Assert.NotEqual(0, r.Code);
        Assert.Contains("nowhere", r.Err);
        File.Delete(Path.Combine(hf, "model.safetensors"));
        r = CliRunner.Run(["train", "--model", hf, .. Common(P("c"), "1")]);
        Assert.NotEqual(0, r.Code);
        Assert.Contains("model.safetensors", r.Err);
    }
}
