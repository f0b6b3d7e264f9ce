namespace Jepa.Training.Tokenization;

/// <summary>
/// Trains a <see cref="BpeTokenizer"/> on text, GPT-2 style: texts are split by the GPT-2 pre-tokenizer
/// regex (<see cref="ByteLevel.Pattern"/>), so merges never cross word boundaries; every piece starts as its
/// UTF-8 bytes (ids 0–255 in byte order, as byte-level characters); then the most frequent adjacent pair is
/// merged repeatedly. Deterministic: ties in frequency go to the ordinally smallest (left, right) pair.
/// Ids: 256 bytes, then merged tokens in merge order, then the special tokens of <see cref="ByteTokenizer"/>.
/// </summary>
public static class BpeTrainer
{
    /// <summary>
    /// Learns merges on <paramref name="texts"/> until the tokenizer's total <see cref="ITokenizer.VocabSize"/>
    /// (bytes + merges + 7 specials + <paramref name="predictorTokens"/>) reaches <paramref name="vocabSize"/>,
    /// or no pair occurs at least <paramref name="minFrequency"/> times.
    /// </summary>
    public static BpeTokenizer Train(IEnumerable<string> texts, int vocabSize, int predictorTokens = SpecialTokens.DefaultPredictorCount, int minFrequency = 2)
    {
        if (predictorTokens < 0 || predictorTokens > 64)
            throw new ArgumentOutOfRangeException(nameof(predictorTokens), predictorTokens, "Predictor tokens must be between 0 and 64.");
        int fixedCount = 256 + ByteTokenizer.SpecialNames.Count + predictorTokens;
        if (vocabSize < fixedCount)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"BPE vocabulary size must be at least {fixedCount} (256 bytes + {ByteTokenizer.SpecialNames.Count} specials + {predictorTokens} predictors).");
        if (minFrequency < 1) throw new ArgumentOutOfRangeException(nameof(minFrequency), minFrequency, "Minimum pair frequency must be at least 1.");

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string text in texts)
            foreach (string piece in ByteLevel.PreTokenize(text))
            {
                string w = ByteLevel.Encode(piece);
                counts[w] = counts.GetValueOrDefault(w) + 1;
            }
        // Distinct words in ordinal order, so everything below is independent of dictionary order.
        var words = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Syms: kv.Key.Select(c => c.ToString()).ToList(), Count: kv.Value)).ToList();

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++) vocab[ByteLevel.Char((byte)b).ToString()] = b;
        var merges = new List<(string, string)>();
        int target = vocabSize - ByteTokenizer.SpecialNames.Count - predictorTokens;
        var pairs = new Dictionary<(string, string), long>();
        while (vocab.Count < target)
        {
            pairs.Clear();
            foreach (var (syms, n) in words)
                for (int i = 0; i + 1 < syms.Count; i++)
                {
                    var p = (syms[i], syms[i + 1]);
                    pairs[p] = pairs.GetValueOrDefault(p) + n;
                }
            (string L, string R) best = default;
            long bestCount = 0;
            foreach (var (p, n) in pairs)
                if (n > bestCount || (n == bestCount && Less(p, best))) { best = p; bestCount = n; }
            if (bestCount < minFrequency) break;
            string merged = best.L + best.R;
            merges.Add(best);
            vocab.TryAdd(merged, vocab.Count);
            foreach (var (syms, _) in words)
                for (int i = 0; i + 1 < syms.Count; i++)
                    if (syms[i] == best.L && syms[i + 1] == best.R) { syms[i] = merged; syms.RemoveAt(i + 1); }
        }
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        int next = vocab.Count;
        foreach (string s in ByteTokenizer.SpecialNames) added[s] = next++;
        for (int i = 1; i <= predictorTokens; i++) added[BpeTokenizer.PredictorName(i)] = next++;
        return new BpeTokenizer(vocab, merges, added);
    }

    private static bool Less((string L, string R) a, (string L, string R) b)
    {
        int c = string.CompareOrdinal(a.L, b.L);
        return c < 0 || (c == 0 && string.CompareOrdinal(a.R, b.R) < 0);
    }
}
