using Jepa.Core;

namespace Jepa.Training.Training;

/// <summary>
/// A training run's folder and the name of everything in it: the metrics log, the trainer's configuration, the
/// <c>jepa train</c> settings, summary, evaluation files, checkpoints (<see cref="SaveCheckpoint"/>) and the saved model.
/// Checkpoints are written atomically (whole or absent); resuming picks the newest intact one and trims the step-keyed
/// logs to it.
/// </summary>
public sealed partial class RunDirectory
{
    /// <summary>One JSON line of <see cref="Objective.StepMetrics"/> per optimizer step.</summary>
    public const string MetricsFile = "metrics.jsonl";

    /// <summary>The trainer's state and options as a run (re)starts (a <see cref="CheckpointState"/>).</summary>
    public const string ConfigFile = "config.json";

    /// <summary>What <c>jepa train</c> needs besides the trainer's state to continue a run (data, evaluation).</summary>
    public const string SettingsFile = "run.json";

    /// <summary>The accuracy-against-epochs curve: one JSON line per evaluation during training.</summary>
    public const string CurveFile = "curve.jsonl";

    /// <summary>The summary <c>jepa train</c> writes when a run is done.</summary>
    public const string SummaryFile = "summary.json";

    /// <summary>The per-example predictions of the final evaluation.</summary>
    public const string EvalFile = "eval.jsonl";

    /// <summary>The folder of checkpoints (<c>ckpt-NNNNNNN</c>, see <see cref="CheckpointName"/>).</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>The trained (or merged) model, saved in the Hugging Face layout.</summary>
    public const string ModelFolder = "model";

    /// <summary>The trained LoRA adapter (a PEFT folder).</summary>
    public const string AdapterFolder = "adapter";

    /// <summary>The next-token baseline run beside an LLM-JEPA run (<c>--baseline</c>), a run folder of its own.</summary>
    public const string BaselineFolder = "baseline";

    /// <summary>Opens the run folder at <paramref name="path"/> (nothing is created).</summary>
    public RunDirectory(string path) => Root = path;

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary>Path of <paramref name="name"/> in the run folder.</summary>
    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>Path of <see cref="MetricsFile"/>.</summary>
    public string MetricsPath => PathOf(MetricsFile);

    /// <summary>Path of <see cref="CurveFile"/>.</summary>
    public string CurvePath => PathOf(CurveFile);

    /// <summary>Path of <see cref="CheckpointsFolder"/>.</summary>
    public string CheckpointsPath => PathOf(CheckpointsFolder);

    /// <summary>Path of <see cref="ModelFolder"/>.</summary>
    public string ModelPath => PathOf(ModelFolder);

    /// <summary>Path of <see cref="AdapterFolder"/>.</summary>
    public string AdapterPath => PathOf(AdapterFolder);

    /// <summary>Path of <see cref="SummaryFile"/>.</summary>
    public string SummaryPath => PathOf(SummaryFile);

    /// <summary>Path of <see cref="EvalFile"/>.</summary>
    public string EvalPath => PathOf(EvalFile);

    /// <summary>The <see cref="BaselineFolder"/> run beside this one.</summary>
    public RunDirectory Baseline => new(PathOf(BaselineFolder));

    /// <summary>Creates the folder when it does not exist.</summary>
    public void Create() => Directory.CreateDirectory(Root);

    /// <summary>Whether <see cref="SummaryFile"/> is there (the run finished).</summary>
    public bool IsFinished => File.Exists(SummaryPath);

    /// <summary>Whether a run already wrote metrics here.</summary>
    public bool HasMetrics => File.Exists(MetricsPath);

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> in the run folder, atomically.</summary>
    public void WriteAllText(string name, string text) => AtomicFile.WriteAllText(PathOf(name), text);

    /// <summary>Appends one line to the step-keyed log <paramref name="name"/>.</summary>
    public void AppendLine(string name, string line) => File.AppendAllText(PathOf(name), line + "\n");

    /// <summary>Drops the lines of steps after <paramref name="step"/> from the step-keyed logs (<see cref="MetricsFile"/>,
    /// <see cref="CurveFile"/>), as a run resumes or reloads from the checkpoint at that step (see <see cref="StepLog.Trim"/>).</summary>
    public void TrimLogs(int step)
    {
        StepLog.Trim(MetricsPath, step);
        StepLog.Trim(CurvePath, step);
    }

    /// <summary>Removes what a killed process can leave in a run folder: temporary files of atomic writes (<c>.NAME.ID.tmp</c>)
    /// and half-written or half-replaced checkpoint folders. Returns how many entries it removed.</summary>
    public int RemoveStaleFiles()
    {
        int removed = 0;
        foreach (var dir in new[] { Root, CheckpointsPath, ModelPath })
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.GetFiles(dir, ".*.tmp")) { File.Delete(f); removed++; }
            foreach (var d in Directory.GetDirectories(dir, ".*.tmp")) { Directory.Delete(d, recursive: true); removed++; }
            foreach (var d in Directory.GetDirectories(dir, "ckpt-*.old")) { Directory.Delete(d, recursive: true); removed++; }
        }
        return removed;
    }

    /// <summary>Removes a previous run's files (nothing else in the folder): its logs, settings, summary, predictions,
    /// checkpoints, saved model and adapter, baseline run, and stale temporary files.</summary>
    public void Discard()
    {
        if (!Directory.Exists(Root)) return;
        foreach (var f in new[] { MetricsFile, ConfigFile, SettingsFile, CurveFile, SummaryFile, EvalFile })
            if (File.Exists(PathOf(f))) File.Delete(PathOf(f));
        foreach (var d in new[] { CheckpointsFolder, ModelFolder, AdapterFolder, BaselineFolder })
            if (Directory.Exists(PathOf(d))) Directory.Delete(PathOf(d), recursive: true);
        RemoveStaleFiles();
    }
}
