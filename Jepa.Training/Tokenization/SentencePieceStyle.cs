using System.Text;
using System.Text.Json.Nodes;

namespace Jepa.Training.Tokenization;

/// <summary>
/// How a SentencePiece-style BPE <c>tokenizer.json</c> (Llama 2's, Gemma's, the Llama-2 tokenizer OpenELM uses) treats text,
/// as opposed to byte-level BPE: a space is the character ▁ (U+2581) inside tokens (the normaliser
/// <c>Replace(" ", "▁")</c>, or a <c>Metaspace</c> pre-tokenizer), a ▁ may be put in front of the text (<c>Prepend("▁")</c>,
/// or Metaspace's <c>prepend_scheme</c> "always"), BPE merges Unicode characters, not bytes, and a character the vocabulary
/// lacks becomes the tokens <c>&lt;0xXX&gt;</c> of its UTF-8 bytes (<c>byte_fallback</c>) or the unknown token. Decoding
/// turns ▁ back into spaces, <c>&lt;0xXX&gt;</c> tokens into bytes, and drops the first space when the decoder strips it.
/// </summary>
/// <param name="PrependSpace">Put ▁ in front of every text encoded (Llama 2's <c>Prepend</c>; Gemma: false).</param>
/// <param name="StripLeadingSpace">Decoding drops one leading space (the decoder's <c>Strip(" ", 1, 0)</c>).</param>
/// <param name="ByteFallback">Characters outside the vocabulary become their UTF-8 bytes' <c>&lt;0xXX&gt;</c> tokens.</param>
/// <param name="UnkToken">The unknown token, for characters outside the vocabulary without byte fallback; or null.</param>
/// <param name="Metaspace">True when the file says it with a <c>Metaspace</c> pre-tokenizer (written back the same way), false
/// for the normaliser form.</param>
public sealed record SentencePieceStyle(bool PrependSpace, bool StripLeadingSpace, bool ByteFallback, string? UnkToken, bool Metaspace = false)
{
    /// <summary>The character that stands for a space inside tokens.</summary>
    public const char Space = '\u2581';

    /// <summary>The text BPE merges: spaces as ▁, with ▁ in front when <see cref="PrependSpace"/> (empty text stays empty).</summary>
    public string Normalize(string text) => text.Length == 0 ? text : (PrependSpace ? Space.ToString() : "") + text.Replace(' ', Space);

    private static readonly System.Text.Json.JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The <c>pattern.String</c> of a Replace or Split step, or null.</summary>
    private static string? PatternString(JsonNode n) => (n["pattern"] as JsonObject)?["String"]?.GetValue<string>();

    /// <summary>The byte-fallback token text of byte <paramref name="b"/>: <c>&lt;0xXX&gt;</c>.</summary>
    public static string ByteToken(byte b) => $"<0x{b:X2}>";

    /// <summary>The byte a <c>&lt;0xXX&gt;</c> token stands for, or null for another token.</summary>
    public static byte? TokenByte(string token) =>
        token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
        && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b) ? b : null;

    /// <summary>Appends the UTF-8 bytes token <paramref name="token"/> stands for: its byte, or its text with ▁ as a space.</summary>
    public static void AppendBytes(string token, List<byte> bytes)
    {
        if (TokenByte(token) is { } b) bytes.Add(b);
        else bytes.AddRange(Encoding.UTF8.GetBytes(token.Replace(Space, ' ')));
    }

    /// <summary>The <c>normalizer</c>, <c>pre_tokenizer</c> and <c>decoder</c> nodes of this style, as Hugging Face writes them.</summary>
    public (JsonNode? Normalizer, JsonNode? PreTokenizer, JsonNode Decoder) ToJson()
    {
        JsonNode Replace(string from, string to) => new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = from }, ["content"] = to };
        var decoders = new JsonArray(Replace(Space.ToString(), " "), new JsonObject { ["type"] = "ByteFallback" }, new JsonObject { ["type"] = "Fuse" });
        if (StripLeadingSpace) decoders.Add(new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 });
        var decoder = new JsonObject { ["type"] = "Sequence", ["decoders"] = decoders };
        if (Metaspace)
            return (null, new JsonObject { ["type"] = "Metaspace", ["replacement"] = Space.ToString(), ["prepend_scheme"] = PrependSpace ? "always" : "never", ["split"] = false }, decoder);
        JsonNode normalizer = PrependSpace
            ? new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "Prepend", ["prepend"] = Space.ToString() }, Replace(" ", Space.ToString())) }
            : Replace(" ", Space.ToString());
        return (normalizer, null, decoder);
    }

    /// <summary>
    /// The style of a <c>tokenizer.json</c> whose BPE model has <c>byte_fallback</c>, or whose normaliser or pre-tokenizer puts ▁ for
    /// spaces; null for a byte-level file. Reads the normaliser (<c>Replace(" ", "▁")</c>, <c>Prepend("▁")</c>, and a
    /// <c>Sequence</c> of them), the pre-tokenizer (none, <c>Metaspace</c> with <c>prepend_scheme</c> "always" or "never" or the
    /// older <c>add_prefix_space</c> and <c>split</c> false, or a <c>Split</c> on " ", which is inert once spaces are ▁) and
    /// the decoder's <c>Strip</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">A SentencePiece-style file with a step not listed; the message names it and the file.</exception>
    public static SentencePieceStyle? FromJson(JsonObject root, JsonObject model, string path)
    {
        bool byteFallback = model["byte_fallback"]?.GetValue<bool>() ?? false;
        bool prepend = false, replace = false, metaspace = false;
        void Normalizer(JsonNode n)
        {
            string? type = n["type"]?.GetValue<string>();
            switch (type)
            {
                case "Sequence":
                    foreach (var c in n["normalizers"] as JsonArray ?? []) Normalizer(c!);
                    break;
                case "Prepend" when n["prepend"]?.GetValue<string>() == Space.ToString():
                    prepend = true;
                    break;
                case "Replace" when PatternString(n) == " " && n["content"]?.GetValue<string>() == Space.ToString():
                    replace = true;
                    break;
                default:
                    throw new InvalidDataException($"{path}: normalizer {n.ToJsonString()} is not supported in a SentencePiece-style tokenizer (Replace \" \" → \"▁\", Prepend \"▁\", Sequence).");
            }
        }
        bool SpaceMarked(JsonNode? n) => n is not null && n.ToJsonString(Unescaped).Contains(Space);
        var pre = root["pre_tokenizer"];
        if (!byteFallback && !SpaceMarked(root["normalizer"]) && !SpaceMarked(pre)) return null;
        if (root["normalizer"] is { } norm) Normalizer(norm);
        switch (pre?["type"]?.GetValue<string>())
        {
            case null:
                break;
            case "Metaspace":
                if (pre["replacement"]?.GetValue<string>() is { } r && r != Space.ToString())
                    throw new InvalidDataException($"{path}: pre_tokenizer Metaspace replacement '{r}' is not supported (only ▁).");
                if (pre["split"]?.GetValue<bool>() == true)
                    throw new InvalidDataException($"{path}: pre_tokenizer Metaspace with split true is not supported.");
                string scheme = pre["prepend_scheme"]?.GetValue<string>() ?? ((pre["add_prefix_space"]?.GetValue<bool>() ?? true) ? "always" : "never");
                if (scheme is not ("always" or "never"))
                    throw new InvalidDataException($"{path}: pre_tokenizer Metaspace prepend_scheme '{scheme}' is not supported (always, never): chat templates encode the text between special tokens piece by piece.");
                metaspace = replace = true;
                prepend |= scheme == "always";
                break;
            case "Split" when PatternString(pre) == " ":
                break; // spaces are already ▁: nothing left to split on
            default:
                throw new InvalidDataException($"{path}: pre_tokenizer {pre.ToJsonString()} is not supported in a SentencePiece-style tokenizer (none, Metaspace, Split on \" \").");
        }
        if (!replace) throw new InvalidDataException($"{path}: a SentencePiece-style tokenizer (byte_fallback) must turn spaces into ▁ (normalizer Replace or pre_tokenizer Metaspace).");
        bool strip = root["decoder"]?.ToJsonString() is { } d && d.Contains("\"Strip\"", StringComparison.Ordinal);
        string? unk = model["unk_token"]?.GetValue<string>();
        return new SentencePieceStyle(prepend, strip, byteFallback, unk, metaspace);
    }
}
