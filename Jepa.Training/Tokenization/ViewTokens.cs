namespace Jepa.Training.Tokenization;

/// <summary>
/// One view of a pair example (the user turn holding the Text, or the assistant turn holding the Code) as token ids
/// in three parts: <paramref name="Head"/> (BOS and the turn's header), <paramref name="Content"/> (the message) and
/// <paramref name="Tail"/> (the end of the turn, e.g. the end-of-turn token). Keeping the parts apart lets the JEPA
/// layout put predictor tokens inside the turn and name the embedded token by meaning.
/// </summary>
public sealed record ViewTokens(int[] Head, int[] Content, int[] Tail)
{
    /// <summary>Tokens in all.</summary>
    public int Length => Head.Length + Content.Length + Tail.Length;

    /// <summary>The view as one sequence: head, content, tail.</summary>
    public int[] Ids => [.. Head, .. Content, .. Tail];

    /// <summary>The view cut to at most <paramref name="maxLength"/> tokens: the content loses its end first, so the
    /// header and the end of the turn stay; only when those alone are longer is the whole sequence cut from the end
    /// (then all of it counts as head).</summary>
    public ViewTokens CutTo(int maxLength)
    {
        if (Length <= maxLength) return this;
        int room = maxLength - Head.Length - Tail.Length;
        return room >= 0 ? this with { Content = Content[..room] } : new ViewTokens(Ids[..maxLength], [], []);
    }
}
