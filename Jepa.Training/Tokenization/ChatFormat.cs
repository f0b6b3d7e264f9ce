using Jepa.Core;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Training.Tokenization;

/// <summary>
/// How a conversation is laid out as text: the BOS text, one turn string per role with a <c>{content}</c>
/// placeholder, the assistant turn split into the generation prompt (<see cref="AssistantPrefix"/>) and the
/// end-of-turn suffix (<see cref="AssistantSuffix"/>), and the stop tokens that end generation. Literal text is
/// encoded with the tokenizer's added tokens recognised by their text; message content as plain text
/// (see <see cref="ChatTemplate"/>). Presets: <see cref="Jepa"/>, <see cref="Llama3"/>, <see cref="ChatMl"/>, <see cref="Gemma"/>, <see cref="Olmo2"/>;
/// a JSON file form with <see cref="Load"/> and <see cref="Save"/>.
/// </summary>
/// <param name="Name">A name for messages and saved models.</param>
/// <param name="Bos">Text at the start of every sequence (may be empty).</param>
/// <param name="System">The system turn, with <c>{content}</c>.</param>
/// <param name="User">The user turn, with <c>{content}</c>.</param>
/// <param name="AssistantPrefix">The start of the assistant turn: the generation prompt.</param>
/// <param name="AssistantSuffix">The end of the assistant turn (labelled with the answer).</param>
/// <param name="Stop">Added tokens (by text) that end generation.</param>
/// <param name="Plain">The paper's <c>--plain</c> layout: no role headers and no system prompt (it is dropped, as the
/// paper's code drops it); the sequence is BOS, the user's message, <paramref name="AssistantPrefix"/> (the separator),
/// the answer and <paramref name="AssistantSuffix"/>, and each JEPA view is BOS and its message alone. The system
/// and user turns must be <c>{content}</c>.</param>
/// <param name="SystemInUser">The system prompt has no turn of its own: <paramref name="System"/> (e.g. <c>{content}\n\n</c>) is
/// put in front of the user's message inside the user turn, as the paper's code does for Gemma, whose template has no
/// system role. <paramref name="System"/> is then plain text around <c>{content}</c>.</param>
/// <param name="CodeAsUser">The Code view is laid out as a user turn (BOS, the user header, the answer, the end of the turn),
/// as the paper's code does for Gemma, whose template accepts only a user turn first.</param>
/// <param name="TextMarkers">The role markers are plain text, not added tokens (Tülu's <c>&lt;|user|&gt;\n</c>… in OLMo-2's
/// template, which its tokenizer spells out): only the BOS text and the stop tokens must be added tokens.</param>
public sealed record ChatFormat(string Name, string Bos, string System, string User, string AssistantPrefix, string AssistantSuffix,
    IReadOnlyList<string> Stop, bool Plain = false, bool SystemInUser = false, bool CodeAsUser = false, bool TextMarkers = false)
{
    /// <summary>The placeholder of the message content in a turn string.</summary>
    public const string Content = "{content}";

    /// <summary>
    /// The built-in layout <c>&lt;|bos|&gt;&lt;|system|&gt;S&lt;|end|&gt;&lt;|user|&gt;T&lt;|end|&gt;&lt;|assistant|&gt;C&lt;|end|&gt;</c>
    /// (the <see cref="ByteTokenizer"/>'s and <see cref="BpeTrainer"/>'s special tokens); stops at <c>&lt;|end|&gt;</c> or <c>&lt;|eos|&gt;</c>.
    /// </summary>
    public static ChatFormat Jepa { get; } = new("jepa", "<|bos|>", "<|system|>{content}<|end|>", "<|user|>{content}<|end|>",
        "<|assistant|>", "<|end|>", ["<|end|>", "<|eos|>"]);

    /// <summary>Llama 3's: <c>&lt;|begin_of_text|&gt;&lt;|start_header_id|&gt;user&lt;|end_header_id|&gt;\n\n{content}&lt;|eot_id|&gt;</c>…; stops at <c>&lt;|eot_id|&gt;</c>, <c>&lt;|end_of_text|&gt;</c>.</summary>
    public static ChatFormat Llama3 { get; } = new("llama3", "<|begin_of_text|>",
        "<|start_header_id|>system<|end_header_id|>\n\n{content}<|eot_id|>",
        "<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>",
        "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", ["<|eot_id|>", "<|end_of_text|>"]);

    /// <summary>ChatML as Qwen2 uses it (no BOS): <c>&lt;|im_start|&gt;user\n{content}&lt;|im_end|&gt;\n</c>; stops at <c>&lt;|im_end|&gt;</c>, <c>&lt;|endoftext|&gt;</c>.</summary>
    public static ChatFormat ChatMl { get; } = new("chatml", "",
        "<|im_start|>system\n{content}<|im_end|>\n", "<|im_start|>user\n{content}<|im_end|>\n",
        "<|im_start|>assistant\n", "<|im_end|>\n", ["<|im_end|>", "<|endoftext|>"]);

    /// <summary>
    /// The paper's plain layout (finetune.py <c>--plain</c>: <c>user + "&lt;|perception|&gt;" + answer + "&lt;|eot_id|&gt;"</c>,
    /// after the tokenizer's BOS) in the built-in tokenizers' tokens: <c>&lt;|bos|&gt;T&lt;|assistant|&gt;C&lt;|end|&gt;</c>, the
    /// assistant token standing for the paper's added separator; the Text view is <c>&lt;|bos|&gt;T</c>, the Code view
    /// <c>&lt;|bos|&gt;C</c>; a system prompt is dropped. Stops at <c>&lt;|end|&gt;</c> or <c>&lt;|eos|&gt;</c>.
    /// </summary>
    public static ChatFormat PlainJepa { get; } = new("plain", "<|bos|>", Content, Content, "<|assistant|>", "<|end|>", ["<|end|>", "<|eos|>"], Plain: true);

    /// <summary>
    /// Gemma's (1, 2): <c>&lt;bos&gt;&lt;start_of_turn&gt;user\n{content}&lt;end_of_turn&gt;\n&lt;start_of_turn&gt;model\n</c>…, with the system
    /// prompt put in front of the user's message after a blank line and the Code view laid out as a user turn, as the paper's
    /// code (<c>get_messages</c>, <c>get_assistant_messages</c>) does for Gemma; stops at <c>&lt;end_of_turn&gt;</c>, <c>&lt;eos&gt;</c>.
    /// </summary>
    public static ChatFormat Gemma { get; } = new("gemma", "<bos>", "{content}\n\n", "<start_of_turn>user\n{content}<end_of_turn>\n",
        "<start_of_turn>model\n", "<end_of_turn>\n", ["<end_of_turn>", "<eos>"], SystemInUser: true, CodeAsUser: true);

    /// <summary>
    /// OLMo-2 Instruct's (Tülu 3's template): <c>&lt;|endoftext|&gt;&lt;|system|&gt;\n{content}\n&lt;|user|&gt;\n{content}\n&lt;|assistant|&gt;\n</c>…
    /// with the answer ended by <c>&lt;|endoftext|&gt;</c>, its EOS and BOS; the role markers are text (<see cref="TextMarkers"/>).
    /// Stops at <c>&lt;|endoftext|&gt;</c>.
    /// </summary>
    public static ChatFormat Olmo2 { get; } = new("olmo2", "<|endoftext|>", "<|system|>\n{content}\n", "<|user|>\n{content}\n",
        "<|assistant|>\n", "<|endoftext|>", ["<|endoftext|>"], TextMarkers: true);

    /// <summary>The preset names.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["jepa", "llama3", "chatml", "gemma", "olmo2", "plain"];

    /// <summary>The preset called <paramref name="name"/>, or null.</summary>
    public static ChatFormat? Preset(string name) => name switch
    {
        "jepa" => Jepa, "llama3" => Llama3, "chatml" => ChatMl, "gemma" => Gemma, "olmo2" => Olmo2, "plain" => PlainJepa, _ => null,
    };

    /// <summary>A preset name, else a JSON format file (see <see cref="Load"/>).</summary>
    public static ChatFormat Resolve(string presetOrFile) =>
        Preset(presetOrFile) ?? (File.Exists(presetOrFile) ? Load(presetOrFile)
            : throw new FileNotFoundException($"'{presetOrFile}' is neither a chat format preset ({string.Join(", ", PresetNames)}) nor a file.", presetOrFile));

    /// <summary>
    /// The preset matching a Hugging Face <c>tokenizer_config.json</c> <c>chat_template</c> (Jinja text):
    /// <see cref="Llama3"/> when it uses <c>&lt;|start_header_id|&gt;</c>, <see cref="ChatMl"/> when it uses <c>&lt;|im_start|&gt;</c>,
    /// <see cref="Gemma"/> when it uses <c>&lt;start_of_turn&gt;</c>, <see cref="Olmo2"/> when it writes Tülu's
    /// <c>'&lt;|user|&gt;\n'</c> and <c>'&lt;|assistant|&gt;\n'</c> markers.
    /// </summary>
    /// <exception cref="InvalidDataException">Neither is recognised.</exception>
    public static ChatFormat Detect(string? chatTemplate)
    {
        if (chatTemplate is not null && chatTemplate.Contains("<|start_header_id|>", StringComparison.Ordinal)) return Llama3;
        if (chatTemplate is not null && chatTemplate.Contains("<|im_start|>", StringComparison.Ordinal)) return ChatMl;
        if (chatTemplate is not null && chatTemplate.Contains("<start_of_turn>", StringComparison.Ordinal)) return Gemma;
        if (chatTemplate is not null && chatTemplate.Contains("'<|user|>\\n'", StringComparison.Ordinal) && chatTemplate.Contains("'<|assistant|>\\n'", StringComparison.Ordinal))
            return Olmo2;
        throw new InvalidDataException(chatTemplate is null
            ? "The tokenizer has no chat_template; give the chat format with --chat-template (jepa, llama3, chatml, gemma, olmo2 or a FILE.json)."
            : "The tokenizer's chat_template is neither Llama 3's, ChatML, Gemma's nor OLMo-2's; give the chat format with --chat-template (jepa, llama3, chatml, gemma, olmo2 or a FILE.json).");
    }

    /// <summary>Checks that each turn has one <c>{content}</c> placeholder and that there is a stop token. <paramref name="source"/> names the origin in errors.</summary>
    /// <exception cref="InvalidDataException">The message names the source and the field.</exception>
    public ChatFormat Validate(string source = "chat format")
    {
        void Turn(string field, string value)
        {
            int at = value.IndexOf(Content, StringComparison.Ordinal);
            if (at < 0 || value.IndexOf(Content, at + 1, StringComparison.Ordinal) >= 0)
                throw new InvalidDataException($"{source}: field \"{field}\" must contain the placeholder {Content} exactly once.");
        }
        if (string.IsNullOrWhiteSpace(Name)) throw new InvalidDataException($"{source}: field \"name\" must not be empty.");
        Turn("system", System);
        Turn("user", User);
        foreach (var (field, value) in new[] { ("bos", Bos), ("assistant_prefix", AssistantPrefix), ("assistant_suffix", AssistantSuffix) })
            if (value.Contains(Content, StringComparison.Ordinal)) throw new InvalidDataException($"{source}: field \"{field}\" must not contain {Content}.");
        if (Stop.Count == 0 || Stop.Any(string.IsNullOrEmpty)) throw new InvalidDataException($"{source}: field \"stop\" must list at least one non-empty token.");
        if (Plain && (System != Content || User != Content))
            throw new InvalidDataException($"{source}: a plain format has no role headers: fields \"system\" and \"user\" must be exactly {Content}.");
        if (Plain && (SystemInUser || CodeAsUser))
            throw new InvalidDataException($"{source}: a plain format has no turns: \"system_in_user\" and \"code_as_user\" must be false.");
        return this;
    }

    /// <summary>The JSON form: <c>{"name", "bos", "system", "user", "assistant_prefix", "assistant_suffix", "stop": [...]}</c>,
    /// and <c>"plain": true</c> for a <see cref="Plain"/> layout.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["name"] = Name, ["bos"] = Bos, ["system"] = System, ["user"] = User,
            ["assistant_prefix"] = AssistantPrefix, ["assistant_suffix"] = AssistantSuffix,
            ["stop"] = new JsonArray([.. Stop.Select(s => (JsonNode)JsonValue.Create(s))]),
        };
        if (Plain) o["plain"] = true;
        if (SystemInUser) o["system_in_user"] = true;
        if (CodeAsUser) o["code_as_user"] = true;
        if (TextMarkers) o["text_markers"] = true;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>, atomically.</summary>
    public void Save(string path)
    {
        AtomicFile.WriteAllText(path, ToJson() + "\n");
    }

    /// <summary>Reads a JSON format file (see <see cref="ToJson"/>); every field but <c>plain</c> is required.</summary>
    /// <exception cref="InvalidDataException">Invalid JSON, or a field missing, mistyped or invalid; the message names the file and the field.</exception>
    public static ChatFormat Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Chat format file '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses the JSON form; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">See <see cref="Load"/>.</exception>
    public static ChatFormat Parse(string json, string source)
    {
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: a chat format must be a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: invalid JSON: {e.Message}", e); }
        string Str(string field)
        {
            var node = root[field] ?? throw new InvalidDataException($"{source}: field \"{field}\" is missing.");
            try { return node.GetValue<string>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            { throw new InvalidDataException($"{source}: field \"{field}\" must be a string.", e); }
        }
        var known = new HashSet<string> { "name", "bos", "system", "user", "assistant_prefix", "assistant_suffix", "stop", "plain", "system_in_user", "code_as_user", "text_markers" };
        foreach (var (k, _) in root)
            if (!known.Contains(k)) throw new InvalidDataException($"{source}: unknown field \"{k}\" (expected {string.Join(", ", known)}).");
        if (root["stop"] is not JsonArray stopNode) throw new InvalidDataException($"{source}: field \"stop\" must be an array of strings.");
        var stop = new List<string>();
        foreach (var s in stopNode)
        {
            try { stop.Add(s!.GetValue<string>()); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
            { throw new InvalidDataException($"{source}: field \"stop\" must be an array of strings.", e); }
        }
        bool Flag(string field)
        {
            if (root[field] is not { } node) return false;
            try { return node.GetValue<bool>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            { throw new InvalidDataException($"{source}: field \"{field}\" must be true or false.", e); }
        }
        return new ChatFormat(Str("name"), Str("bos"), Str("system"), Str("user"), Str("assistant_prefix"), Str("assistant_suffix"), stop,
            Flag("plain"), Flag("system_in_user"), Flag("code_as_user"), Flag("text_markers")).Validate(source);
    }

    /// <inheritdoc />
    public bool Equals(ChatFormat? other) =>
        other is not null && Name == other.Name && Bos == other.Bos && System == other.System && User == other.User
        && AssistantPrefix == other.AssistantPrefix && AssistantSuffix == other.AssistantSuffix && Stop.SequenceEqual(other.Stop)
        && Plain == other.Plain && SystemInUser == other.SystemInUser && CodeAsUser == other.CodeAsUser && TextMarkers == other.TextMarkers;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Bos, System, User, AssistantPrefix, AssistantSuffix, Stop.Count, (Plain, SystemInUser, CodeAsUser, TextMarkers));
}
