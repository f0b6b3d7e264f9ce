using Jepa.Kernels;
using Jepa.Training.Tokenization;

namespace Jepa.Training.Objective;

/// <summary>How the two view embeddings are computed.</summary>
public enum ViewEncoding
{
    /// <summary>Two extra forward passes, one per view (the paper's default).</summary>
    Separate,
    /// <summary>One extra pass over [Text+PRED ‖ Code] with block-causal attention through per-token segment ids.</summary>
    Single,
}

/// <summary>What the target view's embedding is taken from.</summary>
public enum TargetEncoder
{
    /// <summary>The model itself, with gradients through both views (the paper).</summary>
    Shared,
    /// <summary>The model itself, but no gradient flows into the target embedding.</summary>
    StopGradient,
    /// <summary>An exponential moving average of the model's weights, as in I-JEPA (no gradient).</summary>
    Ema,
}

/// <summary>Where the k predictor tokens go in the predicting view.</summary>
public enum PredictorPlacement
{
    /// <summary>After the view's content, inside its turn, before the end-of-turn token (the paper's code appends them to the message).</summary>
    InTurn,
    /// <summary>After the whole turn, behind its end-of-turn token (this project's layout before the paper's was reproduced).</summary>
    AfterTurn,
    /// <summary>In front of the content, after the turn's header (the paper's <c>front_pred</c>).</summary>
    Front,
}

/// <summary>Which token's final hidden state embeds a view, by meaning.</summary>
public enum EmbedToken
{
    /// <summary>The predicting view: its last predictor token (its last content token with front placement or k = 0); the
    /// target view: its last content token. This is what the paper's runs embed (<c>last_token = −2</c> with its layout).</summary>
    Auto,
    /// <summary>The last token of the message itself.</summary>
    LastContent,
    /// <summary>The last predictor token (only on the view that carries them, with k &gt; 0).</summary>
    LastPredictor,
    /// <summary>The end-of-turn token (the first token after the content and any in-turn predictors).</summary>
    End,
    /// <summary>The view's last token, whatever it is.</summary>
    Last,
    /// <summary>The mean of the states of every token of the message itself (not its header, predictors or end). Not on a
    /// view with predictor tokens, whose states the message's tokens cannot see.</summary>
    Mean,
}

/// <summary>
/// The LLM-JEPA objective: L = γ·L_LLM + λ·d(Pred(Enc(Text)), Enc(Code)), with every option of the paper's code.
/// λ = 0 is the plain next-token baseline (no extra passes).
/// </summary>
public sealed record JepaOptions
{
    /// <summary>γ, the weight of the next-token loss.</summary>
    public float Gamma { get; init; } = 1f;

    /// <summary>λ, the weight of the JEPA term; 0 gives the next-token baseline.</summary>
    public float Lambda { get; init; } = 1f;

    /// <summary>k, the number of [PRED] tokens; 0 makes Pred the identity.</summary>
    public int Predictors { get; init; } = 1;

    /// <summary>Where the predictor tokens go in the predicting view.</summary>
    public PredictorPlacement Placement { get; init; } = PredictorPlacement.InTurn;

    /// <summary>Which token embeds the Text view.</summary>
    public EmbedToken TextToken { get; init; } = EmbedToken.Auto;

    /// <summary>Which token embeds the Code view.</summary>
    public EmbedToken CodeToken { get; init; } = EmbedToken.Auto;

    /// <summary>When set, the paper's <c>last_token</c>: both views are embedded at this offset from the end of the view
    /// as laid out (−1 the last token), overriding <see cref="TextToken"/> and <see cref="CodeToken"/>.</summary>
    public int? LastTokenOffset { get; init; }

    /// <summary>Which next tokens the language-model loss covers.</summary>
    public LabelReach Labels { get; init; } = LabelReach.Conversation;

    /// <summary>β, the weight of the SIGReg term (LeJEPA's sketched isotropic Gaussian regulariser) on each view's embeddings; 0: off.</summary>
    public float SigReg { get; init; }

    /// <summary>Random 1-D projections per step of the SIGReg term.</summary>
    public int SigRegSlices { get; init; } = 256;

    /// <summary>Weight of the VICReg-style variance and covariance terms on each view's embeddings; 0: off.</summary>
    public float VicReg { get; init; }

    /// <summary>Steps over which λ (and the regularisers' weights) ramp linearly from 0 to their value; 0: no warm-up.</summary>
    public int LambdaWarmup { get; init; }

    /// <summary>The factor of the JEPA-side weights at optimizer step <paramref name="step"/> (1-based): min(1, step / warm-up).</summary>
    public float WarmupFactor(int step) => LambdaWarmup <= 0 ? 1f : Math.Min(1f, step / (float)LambdaWarmup);

    /// <summary>The distance d.</summary>
    public JepaDistanceKind Distance { get; init; } = JepaDistanceKind.Cosine;

    /// <summary>Measure the distance between batch-centred embeddings (each view minus its mean over the batch): the term then
    /// compares what tells the examples apart, and one constant vector for every example no longer satisfies it.</summary>
    public bool Center { get; init; }

    /// <summary>InfoNCE temperature.</summary>
    public float Temperature { get; init; } = JepaDistance.DefaultTemperature;

    /// <summary>Swap the views: the Code view predicts the Text view.</summary>
    public bool ReversePred { get; init; }

    /// <summary>Separate passes or one block-causal pass for the views.</summary>
    public ViewEncoding Views { get; init; } = ViewEncoding.Separate;

    /// <summary>Probability that a step skips the JEPA term and its extra passes.</summary>
    public float JepaDropout { get; init; }

    /// <summary>The target encoder.</summary>
    public TargetEncoder Target { get; init; } = TargetEncoder.Shared;

    /// <summary>EMA decay of the target encoder's weights (with <see cref="TargetEncoder.Ema"/>).</summary>
    public float EmaDecay { get; init; } = 0.996f;

    /// <summary>True when the step computes view embeddings at all: the JEPA term or one of its regularisers is on.</summary>
    public bool UsesJepa => Lambda != 0f || SigReg != 0f || VicReg != 0f;

    /// <summary>The token that embeds the Text view (<paramref name="isText"/>) or the Code view, with <see cref="EmbedToken.Auto"/>
    /// resolved: the predicting view (Text, or Code with reverse-pred) at its last predictor when it has any behind its
    /// content, else at its last content token; the target view at its last content token.</summary>
    public EmbedToken TokenFor(bool isText)
    {
        var token = isText ? TextToken : CodeToken;
        if (token != EmbedToken.Auto) return token;
        bool predicting = isText != ReversePred;
        return predicting && Predictors > 0 && Placement != PredictorPlacement.Front ? EmbedToken.LastPredictor : EmbedToken.LastContent;
    }

    /// <summary>Lays out one view for the JEPA passes — predictors on the predicting view at <see cref="Placement"/> — and
    /// returns its ids and the tokens whose states embed it (<see cref="LastTokenOffset"/> when set, else <see cref="TokenFor"/>):
    /// the first index and the count (1, or the message's length with <see cref="EmbedToken.Mean"/>).</summary>
    public (int[] Ids, int At, int Count) LayOut(ViewTokens view, bool isText, IReadOnlyList<int> predictors, int maxLength, string what)
    {
        bool predicting = isText != ReversePred;
        var layout = ViewLayout.Of(view, predictors, predicting ? Predictors : 0, Placement, maxLength);
        var (at, count) = LastTokenOffset is { } off ? (layout.AtOffset(off, what), 1) : layout.SpanOf(TokenFor(isText), what);
        return (layout.Ids, at, count);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public JepaOptions Validate(int availablePredictorTokens)
    {
        if (!float.IsFinite(Gamma) || Gamma < 0) throw new ArgumentException($"JEPA option gamma must be ≥ 0, got {Gamma}.", nameof(Gamma));
        if (!float.IsFinite(Lambda) || Lambda < 0) throw new ArgumentException($"JEPA option lambda must be ≥ 0, got {Lambda}.", nameof(Lambda));
        if (Predictors < 0 || Predictors > availablePredictorTokens)
            throw new ArgumentException($"JEPA option predictors must be between 0 and {availablePredictorTokens} (the tokenizer's [PRED] tokens), got {Predictors}.", nameof(Predictors));
        if (LastTokenOffset >= 0) throw new ArgumentException($"JEPA option last-token must be negative (−1 is the last token), got {LastTokenOffset}.", nameof(LastTokenOffset));
        if (!float.IsFinite(SigReg) || SigReg < 0) throw new ArgumentException($"JEPA option sigreg must be ≥ 0, got {SigReg}.", nameof(SigReg));
        if (SigRegSlices < 1 || SigRegSlices > 4096) throw new ArgumentException($"JEPA option sigreg-slices must be between 1 and 4096, got {SigRegSlices}.", nameof(SigRegSlices));
        if (!float.IsFinite(VicReg) || VicReg < 0) throw new ArgumentException($"JEPA option vicreg must be ≥ 0, got {VicReg}.", nameof(VicReg));
        if (LambdaWarmup < 0) throw new ArgumentException($"JEPA option lambda-warmup must be ≥ 0, got {LambdaWarmup}.", nameof(LambdaWarmup));
        bool predictorsOn = Predictors > 0 && LastTokenOffset is null;
        if ((TextToken == EmbedToken.LastPredictor && (ReversePred || !predictorsOn)) || (CodeToken == EmbedToken.LastPredictor && (!ReversePred || !predictorsOn)))
            throw new ArgumentException("JEPA option embed token 'last-predictor' needs predictor tokens (k > 0) on that view (the Text view, or the Code view with reverse-pred).");
        if (predictorsOn && (ReversePred ? CodeToken : TextToken) == EmbedToken.Mean)
            throw new ArgumentException("JEPA option embed token 'mean' cannot embed the view that carries the predictor tokens (the message's tokens do not see them): use it on the target view, or with k = 0.");
        if (!(JepaDropout >= 0 && JepaDropout <= 1)) throw new ArgumentException($"JEPA option jepa-dropout must be in [0, 1], got {JepaDropout}.", nameof(JepaDropout));
        if (!(Temperature > 0)) throw new ArgumentException($"JEPA option temperature must be positive, got {Temperature}.", nameof(Temperature));
        if (!(EmaDecay >= 0 && EmaDecay < 1)) throw new ArgumentException($"JEPA option ema-decay must be in [0, 1), got {EmaDecay}.", nameof(EmaDecay));
        return this;
    }
}
