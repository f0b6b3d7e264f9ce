using Jepa.Training.Training;

namespace Jepa.Cli.Experiments;

/// <summary>Where a run of an experiment stands, from what its folder holds.</summary>
public enum RunState
{
    /// <summary>Neither a summary nor a checkpoint: (re)started from scratch, its folder cleared first.</summary>
    New,

    /// <summary>Checkpoints but no summary: continued with <c>jepa train --resume</c>.</summary>
    Resume,

    /// <summary><see cref="RunDirectory.SummaryFile"/> is there: finished, skipped.</summary>
    Finished,
}

/// <summary>One run of an experiment: a configuration trained with one seed, in <c>DIR/runs/&lt;config&gt;-s&lt;seed&gt;</c>.</summary>
/// <param name="Config">The configuration's name.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Directory">The run folder (full path).</param>
/// <param name="Arguments">The <c>jepa train</c> options of the run, <c>--seed</c> included, <c>--out</c> left out.</param>
public sealed record ExperimentRun(string Config, ulong Seed, string Directory, IReadOnlyList<string> Arguments)
{
    /// <summary>The run's output (standard output and error of <c>jepa train</c>).</summary>
    public const string LogFile = "train.log";

    /// <summary>The run's options as started, to notice a spec that changed under a finished or half-done run.</summary>
    public const string ArgumentsFile = "args.json";

    /// <summary>The run's name, <c>&lt;config&gt;-s&lt;seed&gt;</c>.</summary>
    public string Name => $"{Config}-s{Seed}";

    /// <summary>The full <c>jepa train</c> command line of a new run (after <c>jepa</c>).</summary>
    public IReadOnlyList<string> TrainArguments => ["train", "--out", Directory, .. Arguments];

    /// <summary>Where the run stands now.</summary>
    public RunState State =>
        Run.IsFinished ? RunState.Finished
        : Run.HasCheckpoints ? RunState.Resume
        : RunState.New;

    /// <summary>The run folder <c>jepa train</c> writes (see <see cref="RunDirectory"/> for its files).</summary>
    public RunDirectory Run => new(Directory);

    /// <summary>Path of a file in the run folder.</summary>
    public string PathOf(string file) => Path.Combine(Directory, file);
}
