using Jepa.Core;
using System.Text.Json;
using Jepa.Training.Training;

namespace Jepa.Cli.Support;

/// <summary>
/// What <c>jepa train</c> needs besides the trainer's own state to continue a run: where its data came from
/// and how it is evaluated. Saved as <see cref="RunDirectory.SettingsFile"/> in the run folder.
/// </summary>
/// <param name="Data">Full path of the training JSONL, or null for the built-in regex pairs.</param>
/// <param name="TrainCount">Built-in training pairs (without <paramref name="Data"/>).</param>
/// <param name="EvalData">Full path of the evaluation JSONL, or null.</param>
/// <param name="EvalCount">Examples to evaluate (null: all of the eval data).</param>
/// <param name="SkipBad">Skip malformed JSONL lines.</param>
/// <param name="Metric">The metric's name.</param>
/// <param name="MaxNewTokens">Token limit of generated answers.</param>
/// <param name="BaseModel">Full path of the <c>--model</c> folder the run fine-tunes, or null for a new model.</param>
/// <param name="Merge">With LoRA, also save the merged model.</param>
/// <param name="EvalEvery">Evaluate every this many epochs while training (0: only at the end), into <see cref="RunDirectory.CurveFile"/>
/// (one JSON line per evaluation, <c>{"epoch", "step", "eval": {...}, "exact": {...}}</c>).</param>
public sealed record RunSettings(string? Data, int TrainCount, string? EvalData, int? EvalCount, bool SkipBad, string Metric, int MaxNewTokens,
    string? BaseModel = null, bool Merge = false, int EvalEvery = 0)
{
    /// <summary>Writes the settings into <paramref name="runDirectory"/> (<see cref="RunDirectory.SettingsFile"/>).</summary>
    public void Write(string runDirectory) =>
        new RunDirectory(runDirectory).WriteAllText(RunDirectory.SettingsFile, JsonSerializer.Serialize(this, RunJson.Options));

    /// <summary>Reads the settings of the run in <paramref name="runDirectory"/>.</summary>
    /// <exception cref="InvalidDataException">The file is missing or malformed.</exception>
    public static RunSettings Read(string runDirectory)
    {
        string path = new RunDirectory(runDirectory).PathOf(RunDirectory.SettingsFile);
        if (!File.Exists(path)) throw new InvalidDataException($"'{runDirectory}' is not a 'jepa train' run folder: {path} is missing.");
        try
        {
            return JsonSerializer.Deserialize<RunSettings>(File.ReadAllText(path), RunJson.Options) ?? throw new InvalidDataException($"{path}: empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed ({e.Message}).", e);
        }
    }
}
