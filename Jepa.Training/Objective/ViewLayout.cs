using Jepa.Training.Tokenization;

namespace Jepa.Training.Objective;

/// <summary>
/// A view laid out for the JEPA passes: its ids with the predictor tokens placed, and the index of every token a
/// view can be embedded at. Indices are −1 where the view has no such token (no predictors, no end of turn).
/// </summary>
/// <param name="Ids">The view's tokens, predictors included.</param>
/// <param name="LastContent">The last token of the message (the last header token when the message is empty; with
/// front placement, the last predictor then).</param>
/// <param name="LastPredictor">The last predictor token, or −1.</param>
/// <param name="End">The first token of the turn's end (the end-of-turn token), or −1.</param>
/// <param name="FirstContent">The first token of the message (<paramref name="LastContent"/> when the message is empty).</param>
public sealed record ViewLayout(int[] Ids, int LastContent, int LastPredictor, int End, int FirstContent)
{
    /// <summary>
    /// Lays out <paramref name="view"/> with the first <paramref name="k"/> of <paramref name="predictors"/> at
    /// <paramref name="placement"/>, cutting the message's end first so that the result has at most <paramref name="maxLength"/> tokens.
    /// </summary>
    public static ViewLayout Of(ViewTokens view, IReadOnlyList<int> predictors, int k, PredictorPlacement placement, int maxLength)
    {
        if (k > maxLength) throw new ArgumentException($"{k} predictor tokens do not fit in {maxLength} tokens.");
        view = view.CutTo(maxLength - k);
        int[] preds = predictors.Take(k).ToArray();
        int h = view.Head.Length, c = view.Content.Length;
        int tailAt;
        int[] ids;
        int lastContent, lastPred, firstContent;
        switch (placement)
        {
            case PredictorPlacement.InTurn:
                ids = [.. view.Head, .. view.Content, .. preds, .. view.Tail];
                lastContent = h + c - 1;
                firstContent = h;
                lastPred = k > 0 ? h + c + k - 1 : -1;
                tailAt = h + c + k;
                break;
            case PredictorPlacement.AfterTurn:
                ids = [.. view.Head, .. view.Content, .. view.Tail, .. preds];
                lastContent = h + c - 1;
                firstContent = h;
                lastPred = k > 0 ? ids.Length - 1 : -1;
                tailAt = h + c;
                break;
            case PredictorPlacement.Front:
                ids = [.. view.Head, .. preds, .. view.Content, .. view.Tail];
                lastContent = h + k + c - 1;
                firstContent = h + k;
                lastPred = k > 0 ? h + k - 1 : -1;
                tailAt = h + k + c;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(placement), placement, "Unknown predictor placement.");
        }
        return new ViewLayout(ids, lastContent, lastPred, view.Tail.Length > 0 ? tailAt : -1, c > 0 ? firstContent : lastContent);
    }

    /// <summary>The tokens whose states embed the view for <paramref name="token"/> (never <see cref="EmbedToken.Auto"/>: resolve
    /// it first): the first index and the count — one token, or with <see cref="EmbedToken.Mean"/> every token of the message.</summary>
    /// <exception cref="ArgumentException">The view has no such token; the message names the view (<paramref name="what"/>).</exception>
    public (int At, int Count) SpanOf(EmbedToken token, string what) =>
        token == EmbedToken.Mean ? (FirstContent, LastContent - FirstContent + 1) : (IndexOf(token, what), 1);

    /// <summary>The index of <paramref name="token"/> (never <see cref="EmbedToken.Auto"/> or <see cref="EmbedToken.Mean"/>).</summary>
    /// <exception cref="ArgumentException">The view has no such token; the message names the view (<paramref name="what"/>).</exception>
    public int IndexOf(EmbedToken token, string what)
    {
        int i = token switch
        {
            EmbedToken.LastContent => LastContent,
            EmbedToken.LastPredictor => LastPredictor,
            EmbedToken.End => End,
            EmbedToken.Last => Ids.Length - 1,
            _ => throw new ArgumentOutOfRangeException(nameof(token), token, "Resolve EmbedToken.Auto before asking for an index; EmbedToken.Mean has a span, not an index."),
        };
        if (i < 0) throw new ArgumentException($"{what} has no {Name(token)} token to embed.");
        return i;
    }

    /// <summary>The index at offset <paramref name="offset"/> from the end (−1: the last token), the paper's <c>last_token</c>.</summary>
    public int AtOffset(int offset, string what)
    {
        int i = Ids.Length + offset;
        if (i < 0) throw new ArgumentException($"{what} has {Ids.Length} tokens, too few for last-token offset {offset}.");
        return i;
    }

    /// <summary>The option spelling of <paramref name="token"/> (e.g. <c>last-predictor</c>).</summary>
    public static string Name(EmbedToken token) => token switch
    {
        EmbedToken.Auto => "auto",
        EmbedToken.LastContent => "last-content",
        EmbedToken.LastPredictor => "last-predictor",
        EmbedToken.End => "end",
        EmbedToken.Last => "last",
        EmbedToken.Mean => "mean",
        _ => token.ToString(),
    };
}
