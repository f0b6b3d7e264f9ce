using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Jepa.Cli.Options;
using Jepa.Cli.Support;
using Jepa.Core;
using Jepa.Kernels;
using Jepa.Training;
using Jepa.Training.Data;
using Jepa.Training.Evaluation;
using Jepa.Training.Generation;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Optim;
using Jepa.Training.Tokenization;
using Jepa.Training.Training;

namespace Jepa.Cli.Commands;

/// <summary>
/// <c>jepa train</c>: trains a model with LLM-JEPA (or the plain next-token baseline with <c>--lambda 0</c>),
/// saves it, and evaluates it on held-out data. Without <c>--data</c> it trains on the built-in NL-RX-style
/// regex pairs; without <c>--model</c> it creates a small model from the embedded quick-start defaults.
/// </summary>
public sealed class TrainCommand : ICommand
{
    /// <summary>Predictor tokens of a new model's tokenizer.</summary>
    public const int PredictorTokens = SpecialTokens.DefaultPredictorCount;

    /// <summary>Built-in training pairs by default.</summary>
    public const int DefaultTrainCount = 2000;

    /// <summary>Held-out pairs evaluated for the built-in data when neither --eval-count nor the defaults say.</summary>
    public const int DefaultEvalCount = 200;

    /// <summary>The embedded defaults' resource name.</summary>
    public const string DefaultsResource = "Jepa.Cli.Defaults.quickstart.json";

    private static readonly string[] ResumeOptions =
        ["resume", "device", "json", "steps", "epochs", "checkpoint-every", "eval-data", "eval-count", "max-new-tokens", "skip-bad", "out", "eval-every", "on-nonfinite"];

    /// <summary>The embedded quick-start defaults: the model a plain <c>jepa train</c> creates and its options.</summary>
    public static SettingsFile QuickStart { get; } = EmbeddedDefaults(new ByteTokenizer(PredictorTokens).VocabSize);

    private static string Q(string option) => QuickStart.Options.TryGetValue(option, out string? v) ? v : "?";

    /// <inheritdoc />
    public OptionTable Options { get; } = new("train", "--out DIR [--data FILE] [options]  |  --resume DIR",
        $"""
        Trains a decoder-only language model with LLM-JEPA: L = γ·L_LLM + λ·d(Pred(Enc(Text)), Enc(Code)).
        Without --data it trains on built-in NL-RX-style regex pairs ({DefaultTrainCount} from seed {BuiltinData.TrainSeed}) and evaluates on {DefaultEvalCount}
        held-out pairs (seed {BuiltinData.TestSeed}, none whose description is in the training set); without --model it creates a
        small model from the embedded quick-start defaults (d_model {QuickStart.Model!.DModel}, {QuickStart.Model.Layers} layers, {QuickStart.Model.Heads} heads, {QuickStart.Model.KvHeads} kv heads,
        ffn {QuickStart.Model.Ffn}, length {QuickStart.Model.MaxLength}; {Q("steps")} steps of {Q("batch")}, lr {Q("lr")}, warm-up {Q("warmup")}).
        DIR receives metrics.jsonl, config.json, run.json, checkpoints/, the trained model (model/), the
        predictions (eval.jsonl) and summary.json. Ctrl+C saves a checkpoint; continue with --resume DIR.
        Precedence: command line, then --config FILE.json, then the embedded defaults (only for a new default model).
        """,
        [
            new("data", "FILE", "training pairs, JSONL: chat \"messages\" (system/user/assistant) or {\"text\",\"code\"}", "built-in regex pairs"),
            new("out", "DIR", "run folder (must not hold a run already)"),
            new("model", "DIR", "fine-tune a saved model, a checkpoint, or a Hugging Face Llama/Qwen2/Mistral folder (its tokenizer and chat template; [PRED] tokens are added)", "a new model"),
            new("lora-rank", "r", "train LoRA adapters of rank r on a frozen base (0: full fine-tuning)", "0"),
            new("lora-alpha", "α", "LoRA scaling α (the update is scaled by α/r)", "2r"),
            new("lora-dropout", "p", "dropout on the LoRA branch's input (as PEFT's lora_dropout)", "0"),
            new("lora-targets", "LIST", "projections to adapt: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj (OpenELM: qkv_proj,out_proj,proj_1,proj_2) or all", "q_proj,v_proj; OpenELM: qkv_proj"),
            OptionSpec.Flag("merge", "with LoRA, also fold the adapters into the base and save the merged model in RUN/model"),
            OptionSpec.Flag("force", "start again in an --out folder that holds a previous run, deleting that run's files (its checkpoints, metrics and model)"),
            OptionSpec.Flag("baseline", "afterwards also train the next-token baseline (λ = 0; same model, seed, data order and schedule) in DIR/baseline, evaluate it, and print both side by side"),
            new("tokenizer", "FILE", "a new model's tokenizer: a byte-level BPE tokenizer.json (e.g. from 'jepa tokenizer train') or a Hugging Face tokenizer folder; sets the vocabulary", "bytes"),
            new("chat-template", "NAME|FILE", "a new model's chat format: jepa, llama3, chatml, gemma, olmo2, plain, or a JSON format file", "jepa; detected for a tokenizer folder"),
            OptionSpec.Flag("plain", "the paper's --plain layout, the same as --chat-template plain: <|bos|>T<|assistant|>C<|end|> with no role headers and no system prompt; the views are <|bos|>T and <|bos|>C"),
            new("config", "FILE.json", "a model config (\"model\": {...} or a ModelConfig/HF config.json) and/or options by name"),
            new("steps", "N", "optimizer steps (instead of --epochs)", $"{Q("steps")} for the default model"),
            new("epochs", "N", "passes over the data (instead of --steps)", "1"),
            new("batch", "N", "examples per micro-batch", $"8; {Q("batch")} for the default model"),
            new("grad-accum", "N", "micro-batches per optimizer step", "1"),
            new("lr", "X", "peak learning rate", $"0.001; {Q("lr")} for the default model"),
            new("warmup", "N", "linear warm-up steps", $"0; {Q("warmup")} for the default model"),
            OptionSpec.Choice("schedule", "learning-rate decay after warm-up (to 0.1 × peak)", "cosine", "cosine", "linear", "constant"),
            new("seed", "S", "seed of initialisation, data order and JEPA-loss dropout", "42"),
            new("max-length", "N", "longest training sequence in tokens; longer ones are cut", "the model's"),
            new("lambda", "λ", "weight of the JEPA term; 0 trains the plain next-token baseline", "1"),
            new("gamma", "γ", "weight of the next-token loss", "1"),
            new("predictors", "k", $"[PRED] tokens on the Text view, 0..{PredictorTokens}; 0 makes Pred the identity", "1"),
            JepaLayoutOptions.Placement,
            OptionSpec.Flag("front-pred", "the same as --placement front (the paper's front_pred)"),
            JepaLayoutOptions.TextToken,
            JepaLayoutOptions.CodeToken,
            OptionSpec.Choice("labels", "next tokens the LM loss trains on: the whole conversation (as the paper's collator, and its --train_all; the default), the answer only, or the user's message alone with the answer left out of the sequence (with --plain, the paper's --plain --train_all, as its paraphrase pretraining)", "conversation", "conversation", "answer", "text"),
            new("sigreg", "β", "weight of SIGReg (LeJEPA's Epps–Pulley test of isotropic Gaussian embeddings over random projections) on each view", "0"),
            new("sigreg-slices", "M", "random projections per step of --sigreg", "256"),
            OptionSpec.Flag("center", "measure the JEPA distance between batch-centred embeddings (each view minus its batch mean)"),
            new("vicreg", "w", "weight of VICReg-style variance and covariance terms on each view's embeddings", "0"),
            new("lambda-warmup", "N", "steps over which λ, --sigreg and --vicreg ramp up from 0", "0"),
            OptionSpec.Choice("distance", "JEPA distance d", "cosine", "cosine", "l2", "mse", "infonce"),
            new("infonce-temperature", "τ", "temperature of --distance infonce", "0.07"),
            OptionSpec.Choice("views", "view embeddings from two extra passes, or one block-causal pass", "separate", "separate", "single"),
            new("jepa-dropout", "p", "probability that a step skips the JEPA term", "0"),
            JepaLayoutOptions.LastToken,
            OptionSpec.Flag("reverse-pred", "swap the views: Code predicts Text"),
            OptionSpec.Choice("target", "target encoder: the model itself, stop-gradient, or an EMA copy", "shared", "shared", "stop-grad", "ema"),
            new("ema-decay", "d", "EMA decay of --target ema", "0.996"),
            new("weight-decay", "w", "AdamW decoupled weight decay", "0"),
            new("clip", "c", "global gradient-norm clip (0: none)", "1"),
            new("checkpoint-every", "N", "write a checkpoint every N steps (0: only at the end and on Ctrl+C)", "0"),
            OptionSpec.Choice("on-nonfinite", "a step with a NaN or infinite gradient norm is never applied; then stop with exit 1, skip it and go on, or go back to the newest intact checkpoint with half the learning rate (at most 3 times)", "stop", "stop", "skip", "reload"),
            CommonOptions.Device,
            CommonOptions.Precision,
            CommonOptions.SkipBad,
            CommonOptions.Json,
            new("resume", "DIR", "continue the run in DIR from its latest checkpoint with its saved options"),
            new("eval-data", "FILE", "evaluation pairs (JSONL) scored after training", "held-out pairs for built-in data"),
            new("eval-count", "N", "examples to evaluate (0: skip evaluation)", $"{DefaultEvalCount} for built-in data, else all"),
            new("eval-every", "N", $"also evaluate every N epochs while training, into RUN/{RunDirectory.CurveFile} (accuracy against epochs)", "0 (only at the end)"),
            OptionSpec.Choice("metric", "how answers are scored (jepa eval and jepa score describe each; the Spider ones need jepa eval's --spider-db)", "regex for built-in data, else exact", AnswerMetrics.TextNames.ToArray()),
            new("max-new-tokens", "N", "token limit of generated answers (the paper's 128)", "128"),
            new("train-count", "N", "built-in training pairs (without --data)", DefaultTrainCount.ToString(CultureInfo.InvariantCulture)),
        ]);

    /// <inheritdoc />
    public string Summary => "train with LLM-JEPA (built-in regex task by default), then evaluate";

    /// <inheritdoc />
    public int Run(ParsedArgs args, CliContext context) =>
        args.Has("resume") ? Resume(args, context) : Start(args, context);

    // ------------------------------------------------------------------ a new run

    private int Start(ParsedArgs args, CliContext context)
    {
        if (args.GivenOnCommandLine("steps") && args.GivenOnCommandLine("epochs"))
            throw new UsageException("give either --steps or --epochs, not both.");
        ModelConfig? config = null;
        (string Path, int Size)? configVocab = null;
        if (args.String("config") is { } configPath)
        {
            var file = SettingsFile.Read(configPath, new ByteTokenizer(PredictorTokens).VocabSize);
            foreach (string name in (string[])["config", "resume"])
                if (file.Options.ContainsKey(name)) throw new InvalidDataException($"{configPath}: option '{name}' belongs on the command line, not in a config file.");
            args = args.WithFallback(WithoutLengthIfGiven(file.Options, args), configPath);
            config = file.Model;
            if (file.VocabSizeGiven) configVocab = (configPath, config!.VocabSize);
        }
        if (config is not null && args.Has("model"))
            throw new UsageException("give either --model (a saved model) or a model config in --config, not both.");
        if (config is null && !args.Has("model"))
        {
            args = args.WithFallback(WithoutLengthIfGiven(QuickStart.Options, args), "built-in defaults");
            config = QuickStart.Model;
        }
        string outDir = args.Required("out");
        if (args.Flag("force")) DiscardRun(outDir);
        CheckOutDirectory(outDir);
        bool pretrained = args.String("model") is { } m && JepaModel.IsPretrainedFolder(m);
        if (args.Has("model") && args.Has("tokenizer"))
            throw new UsageException("--tokenizer applies to a new model; --model brings its own.");
        string? chatTemplate = ChatTemplateArg(args);
        if (args.Has("model") && !pretrained && chatTemplate is not null)
            throw new UsageException("--chat-template applies to a new model or a Hugging Face folder; a saved --model keeps its own.");
        var lora = LoraFrom(args);
        var (tokenizer, format) = pretrained ? (null, chatTemplate is { } t ? ChatFormat.Resolve(t) : null) : TokenizerFrom(args);
        int vocab = tokenizer?.VocabSize ?? new ByteTokenizer(PredictorTokens).VocabSize;
        if (configVocab is { } cv && cv.Size != vocab)
            throw new InvalidDataException($"{cv.Path}: vocab_size {cv.Size} differs from the tokenizer's {vocab} tokens (with its [PRED] tokens); leave vocab_size out, the tokenizer sets it.");

        var settings = new RunSettings(
            args.String("data") is { } d ? Path.GetFullPath(d) : null,
            args.PositiveInt("train-count") ?? DefaultTrainCount,
            args.String("eval-data") is { } e ? Path.GetFullPath(e) : null,
            args.NonNegativeInt("eval-count"),
            args.Flag("skip-bad"),
            args.Choice("metric") ?? (args.Has("data") ? "exact" : "regex"),
            args.PositiveInt("max-new-tokens") ?? CommonOptions.DefaultMaxNewTokens,
            args.String("model") is { } b ? Path.GetFullPath(b) : null,
            args.Flag("merge"),
            args.NonNegativeInt("eval-every") ?? 0);
        var jepa = JepaFrom(args);
        var (train, evalSet) = LoadData(settings, context);
        var device = CommonOptions.DeviceFrom(args);
        ulong seed = args.ULong("seed") ?? 42;
        bool baseline = args.Flag("baseline");
        if (baseline && !jepa.UsesJepa) throw new UsageException("--baseline compares LLM-JEPA with the next-token baseline; this run is the baseline already (λ = 0).");
        if (baseline && evalSet.Count == 0) throw new UsageException("--baseline needs evaluation data to compare the two runs (--eval-data FILE).");
        JepaModel Open() => args.String("model") is { } modelDir
            ? pretrained ? JepaModel.LoadPretrained(modelDir, device, PredictorTokens, format, seed) : JepaModel.Load(modelDir, device)
            : CreateModel(config!, seed, device, tokenizer, format);
        int code;
        TrainOptions options;
        using (var model = Open())
        {
            if (lora is not null) model.AttachLora(ForModel(lora, args.String("lora-targets"), model.Model), seed);
            options = TrainFrom(args, model.Model.Config, seed);
            Directory.CreateDirectory(outDir);
            settings.Write(outDir);
            code = TrainAndEvaluate(model, train, evalSet, jepa, options, settings, outDir, null, args.Flag("json"), context);
        }
        if (code != ExitCodes.Ok || !baseline) return code;

        // The same model, seed, data order, schedule and LM labels, without the JEPA term and its regularisers.
        string baseDir = new RunDirectory(outDir).Baseline.Root;
        CheckOutDirectory(baseDir);
        if (!args.Flag("json")) context.Error.WriteLine($"\nthe next-token baseline (λ = 0, same seed and schedule) in {baseDir}");
        using (var model = Open())
        {
            if (lora is not null) model.AttachLora(ForModel(lora, args.String("lora-targets"), model.Model), seed);
            Directory.CreateDirectory(baseDir);
            settings.Write(baseDir);
            code = TrainAndEvaluate(model, train, evalSet, jepa with { Lambda = 0, SigReg = 0, VicReg = 0 }, options, settings, baseDir, null, args.Flag("json"), context);
        }
        if (code == ExitCodes.Ok && !args.Flag("json")) PrintComparison(context, outDir, baseDir);
        return code;
    }

    /// <summary>The LLM-JEPA run and its baseline side by side, from their summary.json files.</summary>
    private static void PrintComparison(CliContext context, string jepaDir, string baseDir)
    {
        static (string? Name, double? Eval, double? Exact) Read(string dir)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(new RunDirectory(dir).SummaryPath));
            var r = doc.RootElement;
            double? Acc(string key) => r.TryGetProperty(key, out var e) && e.ValueKind == System.Text.Json.JsonValueKind.Object ? e.GetProperty("accuracy").GetDouble() : null;
            string? metric = r.TryGetProperty("eval", out var ev) && ev.ValueKind == System.Text.Json.JsonValueKind.Object ? ev.GetProperty("metric").GetString() : null;
            return (metric, Acc("eval"), metric == "exact" ? Acc("eval") : Acc("exact"));
        }
        var j = Read(jepaDir);
        var b = Read(baseDir);
        static string P(double? x) => x is { } v ? string.Create(CultureInfo.InvariantCulture, $"{100 * v,6:F1} %") : "      –";
        context.Out.WriteLine();
        context.Out.WriteLine($"                      {j.Name,-18} exact match");
        context.Out.WriteLine($"LLM-JEPA              {P(j.Eval),-18} {P(j.Exact)}");
        context.Out.WriteLine($"next-token baseline   {P(b.Eval),-18} {P(b.Exact)}");
    }

    /// <summary>--chat-template, or "plain" for --plain (null: neither).</summary>
    private static string? ChatTemplateArg(ParsedArgs args)
    {
        if (!args.Flag("plain")) return args.String("chat-template");
        if (args.Has("chat-template")) throw new UsageException("--plain is --chat-template plain; give one of them.");
        return "plain";
    }

    /// <summary>The tokenizer and chat format of --tokenizer and --chat-template (null: the defaults).</summary>
    private static (ITokenizer? Tokenizer, ChatFormat? Format) TokenizerFrom(ParsedArgs args)
    {
        var format = ChatTemplateArg(args) is { } t ? ChatFormat.Resolve(t) : null;
        if (args.String("tokenizer") is not { } path) return (null, format);
        BpeTokenizer tokenizer;
        if (Directory.Exists(path))
        {
            var folder = HfTokenizer.LoadFolder(path, format);
            (tokenizer, format) = (folder.Tokenizer, folder.Format);
        }
        else
        {
            tokenizer = BpeTokenizer.Load(path);
        }
        if (tokenizer.Special.Predictors.Count == 0) tokenizer = tokenizer.WithPredictors(PredictorTokens, tokenizer.VocabSize);
        return (tokenizer, format);
    }

    private static JepaModel CreateModel(ModelConfig config, ulong seed, DeviceOptions? device, ITokenizer? tokenizer, ChatFormat? format)
    {
        try
        {
            return JepaModel.Create(config, seed, device, PredictorTokens, tokenizer, format);
        }
        catch (InvalidDataException e) when (e.Message.StartsWith("chat format", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{e.Message} Choose a format the tokenizer supports with --chat-template (jepa, llama3, chatml, gemma, olmo2 or a FILE.json).", e);
        }
    }

    /// <summary>The options of a lower-precedence source without its run length when a higher one already set it
    /// (so a config file's "epochs" is not overridden by the defaults' "steps").</summary>
    private static Dictionary<string, string> WithoutLengthIfGiven(IReadOnlyDictionary<string, string> options, ParsedArgs args)
    {
        var copy = new Dictionary<string, string>(options, StringComparer.Ordinal);
        if (args.Has("steps") || args.Has("epochs")) { copy.Remove("steps"); copy.Remove("epochs"); }
        return copy;
    }

    /// <summary>The embedded quick-start defaults (model config and options).</summary>
    public static SettingsFile EmbeddedDefaults(int vocabSize)
    {
        using var stream = typeof(TrainCommand).Assembly.GetManifestResourceStream(DefaultsResource)
            ?? throw new InvalidOperationException($"The embedded resource {DefaultsResource} is missing.");
        using var reader = new StreamReader(stream);
        return SettingsFile.Parse(reader.ReadToEnd(), "built-in defaults", vocabSize);
    }

    private static void CheckOutDirectory(string outDir)
    {
        if (File.Exists(outDir)) throw new IOException($"--out '{outDir}' is a file, not a folder.");
        var run = new RunDirectory(outDir);
        string checkpoints = run.CheckpointsPath;
        if (File.Exists(checkpoints)) throw new IOException($"'{checkpoints}' is a file; checkpoints need that name for a folder.");
        if (run.HasCheckpoints)
            throw new IOException($"'{outDir}' already holds a training run. Continue it with 'jepa train --resume {outDir}', start it again with --force, or choose another --out.");
        if (run.HasMetrics)
            throw new IOException($"'{outDir}' holds a run stopped before its first checkpoint, which cannot be resumed: start it again with --force, or choose another --out.");
    }

    /// <summary>--force: removes a previous run's files from <paramref name="outDir"/> (nothing else in the folder).</summary>
    private static void DiscardRun(string outDir) => new RunDirectory(outDir).Discard();

    /// <summary>The LoRA options of --lora-*, or null for full fine-tuning (--lora-rank 0 or absent).</summary>
    private static LoraOptions? LoraFrom(ParsedArgs a)
    {
        int rank = a.NonNegativeInt("lora-rank") ?? 0;
        if (rank == 0)
        {
            foreach (string name in (string[])["lora-alpha", "lora-dropout", "lora-targets", "merge"])
                if (a.Has(name)) throw new UsageException($"--{name} needs --lora-rank r > 0.");
            return null;
        }
        // the default and "all" depend on the model's family; ForModel settles them once the model is open
        string? targets = a.String("lora-targets");
        var o = new LoraOptions
        {
            Rank = rank,
            Alpha = a.Float("lora-alpha") ?? 2f * rank,
            Dropout = a.Float("lora-dropout") ?? 0f,
            Targets = targets is null or "all" ? LoraOptions.AllTargets : targets.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        };
        try { return o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }

    /// <summary>The LoRA options for <paramref name="model"/>'s family: with no --lora-targets its default targets, with "all"
    /// every projection it has; named targets as given (a name the model lacks fails when the adapters are made).</summary>
    private static LoraOptions ForModel(LoraOptions lora, string? targets, LlamaModel model) => targets switch
    {
        null => lora with { Targets = model.DefaultLoraTargets },
        "all" => lora with { Targets = model.LoraTargets },
        _ => lora,
    };

    private static JepaOptions JepaFrom(ParsedArgs a)
    {
        var o = new JepaOptions
        {
            Lambda = a.Float("lambda") ?? 1f,
            Gamma = a.Float("gamma") ?? 1f,
            Predictors = a.NonNegativeInt("predictors") ?? 1,
            Labels = a.Choice("labels") switch { "answer" => LabelReach.Answer, "text" => LabelReach.Text, _ => LabelReach.Conversation },
            SigReg = a.Float("sigreg") ?? 0f,
            SigRegSlices = a.PositiveInt("sigreg-slices") ?? 256,
            VicReg = a.Float("vicreg") ?? 0f,
            Center = a.Flag("center"),
            LambdaWarmup = a.NonNegativeInt("lambda-warmup") ?? 0,
            Distance = a.Choice("distance") switch
            {
                "l2" => JepaDistanceKind.L2,
                "mse" => JepaDistanceKind.Mse,
                "infonce" => JepaDistanceKind.InfoNce,
                _ => JepaDistanceKind.Cosine,
            },
            Temperature = a.Float("infonce-temperature") ?? JepaDistance.DefaultTemperature,
            ReversePred = a.Flag("reverse-pred"),
            Views = a.Choice("views") == "single" ? ViewEncoding.Single : ViewEncoding.Separate,
            JepaDropout = a.Float("jepa-dropout") ?? 0f,
            Target = a.Choice("target") switch
            {
                "stop-grad" => TargetEncoder.StopGradient,
                "ema" => TargetEncoder.Ema,
                _ => TargetEncoder.Shared,
            },
            EmaDecay = a.Float("ema-decay") ?? 0.996f,
        };
        return JepaLayoutOptions.From(a, o).Validate(PredictorTokens);
    }

    private static TrainOptions TrainFrom(ParsedArgs a, ModelConfig model, ulong seed)
    {
        var o = new TrainOptions
        {
            Steps = a.NonNegativeInt("steps") ?? 0,
            Epochs = a.PositiveInt("epochs") ?? 1,
            BatchSize = a.PositiveInt("batch") ?? 8,
            GradAccumulation = a.PositiveInt("grad-accum") ?? 1,
            LearningRate = a.Double("lr") ?? 1e-3,
            WarmupSteps = a.NonNegativeInt("warmup") ?? 0,
            Decay = a.Choice("schedule") switch { "linear" => DecayKind.Linear, "constant" => DecayKind.Constant, _ => DecayKind.Cosine },
            AdamW = new AdamWOptions(WeightDecay: a.Double("weight-decay") ?? 0.0, ClipNorm: a.Float("clip") ?? 1f),
            Seed = seed,
            MaxLength = a.PositiveInt("max-length") ?? model.MaxLength,
            CheckpointEvery = a.NonNegativeInt("checkpoint-every") ?? 0,
            OnNonFinite = NonFinitePolicy(a) ?? NonFiniteStep.Stop,
        };
        return o.Validate();
    }

    private static NonFiniteStep? NonFinitePolicy(ParsedArgs a) => a.Choice("on-nonfinite") switch
    {
        "stop" => NonFiniteStep.Stop,
        "skip" => NonFiniteStep.Skip,
        "reload" => NonFiniteStep.Reload,
        _ => null,
    };

    private static (IReadOnlyList<PairExample> Train, IReadOnlyList<PairExample> Eval) LoadData(RunSettings s, CliContext context)
    {
        var train = s.Data is null ? BuiltinData.Train(s.TrainCount) : DataFiles.Read(s.Data, s.SkipBad, context);
        IReadOnlyList<PairExample> eval;
        if (s.EvalData is not null) eval = DataFiles.Read(s.EvalData, s.SkipBad, context);
        else if (s.Data is null) eval = BuiltinData.Test(s.EvalCount ?? DefaultEvalCount, train);
        else eval = [];
        if (s.EvalCount is { } n && n < eval.Count) eval = eval.Take(n).ToArray();
        return (train, eval);
    }

    // ------------------------------------------------------------------ resuming

    private int Resume(ParsedArgs args, CliContext context)
    {
        string dir = args.Required("resume");
        foreach (string name in args.Given)
            if (!ResumeOptions.Contains(name))
                throw new UsageException($"--{name} cannot be changed when resuming: the run continues with its saved options. " +
                    $"Options allowed with --resume: {string.Join(", ", ResumeOptions.Where(o => o != "resume").Select(o => "--" + o))}.");
        if (args.String("out") is { } o && Path.GetFullPath(o).TrimEnd(Path.DirectorySeparatorChar) != Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar))
            throw new UsageException("--resume continues in the run's own folder; leave out --out.");
        if (args.GivenOnCommandLine("steps") && args.GivenOnCommandLine("epochs"))
            throw new UsageException("give either --steps or --epochs, not both.");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Run folder '{dir}' does not exist.");
        var run = new RunDirectory(dir);
        run.RemoveStaleFiles();
        if (!run.HasCheckpoints)
            throw new InvalidDataException($"'{dir}' has no complete checkpoint to resume from ({RunDirectory.CheckpointsFolder}/ckpt-*); start the run again with 'jepa train --force --out {dir} …'.");
        string checkpoint = run.LatestIntactCheckpoint((candidate, why) => context.Error.WriteLine($"checkpoint {candidate} is damaged ({why}); trying the one before it."))
            ?? throw new InvalidDataException($"every checkpoint of '{dir}' is damaged; start the run again with 'jepa train --force --out {dir} …'.");
        var state = RunDirectory.ReadState(checkpoint);
        var saved = RunSettings.Read(dir);
        var settings = saved with
        {
            EvalData = args.String("eval-data") is { } e ? Path.GetFullPath(e) : saved.EvalData,
            EvalCount = args.NonNegativeInt("eval-count") ?? saved.EvalCount,
            SkipBad = saved.SkipBad || args.Flag("skip-bad"),
            MaxNewTokens = args.PositiveInt("max-new-tokens") ?? saved.MaxNewTokens,
            EvalEvery = args.NonNegativeInt("eval-every") ?? saved.EvalEvery,
        };
        var options = state.Train;
        if (args.NonNegativeInt("steps") is { } steps) options = options with { Steps = steps };
        if (args.PositiveInt("epochs") is { } epochs) options = options with { Steps = 0, Epochs = epochs };
        if (args.NonNegativeInt("checkpoint-every") is { } every) options = options with { CheckpointEvery = every };
        if (NonFinitePolicy(args) is { } policy) options = options with { OnNonFinite = policy };
        options.Validate();
        var (train, evalSet) = LoadData(settings, context);
        using var model = OpenForResume(checkpoint, settings, options.Seed, CommonOptions.DeviceFrom(args));
        settings.Write(dir);
        run.TrimLogs(state.Step);
        return TrainAndEvaluate(model, train, evalSet, state.Jepa, options, settings, dir, checkpoint, args.Flag("json"), context);
    }

    /// <summary>The model a checkpoint continues: itself, or for a LoRA checkpoint (adapters only) the run's base model with
    /// adapters of the saved shape, which the trainer then restores.</summary>
    private static JepaModel OpenForResume(string checkpoint, RunSettings settings, ulong seed, DeviceOptions? device)
    {
        if (!File.Exists(Path.Combine(checkpoint, PeftConfig.FileName))) return JepaModel.Load(checkpoint, device);
        string baseDir = settings.BaseModel ?? throw new InvalidDataException($"{checkpoint} holds LoRA adapters but the run does not record its base model.");
        var lora = LoraAdapters.ReadOptions(checkpoint);
        string formatFile = Path.Combine(checkpoint, TokenizerFiles.FormatFile);
        var model = JepaModel.IsPretrainedFolder(baseDir)
            ? JepaModel.LoadPretrained(baseDir, device, PredictorTokens, File.Exists(formatFile) ? ChatFormat.Load(formatFile) : null, seed)
            : JepaModel.Load(baseDir, device);
        try
        {
            model.AttachLora(lora, seed);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ training and evaluation

    /// <summary>Evaluates the model: the run's metric, and exact match beside it when the metric is another.</summary>
    private static (EvalResult Eval, EvalResult? Exact) Score(JepaModel model, IReadOnlyList<PairExample> evalSet, AnswerMetric metric,
        RunSettings settings, string? predictions, CliContext context)
    {
        var eval = EvalRunner.Run(model, evalSet, metric, new GenerateOptions(settings.MaxNewTokens), predictions, context);
        return (eval, metric == AnswerMetric.Exact ? null : eval.Rescore(AnswerMetric.Exact));
    }

    /// <summary>Appends one point of the accuracy-against-epochs curve to RUN/curve.jsonl.</summary>
    private static void AppendCurve(string outDir, int epoch, int step, EvalResult eval, EvalResult? exact)
    {
        var line = JsonLine.Of(new Dictionary<string, object?>
        {
            ["epoch"] = epoch, ["step"] = step, ["eval"] = EvalRunner.Summary(eval), ["exact"] = exact is null ? null : EvalRunner.Summary(exact),
        });
        new RunDirectory(outDir).AppendLine(RunDirectory.CurveFile, line);
    }

    private static int TrainAndEvaluate(JepaModel model, IReadOnlyList<PairExample> train, IReadOnlyList<PairExample> evalSet,
        JepaOptions jepa, TrainOptions options, RunSettings settings, string outDir, string? resumeFrom, bool json, CliContext context)
    {
        int total = options.TotalSteps(train.Count);
        var metric = AnswerMetrics.Parse(settings.Metric);
        var config = model.Model.Config;
        string dataName = settings.Data ?? $"built-in regex pairs (seed {BuiltinData.TrainSeed})";
        if (json)
        {
            context.Out.WriteLine(JsonLine.Of(new Dictionary<string, object?>
            {
                ["type"] = "start", ["device"] = model.Device.ToString(), ["parameters"] = config.ParameterCount(), ["train_examples"] = train.Count,
                ["eval_examples"] = evalSet.Count, ["total_steps"] = total, ["resumed_from"] = resumeFrom, ["lambda"] = jepa.Lambda,
            }));
        }
        else
        {
            var inv = CultureInfo.InvariantCulture;
            context.Error.WriteLine($"device   {model.Device}");
            context.Error.WriteLine(string.Create(inv,
                $"model    {config.ParameterCount() / 1e6:F2} M parameters (d_model {config.DModel}, {config.Layers} layers, {config.Heads} heads / {config.KvHeads} kv, ffn {config.Ffn}, length {config.MaxLength})"));
            context.Error.WriteLine($"tokens   {TokenizerFiles.Describe(model.Tokenizer)} ({model.Tokenizer.Special.Predictors.Count} predictor tokens), chat format {model.Format.Name}");
            context.Error.WriteLine($"data     {train.Count} training pairs from {dataName}; {evalSet.Count} for evaluation");
            string objective = jepa.UsesJepa
                ? string.Create(inv, $"LLM-JEPA λ {jepa.Lambda:G3}, γ {jepa.Gamma:G3}, k {jepa.Predictors}, {jepa.Distance.ToString().ToLowerInvariant()}")
                    + (jepa.Center ? " on centred embeddings" : "")
                    + (jepa.SigReg > 0 ? string.Create(inv, $", SIGReg {jepa.SigReg:G3}") : "")
                    + (jepa.VicReg > 0 ? string.Create(inv, $", VICReg {jepa.VicReg:G3}") : "")
                    + (jepa.LambdaWarmup > 0 ? $", λ warm-up {jepa.LambdaWarmup}" : "")
                : "next-token baseline (λ = 0)";
            objective += jepa.Labels switch
            {
                LabelReach.Conversation => "; LM loss on the whole conversation",
                LabelReach.Text => "; LM loss on the user's message alone",
                _ => "; LM loss on the answer",
            };
            context.Error.WriteLine(string.Create(inv,
                $"training {total} steps × {options.BatchSize * options.GradAccumulation} examples, lr {options.LearningRate:G3}, {objective}"));
            if (resumeFrom is not null) context.Error.WriteLine($"resuming from {resumeFrom}");
        }

        var progress = new TrainProgress(context, total, json);
        var clock = Stopwatch.StartNew();
        TrainResult result;
        try
        {
            Action<int, int>? onEpoch = settings.EvalEvery > 0 && evalSet.Count > 0
                ? (epoch, step) =>
                {
                    if (epoch % settings.EvalEvery != 0) return;
                    progress.Message($"epoch {epoch} (step {step}): evaluating {evalSet.Count} examples");
                    var (e, x) = Score(model, evalSet, metric, settings, null, context);
                    AppendCurve(outDir, epoch, step, e, x);
                    progress.Message($"epoch {epoch}: {e}" + (x is null ? "" : $"; {x}"));
                }
                : null;
            result = model.Train(train, jepa, options, outDir, progress, context.Cancellation, resumeFrom, progress.Message, onEpoch);
        }
        finally
        {
            progress.Finish();
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        if (result.Cancelled)
        {
            string how = $"jepa train --resume {outDir}";
            if (json) context.Out.WriteLine(JsonLine.Of(new Dictionary<string, object?>
            {
                ["type"] = "summary", ["cancelled"] = true, ["steps"] = result.Steps, ["total_steps"] = total, ["checkpoint"] = result.Checkpoint, ["resume"] = how,
            }));
            context.Error.WriteLine($"Interrupted at step {result.Steps} of {total}; checkpoint saved in {result.Checkpoint}.");
            context.Error.WriteLine($"Continue with: {how}");
            return ExitCodes.Interrupted;
        }

        var run = new RunDirectory(outDir);
        string? modelDir = run.ModelPath, adapterDir = null;
        if (model.Lora is not null)
        {
            adapterDir = run.AdapterPath;
            model.SaveLora(adapterDir, settings.BaseModel);
            if (settings.Merge)
            {
                model.MergeLora();
                model.Save(modelDir);
            }
            else modelDir = null;
        }
        else model.Save(modelDir);
        if (!json)
        {
            string saved = adapterDir is null ? $"model saved in {modelDir}"
                : $"LoRA adapter saved in {adapterDir}" + (modelDir is null ? $" (use it with --model {settings.BaseModel} --adapter {adapterDir})" : $", merged model in {modelDir}");
            context.Out.WriteLine($"trained {result.Steps} steps in {TrainProgress.Duration(trainSeconds)}; {saved}");
        }

        EvalResult? eval = null, exact = null;
        string? predictions = null;
        if (evalSet.Count > 0)
        {
            predictions = run.EvalPath;
            (eval, exact) = Score(model, evalSet, metric, settings, predictions, context);
            if (settings.EvalEvery > 0)
            {
                int epochs = (int)Math.Round((double)result.Steps * options.BatchSize * options.GradAccumulation / Math.Max(1, train.Count));
                AppendCurve(outDir, epochs, result.Steps, eval, exact);
            }
            if (!json)
            {
                context.Out.WriteLine(eval);
                if (exact is not null) context.Out.WriteLine(exact);
                context.Out.WriteLine($"predictions in {predictions}");
            }
        }
        else if (!json)
        {
            context.Out.WriteLine("no evaluation data (give --eval-data FILE to score the model after training)");
        }

        var summary = new Dictionary<string, object?>
        {
            ["type"] = "summary", ["cancelled"] = false, ["steps"] = result.Steps, ["train_seconds"] = Math.Round(trainSeconds, 2),
            ["lm_loss"] = result.Last?.LmLoss, ["jepa_loss"] = result.Last?.JepaLoss, ["cosine"] = result.Last?.Cosine,
            ["checkpoint"] = result.Checkpoint, ["model"] = modelDir, ["adapter"] = adapterDir, ["predictions"] = predictions,
            ["eval"] = eval is null ? null : EvalRunner.Summary(eval), ["exact"] = exact is null ? null : EvalRunner.Summary(exact),
        };
        run.WriteAllText(RunDirectory.SummaryFile, JsonLine.Indented(summary) + "\n");
        if (json) context.Out.WriteLine(JsonLine.Of(summary));
        return ExitCodes.Ok;
    }
}
