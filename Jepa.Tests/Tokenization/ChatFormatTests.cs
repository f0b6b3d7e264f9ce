using System.Text;
using Jepa.Training.Data;
using Jepa.Training.Tokenization;
using BpeTokenizer = Jepa.Training.Tokenization.BpeTokenizer;

namespace Jepa.Tests.Tokenization;

/// <summary>Chat formats: layout, labels and views of each preset, injection safety, missing tokens, JSON files, detection.</summary>
public sealed class ChatFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-chatfmt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Specials =
    [
        "<|pad|>", "<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|begin_of_text|>", "<|end_of_text|>",
        "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "[PRED_1]", "[PRED_2]",
        "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>",
    ];

    /// <summary>A byte-level BPE tokenizer without merges (token id = byte) holding every preset's special tokens from id 256.</summary>
    private static BpeTokenizer AllSpecials()
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevel.Char((byte)b).ToString(), b => b);
        return new BpeTokenizer(vocab, [], Specials.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => 256 + p.i));
    }

    private static int Id(string special) => 256 + Array.IndexOf(Specials, special);

    private static int[] B(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    public static TheoryData<string> Presets => new() { "jepa", "llama3", "chatml", "gemma" };

    /// <summary>The hand-written layout of ("S", "T", code) in each preset: (full sequence, prompt length, text view, code view, answer labels, stops).</summary>
    private static (int[] Full, int Prompt, int[] Text, int[] Code, int[] Answer, int[] Stop) Expected(string preset, string code)
    {
        switch (preset)
        {
            case "jepa":
            {
                int[] prompt = [Id("<|bos|>"), Id("<|system|>"), .. B("S"), Id("<|end|>"), Id("<|user|>"), .. B("T"), Id("<|end|>"), Id("<|assistant|>")];
                int[] answer = [.. B(code), Id("<|end|>")];
                return ([.. prompt, .. answer], prompt.Length, [Id("<|bos|>"), Id("<|user|>"), .. B("T"), Id("<|end|>")],
                    [Id("<|bos|>"), Id("<|assistant|>"), .. answer], answer, [Id("<|end|>"), Id("<|eos|>")]);
            }
            case "llama3":
            {
                int sh = Id("<|start_header_id|>"), eh = Id("<|end_header_id|>"), eot = Id("<|eot_id|>"), bos = Id("<|begin_of_text|>");
                int[] user = [sh, .. B("user"), eh, .. B("\n\nT"), eot];
                int[] assistant = [sh, .. B("assistant"), eh, .. B("\n\n")];
                int[] prompt = [bos, sh, .. B("system"), eh, .. B("\n\nS"), eot, .. user, .. assistant];
                int[] answer = [.. B(code), eot];
                return ([.. prompt, .. answer], prompt.Length, [bos, .. user], [bos, .. assistant, .. answer], answer, [eot, Id("<|end_of_text|>")]);
            }
            case "gemma":
            {
                // the paper's get_messages: system + "\n\n" + user inside the user turn; get_assistant_messages: the answer as a user turn
                int bos = Id("<bos>"), st = Id("<start_of_turn>"), et = Id("<end_of_turn>");
                int[] prompt = [bos, st, .. B("user\nS\n\nT"), et, .. B("\n"), st, .. B("model\n")];
                int[] answer = [.. B(code), et, .. B("\n")];
                return ([.. prompt, .. answer], prompt.Length, [bos, st, .. B("user\nT"), et, .. B("\n")],
                    [bos, st, .. B("user\n"), .. B(code), et, .. B("\n")], answer, [et, Id("<eos>")]);
            }
            default:
            {
                int s = Id("<|im_start|>"), e = Id("<|im_end|>");
                int[] user = [s, .. B("user\nT"), e, .. B("\n")];
                int[] prompt = [s, .. B("system\nS"), e, .. B("\n"), .. user, s, .. B("assistant\n")];
                int[] answer = [.. B(code), e, .. B("\n")];
                return ([.. prompt, .. answer], prompt.Length, user, [s, .. B("assistant\n"), .. answer], answer, [e, Id("<|endoftext|>")]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void PresetLayoutLabelsAndViewsAreAsWrittenByHand(string preset)
    {
        var tok = AllSpecials();
        var tpl = new ChatTemplate(tok, ChatFormat.Preset(preset));
        const string code = "x→é";
        var e = tpl.Encode(new PairExample("S", "T", code), maxLength: 512);
        var want = Expected(preset, code);
        Assert.Equal(want.Full, e.Full);
        Assert.Equal(want.Full[..want.Prompt], tpl.Prompt("S", "T"));
        Assert.Equal(want.Text, e.TextView);
        Assert.Equal(want.Code, e.CodeView);
        Assert.Equal(want.Stop, tpl.StopIds);
        Assert.False(e.Truncated);
        // labels: the answer and the end-of-turn suffix, each predicted from the position before it
        var labelled = e.Labels.Select((l, i) => (l, i)).Where(p => p.l != ChatTemplate.IgnoreIndex).ToArray();
        Assert.Equal(want.Answer, labelled.Select(p => p.l));
        Assert.Equal(want.Prompt - 1, labelled[0].i);
        Assert.Equal(ChatTemplate.IgnoreIndex, e.Labels[^1]);
        // decoding skips the special tokens and gives back the content
        Assert.Equal(code, tok.Decode(want.Answer).TrimEnd('\n'));
        Assert.EndsWith(code + (preset is "chatml" or "gemma" ? "\n" : ""), tok.Decode(e.CodeView));
        Assert.EndsWith("T", tok.Decode(e.TextView).TrimEnd('\n'));
        // without a system prompt the system turn is left out: BOS, user turn, assistant prefix (Gemma's Code view is a
        // user turn, so its assistant prefix is written out here)
        int bos = preset == "chatml" ? 0 : 1;
        int[] prefix = preset == "gemma" ? [Id("<start_of_turn>"), .. B("model\n")] : want.Code[bos..^want.Answer.Length];
        Assert.Equal([.. want.Text, .. prefix], tpl.Prompt(null, "T"));
    }

    [Fact]
    public void JepaPresetKeepsTheByteTokenizerIds()
    {
        var tpl = new ChatTemplate(new ByteTokenizer());
        Assert.Equal(ChatFormat.Jepa, tpl.Format);
        Assert.Equal([257, 259, 's', 262, 260, 't', 262, 261], tpl.Prompt("s", "t"));
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void ContentCannotInjectSpecialTokens(string preset)
    {
        var tok = AllSpecials();
        var tpl = new ChatTemplate(tok, ChatFormat.Preset(preset));
        string evil = string.Join("", Specials);
        var clean = tpl.Encode(new PairExample(null, "T", "C"), 512).Full;
        var e = tpl.Encode(new PairExample(null, evil, evil), 512).Full;
        foreach (string s in Specials) Assert.Equal(clean.Count(i => i == Id(s)), e.Count(i => i == Id(s)));
        Assert.Contains(evil, tok.Decode(e));
    }

    [Fact]
    public void AFormatWhoseTokenTheTokenizerLacksIsAnErrorNamingIt()
    {
        var e = Assert.Throws<InvalidDataException>(() => new ChatTemplate(new ByteTokenizer(), ChatFormat.Llama3));
        Assert.Contains("'<|begin_of_text|>'", e.Message);
        Assert.Contains("llama3", e.Message);
        e = Assert.Throws<InvalidDataException>(() => new ChatTemplate(new ByteTokenizer(), ChatFormat.ChatMl));
        Assert.Contains("'<|im_start|>'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => new ChatTemplate(new ByteTokenizer(), ChatFormat.Jepa with { Name = "x", Stop = ["</s>"] }));
        Assert.Contains("'</s>'", e.Message);
    }

    [Fact]
    public void JsonFileRoundTripsAndCustomFormatsEncode()
    {
        foreach (string name in ChatFormat.PresetNames)
        {
            string p = Path.Combine(_dir, name + ".json");
            ChatFormat.Preset(name)!.Save(p);
            Assert.Equal(ChatFormat.Preset(name), ChatFormat.Load(p));
            Assert.Equal(ChatFormat.Preset(name), ChatFormat.Resolve(p));
            Assert.Same(ChatFormat.Preset(name), ChatFormat.Resolve(name));
        }
        string mine = Path.Combine(_dir, "mine.json");
        File.WriteAllText(mine, """
            {"name": "qa", "bos": "<|bos|>", "system": "{content}\n", "user": "Q: {content}\n", "assistant_prefix": "A: ",
             "assistant_suffix": "<|end|>", "stop": ["<|end|>"]}
            """);
        var tpl = new ChatTemplate(new ByteTokenizer(), ChatFormat.Load(mine));
        Assert.Equal([257, .. B("Q: hi\nA: ")], tpl.Prompt(null, "hi"));
        Assert.Equal([262], tpl.StopIds);
    }

    [Theory]
    [InlineData("""{"name": "a", "bos": "", "system": "{content}", "assistant_prefix": "", "assistant_suffix": "", "stop": ["x"]}""", "\"user\" is missing")]
    [InlineData("""{"name": "a", "bos": "", "system": "{content}", "user": "no placeholder", "assistant_prefix": "", "assistant_suffix": "", "stop": ["x"]}""", "\"user\" must contain the placeholder {content}")]
    [InlineData("""{"name": "a", "bos": "", "system": "{content}", "user": "{content}", "assistant_prefix": "", "assistant_suffix": "", "stop": "x"}""", "\"stop\" must be an array")]
    [InlineData("""{"name": "a", "bos": "", "system": "{content}", "user": "{content}", "assistant_prefix": "", "assistant_suffix": "", "stop": []}""", "\"stop\" must list")]
    [InlineData("""{"name": "a", "bos": 3, "system": "{content}", "user": "{content}", "assistant_prefix": "", "assistant_suffix": "", "stop": ["x"]}""", "\"bos\" must be a string")]
    [InlineData("""{"name": "a", "bos": "", "system": "{content}", "user": "{content}", "assistant_prefix": "{content}", "assistant_suffix": "", "stop": ["x"]}""", "\"assistant_prefix\" must not contain")]
    [InlineData("""{"name": "a", "bos": "", "system": "{content}", "user": "{content}", "assistant": "", "stop": ["x"]}""", "unknown field \"assistant\"")]
    [InlineData("""{"name": "a",""", "invalid JSON")]
    public void JsonFileErrorsNameTheFileAndField(string json, string message)
    {
        string p = Path.Combine(_dir, "bad-format.json");
        File.WriteAllText(p, json);
        var e = Assert.Throws<InvalidDataException>(() => ChatFormat.Load(p));
        Assert.Contains("bad-format.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void GemmaFormatRoundTripsThroughJsonAndIsRefusedWithoutItsTokens()
    {
        Assert.Equal(ChatFormat.Gemma, ChatFormat.Parse(ChatFormat.Gemma.ToJson(), "gemma.json"));
        Assert.NotEqual(ChatFormat.Gemma, ChatFormat.Gemma with { CodeAsUser = false });
        Assert.Contains("system_in_user", Assert.Throws<InvalidDataException>(() => (ChatFormat.PlainJepa with { SystemInUser = true }).Validate("f.json")).Message);
        // a tokenizer without <start_of_turn> is refused rather than spelling it out as text
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevel.Char((byte)b).ToString(), b => b);
        var plainBytes = new BpeTokenizer(vocab, [], new Dictionary<string, int> { ["<bos>"] = 256, ["<eos>"] = 257, ["<end_of_turn>"] = 258 });
        Assert.Contains("<start_of_turn>", Assert.Throws<InvalidDataException>(() => new ChatTemplate(plainBytes, ChatFormat.Gemma)).Message);
    }

    [Fact]
    public void Olmo2FormatSpellsItsRoleMarkersAsTextAndNeedsOnlyItsEndOfText()
    {
        Assert.Equal(ChatFormat.Olmo2, ChatFormat.Parse(ChatFormat.Olmo2.ToJson(), "olmo2.json"));
        Assert.NotEqual(ChatFormat.Olmo2, ChatFormat.Olmo2 with { TextMarkers = false });
        // OLMo-2's tokenizer has <|endoftext|> (its BOS and EOS) but no <|user|> or <|assistant|> tokens
        var vocab = Enumerable.Range(0, 256).ToDictionary(b => ByteLevel.Char((byte)b).ToString(), b => b);
        var olmo = new BpeTokenizer(vocab, [], new Dictionary<string, int> { ["<|endoftext|>"] = 256 });
        var tpl = new ChatTemplate(olmo, ChatFormat.Olmo2);
        Assert.Equal([256, .. B("<|system|>\nS\n<|user|>\nhi\n<|assistant|>\n")], tpl.Prompt("S", "hi"));
        Assert.Equal([256], tpl.StopIds);
        // without the text-markers flag the same layout asks for the markers as tokens
        Assert.Contains("<|system|>", Assert.Throws<InvalidDataException>(() => new ChatTemplate(olmo, ChatFormat.Olmo2 with { TextMarkers = false })).Message);
        var noEos = new BpeTokenizer(vocab, [], new Dictionary<string, int> { ["<|pad|>"] = 256 });
        Assert.Contains("<|endoftext|>", Assert.Throws<InvalidDataException>(() => new ChatTemplate(noEos, ChatFormat.Olmo2)).Message);
    }

    [Fact]
    public void DetectRecognisesLlama3AndChatMl()
    {
        Assert.Same(ChatFormat.Llama3, ChatFormat.Detect("{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"));
        Assert.Same(ChatFormat.ChatMl, ChatFormat.Detect("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n'}}{% endfor %}"));
        Assert.Same(ChatFormat.Gemma, ChatFormat.Detect("{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"));
        Assert.Same(ChatFormat.Olmo2, ChatFormat.Detect("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + '\\n' }}{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + '\\n' }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n'  + message['content'] + eos_token }}{% endif %}{% endfor %}"));
        Assert.Contains("--chat-template", Assert.Throws<InvalidDataException>(() => ChatFormat.Detect("{{ bos_token }}[INST]")).Message);
        Assert.Contains("--chat-template", Assert.Throws<InvalidDataException>(() => ChatFormat.Detect(null)).Message);
        Assert.Throws<FileNotFoundException>(() => ChatFormat.Resolve(Path.Combine(_dir, "nope.json")));
    }
}
