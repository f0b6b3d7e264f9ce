using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Jepa.Training.Tokenization;
using MlSentencePiece = Microsoft.ML.Tokenizers.SentencePieceTokenizer;

namespace Jepa.Tests.Tokenization;

/// <summary>
/// Jepa's reading of a SentencePiece-style <c>tokenizer.json</c> (Llama 2's layout, as Hugging Face converts a SentencePiece
/// BPE model) against Microsoft.ML.Tokenizers' own SentencePiece BPE over the same model written as a SentencePiece
/// <c>.model</c> file: a random vocabulary (pieces built by random merges, each with one split, scored by creation order so
/// the merge ranks and the scores agree), random texts with runs of spaces and characters outside the vocabulary (byte
/// fallback), the same ids and the same decoded text. Microsoft.ML.Tokenizers 2.0.1 breaks a tie between two overlapping pairs of
/// the same piece ("ddd" with the piece "dd") to the right, where SentencePiece (its <c>bpe_model.cc</c> agenda takes the
/// leftmost pair among equal scores) and Hugging Face's BPE merge to the left; so the texts are also encoded by an independent
/// float-free transcription of SentencePiece's algorithm, which Jepa must match always, and Microsoft.ML.Tokenizers must match
/// on every text without such a tie.
/// </summary>
public sealed class SentencePieceReferenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-spm-ref-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const int FirstPiece = 3 + 256;

    /// <summary>The pieces after the specials and the bytes: the characters, then merged pieces with their one split.</summary>
    private static (List<string> Pieces, List<(string A, string B)> Merges) Vocabulary(int seed, int merges)
    {
        var rng = new Random(seed);
        var pieces = new List<string> { "▁", "a", "b", "c", "d" };
        var set = new HashSet<string>(pieces);
        var splits = new List<(string, string)>();
        bool HasSplit(string p, string exceptA) =>
            Enumerable.Range(1, p.Length - 1).Any(i => p[..i] != exceptA && set.Contains(p[..i]) && set.Contains(p[i..]));
        for (int tries = 0; splits.Count < merges && tries < 100_000; tries++)
        {
            string a = pieces[rng.Next(pieces.Count)], b = pieces[rng.Next(pieces.Count)], p = a + b;
            if (p.Length > 6 || set.Contains(p) || p[1..].Contains('▁') || HasSplit(p, a)) continue;
            // a new piece must not give an existing piece a second split
            if (pieces.Any(q => q.Length > p.Length && ((q.StartsWith(p, StringComparison.Ordinal) && set.Contains(q[p.Length..])) ||
                                                         (q.EndsWith(p, StringComparison.Ordinal) && set.Contains(q[..^p.Length]))))) continue;
            pieces.Add(p);
            set.Add(p);
            splits.Add((a, b));
        }
        Assert.Equal(merges, splits.Count);
        return (pieces, splits);
    }

    /// <summary>The vocabulary as Hugging Face's converter writes a Llama 2 tokenizer.json.</summary>
    private static JsonObject TokenizerJson(List<string> pieces, List<(string A, string B)> merges)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        for (int i = 0; i < pieces.Count; i++) vocab[pieces[i]] = FirstPiece + i;
        JsonObject Special(int id, string content) => new() { ["id"] = id, ["content"] = content, ["special"] = true };
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Special(0, "<unk>"), Special(1, "<s>"), Special(2, "</s>")),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence", ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" }, new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["unk_token"] = "<unk>", ["fuse_unk"] = true, ["byte_fallback"] = true, ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)JsonValue.Create($"{m.A} {m.B}"))]),
            },
        };
    }

    /// <summary>The same vocabulary as a SentencePiece ModelProto (BPE, byte fallback, a dummy prefix, spaces escaped and
    /// kept as they are), each piece scored by its creation order.</summary>
    private static byte[] SentencePieceModel(List<string> pieces)
    {
        static byte[] Message(Action<CodedOutputStream> write)
        {
            using var ms = new MemoryStream();
            var o = new CodedOutputStream(ms);
            write(o);
            o.Flush();
            return ms.ToArray();
        }
        static byte[] Piece(string piece, float score, int type) => Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(piece);
            o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat(score);
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteEnum(type);
        });
        const int Normal = 1, Unknown = 2, Control = 3, ByteType = 6;
        var all = new List<byte[]> { Piece("<unk>", 0, Unknown), Piece("<s>", 0, Control), Piece("</s>", 0, Control) };
        for (int b = 0; b < 256; b++) all.Add(Piece($"<0x{b:X2}>", 0, ByteType));
        for (int i = 0; i < pieces.Count; i++) all.Add(Piece(pieces[i], -i, Normal));
        var trainer = Message(o =>
        {
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteEnum(2);       // model_type BPE
            o.WriteTag(4, WireFormat.WireType.Varint); o.WriteInt32(all.Count);
            o.WriteTag(35, WireFormat.WireType.Varint); o.WriteBool(true);   // byte_fallback
            o.WriteTag(40, WireFormat.WireType.Varint); o.WriteInt32(0);     // unk_id
            o.WriteTag(41, WireFormat.WireType.Varint); o.WriteInt32(1);     // bos_id
            o.WriteTag(42, WireFormat.WireType.Varint); o.WriteInt32(2);     // eos_id
            o.WriteTag(43, WireFormat.WireType.Varint); o.WriteInt32(-1);    // pad_id
        });
        var normalizer = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString("identity");
            o.WriteTag(3, WireFormat.WireType.Varint); o.WriteBool(true);    // add_dummy_prefix
            o.WriteTag(4, WireFormat.WireType.Varint); o.WriteBool(false);   // remove_extra_whitespaces
            o.WriteTag(5, WireFormat.WireType.Varint); o.WriteBool(true);    // escape_whitespaces
        });
        return Message(o =>
        {
            foreach (var p in all) { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(p)); }
            o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(trainer));
            o.WriteTag(3, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(normalizer));
        });
    }

    private static string RandomText(Random rng)
    {
        string[] alphabet = ["a", "a", "b", "b", "c", "c", "d", " ", " ", "é", "z", "😀"];
        var sb = new StringBuilder();
        int n = rng.Next(1, 24);
        for (int i = 0; i < n; i++) sb.Append(alphabet[rng.Next(alphabet.Length)]);
        return sb.ToString();
    }

    /// <summary>SentencePiece's BPE encoding (bpe_model.cc), transcribed: a dummy ▁ in front, spaces as ▁, then repeatedly merge
    /// the adjacent pair whose concatenation is the best-scored piece (earlier pieces score higher), the leftmost on a tie;
    /// symbols that are not pieces become their UTF-8 byte tokens. Also says whether two overlapping pairs ever tied.</summary>
    private static (List<int> Ids, bool OverlappingTie) SentencePieceEncode(string text, List<string> pieces)
    {
        var rank = pieces.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i);
        var symbols = new List<string>();
        string normalized = "▁" + text.Replace(' ', '▁');
        for (int i = 0; i < normalized.Length; i += char.IsSurrogatePair(normalized, i) ? 2 : 1)
            symbols.Add(normalized.Substring(i, char.IsSurrogatePair(normalized, i) ? 2 : 1));
        bool tie = false;
        while (true)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (rank.TryGetValue(symbols[i] + symbols[i + 1], out int r))
                {
                    if (r < bestRank) (best, bestRank) = (i, r);
                    else if (r == bestRank && i == best + 1) tie = true;
                }
            if (best < 0) break;
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
        var ids = new List<int>();
        foreach (string sym in symbols)
            if (rank.TryGetValue(sym, out int r)) ids.Add(FirstPiece + r);
            else ids.AddRange(Encoding.UTF8.GetBytes(sym).Select(b => 3 + b));
        return (ids, tie);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomTextsEncodeAndDecodeAsMicrosoftMlTokenizersSentencePieceDoes(int seed)
    {
        var (pieces, merges) = Vocabulary(seed, 40);
        string path = Path.Combine(_dir, $"tokenizer-{seed}.json");
        File.WriteAllText(path, TokenizerJson(pieces, merges).ToJsonString());
        var jepa = BpeTokenizer.Load(path);
        using var model = new MemoryStream(SentencePieceModel(pieces));
        var reference = MlSentencePiece.Create(model, false, false);
        var rng = new Random(100 + seed);
        int multiPiece = 0, ties = 0;
        for (int i = 0; i < 300; i++)
        {
            string text = RandomText(rng);
            var got = jepa.Encode(text);
            var (sentencePiece, tie) = SentencePieceEncode(text, pieces);
            Assert.True(sentencePiece.SequenceEqual(got), $"'{text}': SentencePiece [{string.Join(", ", sentencePiece)}], Jepa [{string.Join(", ", got)}]");
            var ml = reference.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);
            if (tie) ties++;
            else Assert.True(ml.SequenceEqual(got), $"'{text}': Microsoft.ML.Tokenizers [{string.Join(", ", ml)}], Jepa [{string.Join(", ", got)}]");
            Assert.Equal(reference.Decode(ml), jepa.Decode(got));
            Assert.Equal(text, jepa.Decode(got));
            multiPiece += got.Count(id => id >= FirstPiece && pieces[id - FirstPiece].Length > 1);
        }
        Assert.True(multiPiece > 300, $"the texts exercise the merges ({multiPiece} merged pieces)");
        Assert.True(ties < 30, $"most texts have no overlapping tie ({ties} of 300 do)");
    }
}
