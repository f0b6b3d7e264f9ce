namespace Jepa.Training.Objective;

/// <summary>
/// Where a batch's embeddings of one view come from in the flattened [B·T] hidden states: <see cref="Rows"/> lists
/// the embedding tokens' rows, example after example, and example b's embedding is the mean of rows
/// <c>Rows[Offsets[b] .. Offsets[b + 1])</c>. <see cref="Offsets"/> is null when every example embeds at one token
/// (then <c>Rows[b]</c> is example b's row).
/// </summary>
/// <param name="Rows">The rows, grouped by example.</param>
/// <param name="Offsets">The start of each example's rows in <paramref name="Rows"/>, and their end [B + 1]; null: one row each.</param>
public sealed record ViewRows(int[] Rows, int[]? Offsets)
{
    /// <summary>No rows (a batch without view passes).</summary>
    public static ViewRows None { get; } = new([], null);

    /// <summary>The rows of spans (first index, count) of the view rows that start at <paramref name="start"/>.</summary>
    public static ViewRows Of(int[] start, (int At, int Count)[] spans)
    {
        if (spans.All(s => s.Count == 1)) return new([.. start.Select((s, b) => s + spans[b].At)], null);
        var offsets = new int[spans.Length + 1];
        for (int b = 0; b < spans.Length; b++) offsets[b + 1] = offsets[b] + spans[b].Count;
        var rows = new int[offsets[^1]];
        for (int b = 0; b < spans.Length; b++)
            for (int i = 0; i < spans[b].Count; i++) rows[offsets[b] + i] = start[b] + spans[b].At + i;
        return new(rows, offsets);
    }
}
