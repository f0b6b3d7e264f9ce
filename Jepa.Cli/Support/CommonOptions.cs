using Jepa.Cli.Options;
using Jepa.Core;
using Jepa.Training;
using Jepa.Training.Evaluation;
using Jepa.Training.Generation;

namespace Jepa.Cli.Support;

/// <summary>Options several commands share, with one spelling and one meaning.</summary>
public static class CommonOptions
{
    /// <summary><c>--device cpu|cuda|opencl</c>.</summary>
    public static OptionSpec Device { get; } = OptionSpec.Choice("device", "accelerator to run on", "JEPA_DEVICE, else the best present", "cpu", "cuda", "opencl");

    /// <summary><c>--precision fp32|tf32|bf16</c>: the linear layers' forward products in float32 or on tensor cores.</summary>
    public static OptionSpec Precision { get; } = OptionSpec.Choice("precision",
        "linear layers' forward products: fp32 (bitwise reproducible), or tf32 / bf16 on tensor cores (CUDA, SM 80+)", "fp32", "fp32", "tf32", "bf16");

    /// <summary><c>--skip-bad</c>.</summary>
    public static OptionSpec SkipBad { get; } = OptionSpec.Flag("skip-bad", "skip malformed JSONL lines (each is reported) instead of stopping at the first");

    /// <summary><c>--json</c>.</summary>
    public static OptionSpec Json { get; } = OptionSpec.Flag("json", "print JSON objects on standard output instead of text");

    /// <summary><c>--adapter DIR</c>.</summary>
    public static OptionSpec Adapter { get; } = new("adapter", "DIR", "a LoRA adapter folder (jepa train's RUN/adapter, or a PEFT folder) loaded onto --model", "none");

    /// <summary>The model of <c>--model</c> (a saved model, a checkpoint or a Hugging Face folder) with the LoRA adapter of
    /// <c>--adapter</c> when given, on the device of <c>--device</c>.</summary>
    public static JepaModel OpenModel(ParsedArgs args, string modelDir)
    {
        var model = JepaModel.Open(modelDir, DeviceFrom(args));
        try
        {
            if (args.String("adapter") is { } adapter)
            {
                if (!Directory.Exists(adapter)) throw new DirectoryNotFoundException($"Adapter folder '{adapter}' does not exist.");
                model.LoadLora(adapter);
            }
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The default token limit of a generated answer: 128, the paper's evaluation default.</summary>
    public const int DefaultMaxNewTokens = 128;

    /// <summary><c>--metric</c> with every metric, for the commands that score saved or generated answers.</summary>
    public static OptionSpec Metric { get; } = OptionSpec.Choice("metric", "how answers are scored (Metrics above)", "exact", AnswerMetrics.Names.ToArray());

    /// <summary><c>--spider-db DIR</c>.</summary>
    public static OptionSpec SpiderDb { get; } = new("spider-db", "DIR", "the Spider databases, DIR/NAME/NAME.sqlite, for --metric spider and spider-exec (NAME from the prompt's 'For db_id:[NAME]')");

    /// <summary>The metrics, one rule each, for the help of the commands that take <see cref="Metric"/>.</summary>
    public const string MetricHelp = """
        Metrics (the answer is stripped of surrounding white space first, as the paper's code does):
          exact        the answer equals the reference (the paper's accuracy)
          startswith   the answer begins with the reference (the paper's rule for Rotten Tomatoes and Yelp)
          gsm8k-paper  the text after '\n#### ' on the last line, compared as strings (the paper's GSM8K rule)
          gsm8k        the number after the last '####', compared as numbers (1,800 = 1800.0)
          nq           a '; '-separated piece of the answer occurs in the reference (the paper's NQ-open rule;
                       an empty answer or piece counts correct, as in the paper's code)
          nq-contains  a reference answer's normalised words occur in the normalised answer (SQuAD-style)
          regex        NL-RX semantic equivalence (unparsable output counts wrong)
          spider       the generated and gold SQL, run on the prompt's database (--spider-db), print the same
                       result (the paper's rule); spider-exec is printed beside it, and the other way round
          spider-exec  they return the same rows as multisets, in order when the gold query has ORDER BY
                       (execution accuracy). A query that fails, writes or passes 5 s or 100,000 rows is wrong.
          hellaswag    no generation: the likeliest of the tokens A, B, C, D after the prompt (one forward pass
                       per --batch prompts) is the answer, which must equal the reference (the paper's HellaSwag
                       rule); the predictions file holds the letter, so score --metric exact re-scores it
        """;

    /// <summary>The scorer of <c>--metric</c> (default exact) with the databases of <c>--spider-db</c>.</summary>
    public static AnswerScorer ScorerFrom(ParsedArgs args)
    {
        var metric = AnswerMetrics.Parse(args.Choice("metric") ?? "exact");
        string? spiderDb = args.String("spider-db");
        if (metric.NeedsDatabase() && spiderDb is null) throw new UsageException($"--metric {metric.Name()} needs --spider-db DIR (the Spider databases, DIR/NAME/NAME.sqlite).");
        return new AnswerScorer(metric, spiderDb is null ? null : new SpiderMatch(spiderDb));
    }

    /// <summary>The other Spider figure beside a Spider metric (<c>spider-exec</c> beside <c>spider</c> and the other way round), or null.</summary>
    public static AnswerScorer? CompanionOf(AnswerScorer scorer) => scorer.Metric switch
    {
        AnswerMetric.Spider => scorer.With(AnswerMetric.SpiderExec),
        AnswerMetric.SpiderExec => scorer.With(AnswerMetric.Spider),
        _ => null,
    };

    /// <summary>Decoding options.</summary>
    public static OptionSpec[] Generation { get; } =
    [
        new("max-new-tokens", "N", "most tokens to generate per answer (the paper's 128)", "128"),
        new("temperature", "T", "sampling temperature; 0 decodes greedily", "0"),
        new("top-p", "P", "nucleus sampling: keep the most likely tokens up to this probability", "1"),
        new("sample-seed", "S", "seed of the sampler", "0"),
    ];

    /// <summary>The device chosen by <c>--device</c>, or null for <c>JEPA_DEVICE</c> / the best present.</summary>
    public static DeviceOptions? DeviceFrom(ParsedArgs args)
    {
        var options = DeviceFrom(args.Choice("device"));
        if (args.Table.Find("precision") is null || args.Choice("precision") is not { } m || m == "fp32") return options;
        return (options ?? new DeviceOptions()) with { MatMulPrecision = m == "tf32" ? MatMulPrecision.Tf32 : MatMulPrecision.Bf16 };
    }

    /// <summary>The device named <paramref name="name"/>, or null for the automatic choice.</summary>
    public static DeviceOptions? DeviceFrom(string? name) => name is null ? null : new DeviceOptions { Kind = DeviceKindNames.Parse(name) };

    /// <summary>The decoding options.</summary>
    public static GenerateOptions GenerationFrom(ParsedArgs args)
    {
        var o = new GenerateOptions(args.PositiveInt("max-new-tokens") ?? DefaultMaxNewTokens, args.Float("temperature") ?? 0f, args.Float("top-p") ?? 1f,
            args.ULong("sample-seed") ?? 0);
        try { return o.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }
}
