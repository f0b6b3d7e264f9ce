using Jepa.Cli.Options;
using Jepa.Training.Objective;

namespace Jepa.Cli.Support;

/// <summary>The options that lay a view out for the JEPA embedding, shared by <c>train</c> and <c>embed</c>: where the
/// [PRED] tokens go and which token embeds each view, by meaning.</summary>
public static class JepaLayoutOptions
{
    private static readonly string[] Tokens = ["auto", "last-content", "last-predictor", "end", "last", "mean"];

    /// <summary>--placement.</summary>
    public static OptionSpec Placement { get; } = OptionSpec.Choice("placement",
        "where the [PRED] tokens go: inside the turn after the message (the paper), after the end-of-turn token, or in front of the message",
        "in-turn", "in-turn", "after-turn", "front");

    /// <summary>--text-token.</summary>
    public static OptionSpec TextToken { get; } = OptionSpec.Choice("text-token",
        "token embedding the Text view; auto: its last [PRED] (its last content token with k 0 or front placement)", "auto", Tokens);

    /// <summary>--code-token.</summary>
    public static OptionSpec CodeToken { get; } = OptionSpec.Choice("code-token",
        "token embedding the Code view; auto: its last content token (its last [PRED] with --reverse-pred); mean: the mean over its message's tokens", "auto", Tokens);

    /// <summary>--last-token.</summary>
    public static OptionSpec LastToken { get; } = new("last-token", "-n",
        "the paper's last_token: embed both views at this offset from the end of the laid-out view, overriding the token options", "unset");

    /// <summary><paramref name="o"/> with the layout options of <paramref name="a"/> applied (options not given keep their value).</summary>
    public static JepaOptions From(ParsedArgs a, JepaOptions o)
    {
        var placement = a.Choice("placement") switch
        {
            "after-turn" => PredictorPlacement.AfterTurn,
            "front" => PredictorPlacement.Front,
            "in-turn" => PredictorPlacement.InTurn,
            _ => o.Placement,
        };
        if (a.Flag("front-pred"))
        {
            if (a.Choice("placement") is { } p && p != "front") throw new UsageException($"--front-pred contradicts --placement {p}.");
            placement = PredictorPlacement.Front;
        }
        return o with
        {
            Placement = placement,
            TextToken = Token(a.Choice("text-token")) ?? o.TextToken,
            CodeToken = a.Table.Options.Any(s => s.Name == "code-token") ? Token(a.Choice("code-token")) ?? o.CodeToken : o.CodeToken,
            LastTokenOffset = a.Int("last-token") ?? o.LastTokenOffset,
        };
    }

    private static EmbedToken? Token(string? name) => name switch
    {
        null => null,
        "last-content" => EmbedToken.LastContent,
        "last-predictor" => EmbedToken.LastPredictor,
        "end" => EmbedToken.End,
        "last" => EmbedToken.Last,
        "mean" => EmbedToken.Mean,
        _ => EmbedToken.Auto,
    };
}
