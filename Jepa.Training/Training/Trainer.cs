using System.Diagnostics;
using System.Text.Json;
using Jepa.Core;
using Jepa.Training.Autograd;
using Jepa.Training.Data;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Optim;
using Jepa.Training.Tokenization;

namespace Jepa.Training.Training;

/// <summary>The outcome of <see cref="Trainer.Train"/>.</summary>
/// <param name="Steps">Optimizer steps taken in total (including before a resume).</param>
/// <param name="Cancelled">True when cancellation stopped training (a checkpoint was saved).</param>
/// <param name="Last">The last step's metrics, or null when no step ran.</param>
/// <param name="Checkpoint">The last checkpoint written, or null.</param>
/// <param name="TruncatedExamples">Examples cut to the maximum length.</param>
public sealed record TrainResult(int Steps, bool Cancelled, StepMetrics? Last, string? Checkpoint, int TruncatedExamples);

/// <summary>
/// Trains a <see cref="LlamaModel"/> with the LLM-JEPA objective: seeded shuffling, gradient accumulation,
/// AdamW with warm-up and decay, clipping, JEPA-loss dropout, an optional EMA target encoder, per-step
/// metrics (also to the run folder's <see cref="RunDirectory.MetricsFile"/>), a collapse monitor, and atomic checkpoints that resume bit-exactly.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly LlamaModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly AdamWOptimizer _optimizer;
    private readonly EmaTarget? _ema;
    private readonly JepaObjective _objective;
    private readonly RunDirectory? _run;
    private int _epoch, _position, _reloads;
    private double _lrScale = 1; // below 1 after reloads (NonFiniteStep.Reload)
    private bool _collapseReported; // the last monitored step was collapsed and the warning was given

    /// <summary>
    /// Sets up training of <paramref name="model"/> (which the caller keeps owning) on conversations laid out in
    /// <paramref name="format"/> (default <see cref="ChatFormat.Jepa"/>). Checkpoints hold the tokenizer and format files
    /// (<see cref="TokenizerFiles"/>) when the tokenizer is a <see cref="ByteTokenizer"/> or <see cref="BpeTokenizer"/>.
    /// </summary>
    public Trainer(LlamaModel model, ITokenizer tokenizer, JepaOptions jepa, TrainOptions options, string? runDirectory = null, ChatFormat? format = null)
    {
        _model = model;
        _tokenizer = tokenizer;
        _template = new ChatTemplate(tokenizer, format);
        Jepa = jepa.Validate(tokenizer.Special.Predictors.Count);
        Options = options.Validate();
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {model.Config.VocabSize}.");
        if (options.MaxLength > model.Config.MaxLength)
            throw new ArgumentException($"max-length {options.MaxLength} exceeds the model's maximum length {model.Config.MaxLength}.");
        if (options.DecayNormsAndEmbeddings)
            foreach (var p in model.Parameters) p.Decay = true;
        if (model.Lora is not null && jepa.Target == TargetEncoder.Ema)
            throw new ArgumentException("An EMA target encoder is not supported with LoRA adapters (the EMA copy would hold only the frozen base); use the shared target encoder.");
        CheckMemory(model, options);
        _optimizer = new AdamWOptimizer(model.Ops, model.TrainableParameters, options.AdamW);
        _ema = jepa.Target == TargetEncoder.Ema ? new EmaTarget(model, Jepa.EmaDecay) : null;
        _objective = new JepaObjective(model, jepa, _ema?.Model);
        _run = runDirectory is null ? null : new RunDirectory(runDirectory);
        if (_run is not null) _run.Create();
        else if (options.OnNonFinite == NonFiniteStep.Reload)
            throw new ArgumentException("on-nonfinite reload needs a run directory to keep checkpoints in.");
    }

    /// <summary>Refuses, before anything is allocated for training, a batch that cannot fit: the weights, the gradients and AdamW
    /// moments of the trainable ones, and a lower bound on the activations of a full batch (<see cref="ModelConfig.ActivationBytes"/>)
    /// against the device's memory.</summary>
    private static void CheckMemory(LlamaModel model, TrainOptions options)
    {
        long memory = model.Ops.Device.Info.MemoryBytes;
        if (memory <= 0) return;
        long trainable = model.TrainableParameters.Sum(p => p.Value.Length);
        long state = checked(model.Config.ParameterCount() * sizeof(float) + trainable * 3 * sizeof(float));
        long activations = model.Config.ActivationBytes(options.BatchSize, options.MaxLength);
        if (state + activations > memory)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Training needs at least {(state + activations) / 1073741824.0:F1} GiB ({state / 1073741824.0:F1} GiB of weights, gradients and AdamW moments; {activations / 1073741824.0:F1} GiB of activations for a batch of {options.BatchSize} × {options.MaxLength} tokens), but {model.Ops.Device.Info.Name} has {memory / 1073741824.0:F1} GiB: lower --batch (--grad-accum keeps the effective batch) or --max-length."));
    }

    /// <summary>The objective's options.</summary>
    public JepaOptions Jepa { get; }

    /// <summary>The training options.</summary>
    public TrainOptions Options { get; }

    /// <summary>Optimizer steps taken.</summary>
    public int Step => _optimizer.Step;

    /// <summary>The optimizer (moments are part of checkpoints).</summary>
    public AdamWOptimizer Optimizer => _optimizer;

    /// <summary>The run folder (metrics and checkpoints), or null.</summary>
    public RunDirectory? Run => _run;

    /// <summary>Warnings raised while training (collapse, truncation).</summary>
    public event Action<string>? Warning;

    /// <summary>Raised after the step that completes an epoch, with the number of epochs completed and the step; not after
    /// the run's last step (the caller evaluates the finished model anyway).</summary>
    public event Action<int, int>? EpochCompleted;

    /// <summary>Raised after a non-finite step made the run go back to a checkpoint, with that checkpoint's step (the run folder's
    /// step-keyed logs are already trimmed to it, see <see cref="RunDirectory.TrimLogs"/>).</summary>
    public event Action<int>? Reloaded;

    /// <summary>The factor on the scheduled learning rate: 1, or lower after reloads.</summary>
    public double LearningRateScale => _lrScale;

    /// <summary>The total number of optimizer steps for <paramref name="examples"/> examples.</summary>
    public int TotalSteps(int examples) => Options.TotalSteps(examples);

    /// <summary>Trains on <paramref name="data"/> until the planned number of steps, or until cancelled (then a checkpoint is saved).</summary>
    public TrainResult Train(IReadOnlyList<PairExample> data, IProgress<StepMetrics>? progress = null, CancellationToken cancellation = default)
    {
        if (data.Count == 0) throw new ArgumentException("No training examples.", nameof(data));
        var encoded = data.Select(e => _template.Encode(e, Options.MaxLength)).ToArray();
        int truncated = encoded.Count(e => e.Truncated);
        if (encoded.All(e => e.LanguageModelSequence(Jepa.Labels).Labels.All(l => l == ChatTemplate.IgnoreIndex)))
            throw new ArgumentException($"No training example keeps any token the next-token loss trains on ({Jepa.Labels}) within {Options.MaxLength} tokens, so that loss would be 0: raise max-length.");
        if (truncated > 0) Warning?.Invoke($"{truncated} of {encoded.Length} examples were cut to {Options.MaxLength} tokens.");
        int total = TotalSteps(encoded.Length);
        var schedule = new LearningRateSchedule(Options.LearningRate, Options.WarmupSteps, total, Options.Decay, Options.MinLearningRateRatio);
        _run?.WriteConfig(CurrentState());
        int[] order = DataOrder.Permutation(encoded.Length, Options.Seed, _epoch);
        StepMetrics? last = null;
        string? checkpoint = null;
        if (Options.OnNonFinite == NonFiniteStep.Reload && !_run!.HasCheckpoints)
            checkpoint = SaveCheckpoint(); // something to go back to before the first periodic checkpoint
        var log = _run is null ? null : new StreamWriter(_run.MetricsPath, append: true);
        try
        {
            while (Step < total)
            {
                if (cancellation.IsCancellationRequested)
                {
                    checkpoint = _run is null ? null : SaveCheckpoint();
                    return new TrainResult(Step, true, last, checkpoint, truncated);
                }
                int epochBefore = _epoch;
                last = TrainStep(encoded, ref order, schedule.At(Step + 1) * _lrScale);
                log?.WriteLine(MetricsLine(last));
                log?.Flush();
                if (!double.IsFinite(last.GradNorm))
                {
                    string what = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"step {last.Step}: the gradient norm is {last.GradNorm} (next-token loss {last.LmLoss:G4}), so its update was not applied");
                    if (Options.OnNonFinite == NonFiniteStep.Skip)
                        Warning?.Invoke($"{what}; skipped.");
                    else if (Options.OnNonFinite == NonFiniteStep.Reload && _reloads < Options.MaxReloads)
                    {
                        log?.Dispose();
                        log = null;
                        string from = ReloadAfterNonFinite();
                        Warning?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"{what}; went back to {from} (step {Step}) with the learning rate × {_lrScale:G3} (reload {_reloads} of {Options.MaxReloads})."));
                        Reloaded?.Invoke(Step);
                        log = new StreamWriter(_run!.MetricsPath, append: true);
                        order = DataOrder.Permutation(encoded.Length, Options.Seed, _epoch);
                        continue;
                    }
                    else
                        throw new TrainingDivergedException(Options.OnNonFinite == NonFiniteStep.Reload
                            ? $"{what}, after {_reloads} reloads with a lower learning rate; training stopped, the weights and checkpoints so far are finite. Lower the learning rate."
                            : $"{what}; training stopped, the weights and checkpoints so far are finite. Lower the learning rate, skip such steps (--on-nonfinite skip), or go back to the last checkpoint with a lower one (--on-nonfinite reload).");
                }
                progress?.Report(last);
                if (_epoch > epochBefore && Step < total) EpochCompleted?.Invoke(_epoch, Step);
                if (_run is not null && Options.CheckpointEvery > 0 && Step % Options.CheckpointEvery == 0 && Step < total)
                    checkpoint = SaveCheckpoint();
            }
        }
        finally
        {
            log?.Dispose();
        }
        if (_run is not null) checkpoint = SaveCheckpoint();
        return new TrainResult(Step, false, last, checkpoint, truncated);
    }

    private StepMetrics TrainStep(EncodedPair[] encoded, ref int[] order, double lr)
    {
        var watch = Stopwatch.StartNew();
        int step = Step + 1;
        float scale = Jepa.WarmupFactor(step);
        _model.ZeroGrad();
        double lm = 0, jepa = 0, cos = 0, sig = 0, vic = 0;
        int skipped = 0, withJepa = 0;
        var view = new ViewHealth(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        int tokens = 0, micro = Options.GradAccumulation;
        bool monitor = Options.MonitorEvery > 0 && (step % Options.MonitorEvery == 0 || step == 1);
        for (int m = 0; m < micro; m++)
        {
            var examples = NextExamples(encoded, ref order);
            bool skip = Jepa.UsesJepa && DataOrder.DropJepa(Options.Seed, step, Jepa.JepaDropout, m);
            skipped += skip ? 1 : 0;
            using var batch = PairBatch.Build(_model.Device, examples, _tokenizer.Special, _model.Config.VocabSize, Jepa,
                withViews: Jepa.UsesJepa && !skip, Options.MaxLength);
            using var tape = new Tape(_model.Ops);
            tape.SetRandomKey(Options.Seed, step, m);
            var (totalLoss, parts) = _objective.Forward(tape, batch, skip, scale);
            tape.Backward(totalLoss, 1f / micro);
            tokens += parts.Tokens;
            lm += Scalar(parts.LmLoss) / micro;
            if (parts.SigRegLoss is { } s) sig += Scalar(s);
            if (parts.VicRegLoss is { } v) vic += Scalar(v);
            if (parts.JepaLoss is not null)
            {
                withJepa++;
                jepa += Scalar(parts.JepaLoss);
                cos += tape.PairCosine(parts.Predicted!, parts.Target!).ToArray().Average();
                if (monitor && m == micro - 1) view = Health(parts.Predicted!, parts.Target!);
            }
        }
        _optimizer.Update(lr);
        _ema?.Update();
        double gradNorm = _optimizer.GradNorm.ToArray()[0];
        bool jepaOn = withJepa > 0, allSkipped = skipped == micro && Jepa.UsesJepa;
        if (jepaOn) { jepa /= withJepa; cos /= withJepa; sig /= withJepa; vic /= withJepa; }
        double spread = Math.Min(view.TextSpread, view.CodeSpread), rank = Math.Min(view.TextRank, view.CodeRank);
        bool collapsed = jepaOn && !double.IsNaN(spread) && CollapseMonitor.IsCollapsed(spread, rank);
        bool warn = collapsed && !_collapseReported;
        if (!double.IsNaN(spread)) _collapseReported = collapsed;
        if (warn)
            Warning?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"step {step}: view embeddings look collapsed (spread Text {view.TextSpread:G3}, Code {view.CodeSpread:G3} of ~1 for distinct directions; effective rank {view.TextRank:F2}, {view.CodeRank:F2}; matched-minus-mismatched cosine {view.Gap:F3}); said again only after a recovery."));
        return new StepMetrics(step, lm, jepaOn ? jepa : double.NaN, jepaOn ? cos : double.NaN, lr, gradNorm,
            tokens / Math.Max(watch.Elapsed.TotalSeconds, 1e-9), allSkipped, spread, rank, collapsed)
        {
            TextSpread = view.TextSpread, CodeSpread = view.CodeSpread, TextRank = view.TextRank, CodeRank = view.CodeRank, PairGap = view.Gap,
            SigRegLoss = jepaOn && Jepa.SigReg > 0 ? sig : double.NaN, VicRegLoss = jepaOn && Jepa.VicReg > 0 ? vic : double.NaN,
            JepaScale = Jepa.UsesJepa ? scale : double.NaN,
        };
    }

    private readonly record struct ViewHealth(double TextSpread, double CodeSpread, double TextRank, double CodeRank, double Gap);

    /// <summary>The collapse monitor's numbers for one micro-batch: each view on its own, and the pair gap.</summary>
    private ViewHealth Health(Variable predicted, Variable target)
    {
        int b = predicted.Shape[0], c = predicted.Shape[1];
        float[] p = predicted.Value.ToArray(), t = target.Value.ToArray();
        var (ps, pr) = CollapseMonitor.Measure(p, b, c);
        var (ts, tr) = CollapseMonitor.Measure(t, b, c);
        double gap = CollapseMonitor.PairGap(p, t, b, c);
        return Jepa.ReversePred ? new ViewHealth(ts, ps, tr, pr, gap) : new ViewHealth(ps, ts, pr, tr, gap);
    }

    private static float Scalar(Variable v) => v.Value.ToArray()[0];

    private List<EncodedPair> NextExamples(EncodedPair[] encoded, ref int[] order)
    {
        int take = Math.Min(Options.BatchSize, encoded.Length - _position);
        var list = new List<EncodedPair>(take);
        for (int i = 0; i < take; i++) list.Add(encoded[order[_position + i]]);
        _position += take;
        if (_position >= encoded.Length)
        {
            _epoch++;
            _position = 0;
            order = DataOrder.Permutation(encoded.Length, Options.Seed, _epoch);
        }
        return list;
    }

    private static string MetricsLine(StepMetrics m)
    {
        static object? F(double x) => double.IsFinite(x) ? x : null;
        var o = new Dictionary<string, object?>
        {
            ["step"] = m.Step, ["lm_loss"] = F(m.LmLoss), ["jepa_loss"] = F(m.JepaLoss), ["cosine"] = F(m.Cosine),
            ["lr"] = m.LearningRate, ["grad_norm"] = F(m.GradNorm), ["tokens_per_s"] = F(m.TokensPerSecond),
            ["jepa_skipped"] = m.JepaSkipped, ["embedding_std"] = F(m.EmbeddingStd), ["effective_rank"] = F(m.EffectiveRank),
            ["collapse_warning"] = m.CollapseWarning, ["text_spread"] = F(m.TextSpread), ["code_spread"] = F(m.CodeSpread),
            ["text_rank"] = F(m.TextRank), ["code_rank"] = F(m.CodeRank), ["pair_gap"] = F(m.PairGap),
            ["sigreg"] = F(m.SigRegLoss), ["vicreg"] = F(m.VicRegLoss), ["jepa_scale"] = F(m.JepaScale),
        };
        return JsonSerializer.Serialize(o, RunJson.Compact);
    }

    private CheckpointState CurrentState() =>
        new(Step, _epoch, _position, _model.Config, Jepa, Options, TokenizerFiles.Describe(_tokenizer), _lrScale, _reloads,
            _tokenizer.Special.Predictors.Count);

    /// <summary>After a non-finite step: restores the newest intact checkpoint, trims the run's step-keyed logs to its step (<see cref="RunDirectory.TrimLogs"/>), counts the reload
    /// and lowers the learning rate. Returns the checkpoint's folder.</summary>
    private string ReloadAfterNonFinite()
    {
        string from = _run!.LatestIntactCheckpoint((candidate, why) => Warning?.Invoke($"checkpoint {candidate} is damaged ({why}); trying the one before it."))
            ?? throw new TrainingDivergedException($"a non-finite step found no intact checkpoint in {_run.Root} to go back to.");
        int reloads = _reloads;
        double scale = _lrScale;
        LoadCheckpoint(from);
        // The run's own count and scale, not the checkpoint's: reloads accumulate even when they go back to the same checkpoint.
        _reloads = reloads + 1;
        _lrScale = scale * Options.ReloadLearningRateFactor;
        _collapseReported = false;
        _run.TrimLogs(Step);
        return from;
    }

    // ------------------------------------------------------------------ checkpoints

    /// <summary>Writes a checkpoint of the current step into the run folder (see <see cref="RunDirectory.SaveCheckpoint"/>), keeping
    /// the last <see cref="TrainOptions.KeepCheckpoints"/>. Returns its folder.</summary>
    public string SaveCheckpoint()
    {
        if (_run is null) throw new InvalidOperationException("This trainer has no run directory to save checkpoints in.");
        return _run.SaveCheckpoint(CurrentState(), _model, _optimizer, _ema, _tokenizer, _template.Format, Options.KeepCheckpoints);
    }

    /// <summary>Restores weights, optimizer moments, EMA weights, step and data position from <paramref name="checkpoint"/>.</summary>
    /// <exception cref="InvalidDataException">The checkpoint does not match this model or is damaged; the message says which file and tensor.</exception>
    public void LoadCheckpoint(string checkpoint)
    {
        var state = RunDirectory.LoadCheckpoint(checkpoint, _model, _optimizer, _ema);
        _epoch = state.Epoch;
        _position = state.Position;
        _lrScale = state.LearningRateScale;
        _reloads = state.Reloads;
    }

    /// <summary>Frees the optimizer state and the EMA model (not the trained model).</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _ema?.Dispose();
    }
}
