using System.IO.Compression;
using System.Reflection;
using Jepa.Training.Tokenization;
using BpeTokenizer = Jepa.Training.Tokenization.BpeTokenizer;
using TiktokenTokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer;

namespace Jepa.Tests.Tokenization;

/// <summary>
/// Checks the tokenizer.json loader on a real model vocabulary: OpenAI's cl100k_base (GPT-4), shipped by the
/// Microsoft.ML.Tokenizers.Data.Cl100kBase package as tiktoken ranks. The ranks are converted to a byte-level BPE
/// tokenizer.json (vocab = rank, merges derived as the Hugging Face conversion does), loaded back with
/// <see cref="BpeTokenizer.Load"/> and compared with Microsoft.ML.Tokenizers' own encoder on texts where
/// the GPT-2 pre-tokenizer regex and cl100k's regex split alike.
/// </summary>
public sealed class RealVocabularyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-cl100k-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, int> Cl100kRanks() => Ranks("Microsoft.ML.Tokenizers.Data.Cl100kBase", "cl100k_base.tiktoken.deflate");

    /// <summary>The tiktoken ranks a Microsoft.ML.Tokenizers data package ships, as byte-level token strings.</summary>
    internal static Dictionary<string, int> Ranks(string assembly, string resource)
    {
        var asm = Assembly.Load(assembly);
        using var s = asm.GetManifestResourceStream(resource)!;
        using var r = new StreamReader(new DeflateStream(s, CompressionMode.Decompress));
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        // The packaged form: a "Capacity: N" header, then one base64 token per line (rank = line index),
        // or the plain tiktoken form "base64 rank".
        int next = 0;
        while (r.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            int sp = line.IndexOf(' ');
            var bytes = Convert.FromBase64String(sp > 0 ? line[..sp] : line);
            int rank = sp > 0 ? int.Parse(line[(sp + 1)..]) : next;
            ranks[string.Concat(bytes.Select(ByteLevel.Char))] = rank;
            next = rank + 1;
        }
        return ranks;
    }

    /// <summary>Merge pair of a multi-byte token: byte-pair-encode its bytes with the lower ranks until two parts remain.</summary>
    /// <summary>The merges of a tiktoken vocabulary in rank order, derived as the Hugging Face conversion does.</summary>
    internal static List<(string, string)> MergesOf(Dictionary<string, int> ranks) =>
        ranks.Where(kv => kv.Key.Length > 1).OrderBy(kv => kv.Value).Select(kv => MergeOf(kv.Key, kv.Value, ranks)).ToList();

    private static (string, string) MergeOf(string token, int rank, Dictionary<string, int> ranks)
    {
        var parts = token.Select(c => c.ToString()).ToList();
        while (parts.Count > 2)
        {
            int best = int.MaxValue, at = -1;
            for (int i = 0; i + 1 < parts.Count; i++)
                if (ranks.TryGetValue(parts[i] + parts[i + 1], out int q) && q < rank && q < best) { best = q; at = i; }
            if (at < 0) break;
            parts[at] += parts[at + 1];
            parts.RemoveAt(at + 1);
        }
        Assert.Equal(2, parts.Count);
        return (parts[0], parts[1]);
    }

    [Fact]
    public void LoadedCl100kTokenizerJsonMatchesMicrosoftMlTokenizers()
    {
        var ranks = Cl100kRanks();
        var merges = MergesOf(ranks);
        var built = new BpeTokenizer(ranks, merges, new Dictionary<string, int> { ["<|endoftext|>"] = 100257 }).WithJepaSpecials(predictorTokens: 2);
        string path = Path.Combine(_dir, "tokenizer.json");
        built.Save(path);
        var t = BpeTokenizer.Load(path);

        Assert.Equal([9906, 1917], t.Encode("Hello world"));
        var reference = TiktokenTokenizer.CreateForModel("gpt-4");
        foreach (string s in new[] { "Hello world", "The quick brown fox jumps over the lazy dog.", "lines containing the word dog", " tokenization, naïve café — ok?", "Mixed CASE words and   spaces" })
        {
            Assert.Equal(reference.EncodeToIds(s).ToArray(), t.Encode(s));
            Assert.Equal(s, t.Decode(t.Encode(s)));
        }
        Assert.Equal(100258, t.Special.Pad);
        Assert.Equal(100258 + 7 + 2, t.VocabSize);
    }
}
