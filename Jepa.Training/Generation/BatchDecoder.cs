using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Training.Generation;

/// <summary>
/// The scheduler of <see cref="Generator.GenerateBatch"/>. Decoding is exact per sequence because every step of one
/// sequence runs the same arithmetic as decoding it alone: matrix products, norms and activations treat rows
/// independently, and cached attention reads only the sequence's own cache row up to its own position, in position
/// order, however the positions before it were filled (in one pass, several, or copied from another cache). What the
/// sequences of one forward pass must share is the cache's position, so the prompts are taken in sweeps:
/// <list type="number">
/// <item>A sweep holds a cache of up to <c>batchSize</c> rows and visits the pending prompts by length (then index).
/// While rows are decoding, the cache's position t advances one token per pass; when none is, it jumps to the next
/// prompt's length.</item>
/// <item>At position t, the prompts of t tokens fill the free rows: they are prefilled together (the tokens all
/// prompts begin with once for all, copied in; the rest in one pass), each takes its first token from its last
/// position, and those that go on have their keys and values copied into the next free rows.</item>
/// <item>A pass feeds each decoding row its last token at position t; a row that samples a stop token or reaches the
/// token limit (the same test as one prompt alone) is done. The decoding rows are kept first in the cache (the last
/// ones move into the places of those done), so a pass computes only them.</item>
/// <item>Prompts passed over (shorter than t when they came up, or met no free row) wait for the next sweep.</item>
/// </list>
/// </summary>
internal sealed class BatchDecoder(LlamaModel model, IReadOnlyList<int[]> prompts, GenerateOptions options,
    IReadOnlyCollection<int> stopTokens, int batchSize, Action<int, int[]>? finished, CancellationToken cancellation)
{
    private readonly int[][] _results = new int[prompts.Count][];

    /// <summary>The keys and values of the prefix every prompt shares (one sequence), or null.</summary>
    private KvCache? _prefix;

    /// <summary>Decodes every prompt; returns their tokens in prompt order.</summary>
    public int[][] Run()
    {
        using var prefix = SharedPrefix();
        _prefix = prefix;
        var pending = Enumerable.Range(0, prompts.Count).OrderBy(i => prompts[i].Length).ThenBy(i => i).ToList();
        while (pending.Count > 0) pending = Sweep(pending);
        return _results;
    }

    /// <summary>With several prompts, the keys and values of the tokens they all begin with (short of each one's last
    /// token), computed once; null when there are none or only one prompt.</summary>
    private KvCache? SharedPrefix()
    {
        if (prompts.Count < 2) return null;
        int[] first = prompts[0];
        int p = prompts.Min(q => q.Length) - 1;
        foreach (var q in prompts) p = first.AsSpan(0, p).CommonPrefixLength(q);
        if (p == 0) return null;
        var cache = new KvCache(model.Device, model.Config, 1, p);
        try
        {
            using var tape = new Tape(model.Ops, recordGradients: false);
            model.ForwardCached(tape, cache, first[..p], p);
            return cache;
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>One sweep over <paramref name="queue"/> (sorted by length, then index); returns the prompts it passed over, in the same order.</summary>
    private List<int> Sweep(List<int> queue)
    {
        int slots = Math.Min(batchSize, queue.Count);
        // The last position fed is below both the model's length and the longest prompt + MaxNewTokens − 1.
        int capacity = Math.Min(model.Config.MaxLength, prompts[queue[^1]].Length + options.MaxNewTokens - 1);
        using var cache = new KvCache(model.Device, model.Config, slots, capacity);
        var live = new List<Row>(slots); // live[s] decodes in the cache's row s: the decoding rows are always the first ones
        var passedOver = new List<int>();
        int next = 0;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            if (live.Count == 0)
            {
                if (next == queue.Count) break;
                cache.Length = prompts[queue[next]].Length; // no row holds anything: start at the next prompt
            }
            int t = cache.Length, end = next;
            while (next < queue.Count && prompts[queue[next]].Length < t) passedOver.Add(queue[next++]);
            while (end < queue.Count && prompts[queue[end]].Length == t) end++;
            while (next < end && live.Count < slots)
            {
                int take = Math.Min(end - next, slots - live.Count);
                Join(queue.GetRange(next, take), cache, live);
                next += take;
            }
            if (live.Count > 0) Step(cache, live);
        }
        return passedOver;
    }

    /// <summary>Prefills <paramref name="group"/> (prompts of cache.Length tokens) together, takes each one's first
    /// token, and appends those that go on to <paramref name="live"/>, their keys and values copied into the cache's
    /// next free rows. The shared prefix is copied in, not computed again: the queries after it see the same keys and
    /// values, in the same order, as in one pass over the whole prompt.</summary>
    private void Join(List<int> group, KvCache cache, List<Row> live)
    {
        int m = group.Count, n = cache.Length, p = _prefix?.Length ?? 0, tq = n - p, v = model.Config.VocabSize;
        using var prefill = new KvCache(model.Device, model.Config, m, n);
        if (_prefix is not null)
        {
            for (int j = 0; j < m; j++) prefill.CopyRow(_prefix, 0, j, p);
            prefill.Length = p;
        }
        var tokens = new int[m * tq];
        for (int j = 0; j < m; j++) prompts[group[j]].AsSpan(p).CopyTo(tokens.AsSpan(j * tq));
        float[] logits;
        using (var tape = new Tape(model.Ops, recordGradients: false))
        {
            var h = model.ForwardCached(tape, prefill, tokens, tq);
            var last = tape.GatherRows(h, Enumerable.Range(0, m).Select(j => j * tq + tq - 1).ToArray());
            logits = model.Logits(tape, last).Value.ToArray();
        }
        for (int j = 0; j < m; j++)
        {
            var row = new Row(group[j], n);
            if (!Advance(row, logits.AsSpan(j * v, v))) continue;
            cache.CopyRow(prefill, j, live.Count, n);
            live.Add(row);
        }
    }

    /// <summary>One forward pass of the decoding rows, each fed its last token at position cache.Length; the rows
    /// that finish leave <paramref name="live"/>, and the last rows that go on move into their places.</summary>
    private void Step(KvCache cache, List<Row> live)
    {
        int v = model.Config.VocabSize;
        float[] logits;
        using (var tape = new Tape(model.Ops, recordGradients: false))
            logits = model.Logits(tape, model.ForwardCached(tape, cache, live.Select(r => r.Last).ToArray(), 1)).Value.ToArray();
        var goesOn = new bool[live.Count];
        for (int s = 0; s < live.Count; s++) goesOn[s] = Advance(live[s], logits.AsSpan(s * v, v));
        int last = live.Count - 1;
        for (int s = 0; s <= last; s++)
        {
            if (goesOn[s]) continue;
            while (last > s && !goesOn[last]) last--;
            if (last == s)
            {
                last--;
                break;
            }
            cache.CopyRow(cache, last, s, cache.Length);
            live[s] = live[last--];
        }
        live.RemoveRange(last + 1, live.Count - last - 1);
    }

    /// <summary>Samples <paramref name="row"/>'s next token from <paramref name="logits"/>; returns true while it goes on,
    /// else records its result. The same test as decoding the prompt alone: stop at a stop token, after MaxNewTokens
    /// tokens, or when the next token's position would not fit the model.</summary>
    private bool Advance(Row row, ReadOnlySpan<float> logits)
    {
        int token = Sampler.Next(logits, options, row.Output.Count);
        if (!stopTokens.Contains(token))
        {
            row.Output.Add(token);
            if (row.Output.Count < options.MaxNewTokens && row.PromptLength + row.Output.Count <= model.Config.MaxLength) return true;
        }
        var result = row.Output.ToArray();
        _results[row.Index] = result;
        finished?.Invoke(row.Index, result);
        return false;
    }

    /// <summary>A sequence being decoded: its prompt's index and length, and the tokens so far.</summary>
    private sealed class Row(int index, int promptLength)
    {
        public int Index { get; } = index;

        public int PromptLength { get; } = promptLength;

        public List<int> Output { get; } = [];

        /// <summary>The token to feed next (the last one generated).</summary>
        public int Last => Output[^1];
    }
}
