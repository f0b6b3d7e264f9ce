using Jepa.Training;
using Jepa.RegexTask;
using Jepa.Training.Tokenization;

namespace Jepa.Tests.Cli;

/// <summary>
/// Tokenizers and chat formats through the command line: <c>jepa tokenizer train</c> → <c>jepa train --tokenizer</c>
/// → generate / eval / embed / resume on the saved BPE model; <c>--chat-template</c> presets and files; errors.
/// </summary>
public sealed class CliTokenizerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("jepa-cli-tok-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(string name) => Path.Combine(_root, name);

    private void Setup()
    {
        File.WriteAllText(P("tiny.json"), CliRunner.TinyConfig);
        RegexPairGenerator.WriteJsonl(P("pairs.jsonl"), 24, seed: 5);
    }

    [Fact]
    public void TrainedBpeTokenizerTrainsAModelThatGeneratesEvaluatesEmbedsAndResumes()
    {
        Setup();
        var tok = CliRunner.Run("tokenizer", "train", "--data", P("pairs.jsonl"), "--vocab", "320", "--predictors", "4", "--out", P("tok.json"));
        Assert.True(tok.Code == 0, tok.ToString());
        var train = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--eval-data", P("pairs.jsonl"), "--eval-count", "2", "--config", P("tiny.json"),
            "--tokenizer", P("tok.json"), "--steps", "2", "--checkpoint-every", "1", "--out", P("run"), "--metric", "regex");
        Assert.True(train.Code == 0, train.ToString());
        Assert.Contains("BpeTokenizer:320", train.Err);
        string model = Path.Combine(P("run"), "model");
        foreach (string file in (string[])["tokenizer.json", "jepa_chat_format.json", "config.json", "model.safetensors"])
            Assert.True(File.Exists(Path.Combine(model, file)), file);
        Assert.False(File.Exists(Path.Combine(model, "jepa_tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(P("run"), "checkpoints", "ckpt-0000002", "tokenizer.json")));
        using (var m = JepaModel.Load(model, new Jepa.Core.DeviceOptions { Kind = Jepa.Core.DeviceKind.Cpu }))
        {
            var bpe = Assert.IsType<BpeTokenizer>(m.Tokenizer);
            Assert.Equal(320, m.Model.Config.VocabSize);
            Assert.Equal(BpeTokenizer.Load(P("tok.json")).Encode("lines with dog"), bpe.Encode("lines with dog"));
            Assert.Equal(ChatFormat.Jepa, m.Format);
        }

        var gen = CliRunner.Run("generate", "--model", model, "--prompt", "lines with a vowel", "--max-new-tokens", "4", "--device", "cpu");
        Assert.True(gen.Code == 0, gen.ToString());
        var eval = CliRunner.Run("eval", "--model", model, "--data", P("pairs.jsonl"), "--count", "2", "--max-new-tokens", "4", "--device", "cpu");
        Assert.True(eval.Code == 0, eval.ToString());
        Assert.Matches(@"\(\d/2\)", eval.Out);
        var embed = CliRunner.Run("embed", "--model", model, "--text", "lines with a vowel", "--out", P("e.jsonl"), "--device", "cpu");
        Assert.True(embed.Code == 0, embed.ToString());
        Assert.Contains("dimension 16", embed.Out);
        var resume = CliRunner.Run("train", "--resume", P("run"), "--steps", "3", "--eval-count", "0");
        Assert.True(resume.Code == 0, resume.ToString());
        Assert.True(File.Exists(Path.Combine(P("run"), "checkpoints", "ckpt-0000003", "tokenizer.json")));
    }

    [Fact]
    public void PlainTrainsWithThePlainFormatAndSavesIt()
    {
        Setup();
        var both = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--config", P("tiny.json"), "--plain", "--chat-template", "jepa", "--steps", "1", "--out", P("both"));
        Assert.Equal(2, both.Code);
        Assert.Contains("--plain is --chat-template plain", both.Err);
        var train = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--eval-count", "0", "--config", P("tiny.json"), "--plain", "--steps", "1", "--out", P("plain"));
        Assert.True(train.Code == 0, train.ToString());
        Assert.Equal(ChatFormat.PlainJepa, ChatFormat.Load(Path.Combine(P("plain"), "model", TokenizerFiles.FormatFile)));
    }

    [Fact]
    public void ChatTemplateFileIsUsedAndSavedWithTheModel()
    {
        Setup();
        new ChatFormat("qa", "<|bos|>", "{content}\n", "Q: {content}\n", "A: ", "<|end|>", ["<|end|>"]).Save(P("qa.json"));
        var train = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--eval-count", "0", "--config", P("tiny.json"),
            "--chat-template", P("qa.json"), "--steps", "1", "--out", P("run"));
        Assert.True(train.Code == 0, train.ToString());
        Assert.Contains("chat format qa", train.Err);
        string model = Path.Combine(P("run"), "model");
        Assert.Equal(ChatFormat.Load(P("qa.json")), ChatFormat.Load(Path.Combine(model, TokenizerFiles.FormatFile)));
        var gen = CliRunner.Run("generate", "--model", model, "--prompt", "lines", "--max-new-tokens", "3", "--device", "cpu");
        Assert.True(gen.Code == 0, gen.ToString());

        // a folder saved before chat formats existed (no format file) loads with the jepa format
        File.Delete(Path.Combine(model, TokenizerFiles.FormatFile));
        using var m = JepaModel.Load(model, new Jepa.Core.DeviceOptions { Kind = Jepa.Core.DeviceKind.Cpu });
        Assert.Equal(ChatFormat.Jepa, m.Format);
        Assert.IsType<ByteTokenizer>(m.Tokenizer);
    }

    [Fact]
    public void HuggingFaceTokenizerFolderGivesPredictorsPastItsIdsAndTheDetectedFormat()
    {
        Setup();
        string hf = P("hf");
        Directory.CreateDirectory(hf);
        Jepa.Tests.Training.TokenizerModelTests.LlamaStyleBase().Save(Path.Combine(hf, "tokenizer.json"));
        File.WriteAllText(Path.Combine(hf, "tokenizer_config.json"), """
            {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
             "chat_template": "{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' + m['content'] + '<|eot_id|>' }}{% endfor %}"}
            """);
        var train = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--eval-data", P("pairs.jsonl"), "--eval-count", "1", "--config", P("tiny.json"),
            "--tokenizer", hf, "--steps", "1", "--out", P("run"));
        Assert.True(train.Code == 0, train.ToString());
        Assert.Contains("chat format llama3", train.Err);
        using var m = JepaModel.Load(Path.Combine(P("run"), "model"), new Jepa.Core.DeviceOptions { Kind = Jepa.Core.DeviceKind.Cpu });
        Assert.Equal(ChatFormat.Llama3, m.Format);
        Assert.Equal(Enumerable.Range(262, 8), m.Tokenizer.Special.Predictors);
        Assert.Equal(261, m.Tokenizer.Special.Pad);
        Assert.Equal(270, m.Model.Config.VocabSize);
        Assert.Null(m.Tokenizer.TokenId("<|bos|>"));
    }

    [Fact]
    public void MismatchedFormatsAndOptionsAreClearErrors()
    {
        Setup();
        var r = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--config", P("tiny.json"), "--chat-template", "llama3", "--steps", "1", "--out", P("a"));
        Assert.Equal(1, r.Code);
        Assert.Contains("<|begin_of_text|>", r.Err);
        Assert.Contains("--chat-template", r.Err);
        r = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--config", P("tiny.json"), "--chat-template", "vicuna", "--steps", "1", "--out", P("b"));
        Assert.Equal(1, r.Code);
        Assert.Contains("neither a chat format preset", r.Err);
        r = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--model", P("nowhere"), "--tokenizer", P("tok.json"), "--steps", "1", "--out", P("c"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--tokenizer", r.Err);
        r = CliRunner.Run("train", "--data", P("pairs.jsonl"), "--config", P("tiny.json"), "--tokenizer", P("missing.json"), "--steps", "1", "--out", P("d"));
        Assert.Equal(1, r.Code);
        Assert.Contains("missing.json", r.Err);
    }
}
