using Jepa.Core;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Jepa.RegexTask;

/// <summary>
/// Generates (description, regex) pairs in the style of NL-RX-SYNTH (Locascio et al., 2016): trees of
/// character classes (a number, a capital letter, a lower-case letter, a letter, a vowel, a character,
/// the strings 'dog', 'truck', 'ring', 'lake'), functions (containing, starting with, ending with, words
/// with, followed by), modifiers (at least once, n or more times, zero or more times, containing only)
/// and compositions (or, and, not, before, three-way either/or and and), described in English and written
/// as regexes with the corpus' templates, phrase clean-ups and filters. Every regex parses with
/// <see cref="RegexParser"/>.
/// </summary>
/// <remarks>
/// Deterministic and counter-based: example <c>i</c> of a seed draws only from the Philox stream
/// (seed, <see cref="StreamTag"/> + i), so it is the same whatever the count and can be computed alone.
/// The corpus grew trees at three size settings (depth limit, node budget) — (1, 4), (2, 5), (3, 7) — with
/// 10,000, 600,000 and 70,000 draws, filtered them and kept one pair per description; its data set is a
/// sample of what was kept. Here each example draws a setting in those proportions, grows a tree, keeps
/// it with a probability that undoes the over-representation of frequent trees (so that trees come out in
/// about the proportion the deduplicated corpus holds them in), and redraws, further along its stream,
/// until a tree is kept and passes the filters. Measured against the 10,000 NL-RX-SYNTH lines: the mean
/// regex length (26 characters) and the frequency of each phrase ("before", "or", "and", "not", "words
/// with", …) agree within about two percentage points, and about half the generated pairs occur verbatim
/// in the data set. Examples are not deduplicated against one another (that would tie example i to all
/// earlier ones): about 97 % of the descriptions of 1,000 examples are distinct, 76 % of 10,000.
/// </remarks>
public static class RegexPairGenerator
{
    /// <summary>The system message of the chat format, as in the data set.</summary>
    public const string SystemPrompt = "Convert natural language to regular expression.";

    /// <summary>High bits of the Philox stream of every example, keeping these draws apart from other users of a seed.</summary>
    public const ulong StreamTag = 0x5245_4758UL << 32; // "REGX"

    private static readonly (int MaxDepth, int MaxTotal, int Draws)[] Sizes = [(1, 4, 10_000), (2, 5, 600_000), (3, 7, 70_000)];

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Examples 0 .. <paramref name="count"/> − 1 of <paramref name="seed"/>, generated lazily.</summary>
    public static IEnumerable<RegexPair> Generate(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        for (int i = 0; i < count; i++) yield return Example(seed, i);
    }

    /// <summary>Example <paramref name="index"/> of <paramref name="seed"/>.</summary>
    public static RegexPair Example(ulong seed, long index)
    {
        if (index is < 0 or > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(index), index, "Example index must be in [0, 2^32).");
        var rng = new SynthRandom(seed, StreamTag | (ulong)index);
        double totalDraws = Sizes.Sum(s => (double)s.Draws);
        while (true)
        {
            // The size setting, in proportion to the corpus' number of draws at each.
            double u = rng.NextDouble() * totalDraws;
            int pick = 0;
            while (pick < Sizes.Length - 1 && u >= Sizes[pick].Draws) u -= Sizes[pick++].Draws;
            var (maxDepth, maxTotal, _) = Sizes[pick];
            var top = SynthGrammar.GrowChildren(SynthGrammar.RootSlots, 0, 0, 0, maxDepth, maxTotal, ref rng);
            if (top is null) continue;
            // The corpus drew 680,000 trees and kept one pair per description, so a tree is in it with probability
            // about min(1, λ), where λ = c·Σ draws_k·p_k(tree) is its expected number of kept draws (c = 1/2 for
            // three-way and/or trees, half of which the corpus drops; 1 otherwise). Keeping a drawn tree with
            // probability c·min(1, 1/λ) produces trees in that proportion (plain arithmetic, no library
            // function whose last bit could differ between machines).
            double c = SynthGrammar.HasThreeWay(top[0]) ? 0.5 : 1.0;
            double lambda = 0;
            foreach (var (d, t, draws) in Sizes)
                lambda += draws * SynthGrammar.Probability(SynthGrammar.RootSlots, top, 0, 0, 0, d, t);
            lambda *= c;
            double keep = lambda <= 1 ? c : c / lambda;
            if (rng.NextDouble() >= keep) continue;
            string text = SynthGrammar.Describe(top[0]);
            if (!SynthGrammar.IsWellFormed(top[0], text)) continue;
            return new RegexPair(text, SynthGrammar.Regex(top[0]));
        }
    }

    /// <summary>
    /// One line of the chat "messages" format of the data set:
    /// <c>{"messages":[{"role":"system",...},{"role":"user","content":Text},{"role":"assistant","content":Code}]}</c>,
    /// compact (the data set, written by Python, has a space after each ':' and ','; the JSON values are the same).
    /// Quotes, <c>&amp;</c> and <c>+</c> are written as themselves, not as \u escapes.
    /// </summary>
    public static string ToChatJson(RegexPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var messages = new ChatLine([
            new ChatMessage("system", SystemPrompt),
            new ChatMessage("user", pair.Text),
            new ChatMessage("assistant", pair.Code),
        ]);
        return JsonSerializer.Serialize(messages, JsonOptions);
    }

    /// <summary>
    /// Writes examples 0 .. <paramref name="count"/> − 1 of <paramref name="seed"/> to <paramref name="path"/> as
    /// JSON lines (<see cref="ToChatJson"/>, UTF-8, '\n' endings). The file is written to a temporary file in
    /// the same folder and renamed over <paramref name="path"/>, so readers never see a partial file.
    /// </summary>
    public static void WriteJsonl(string path, int count, ulong seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.NewLine = "\n";
            foreach (var pair in Generate(count, seed)) writer.WriteLine(ToChatJson(pair));
        });
    }

    private sealed record ChatMessage(
        [property: System.Text.Json.Serialization.JsonPropertyName("role")] string Role,
        [property: System.Text.Json.Serialization.JsonPropertyName("content")] string Content);

    private sealed record ChatLine([property: System.Text.Json.Serialization.JsonPropertyName("messages")] ChatMessage[] Messages);
}
