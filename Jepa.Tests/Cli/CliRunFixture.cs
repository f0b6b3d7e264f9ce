using Jepa.RegexTask;

namespace Jepa.Tests.Cli;

/// <summary>
/// One short training run shared by the tests that need a trained model (eval, generate, embed, plot): 12 regex
/// pairs, a tiny model from a --config file, 3 steps, evaluation on 3 pairs.
/// </summary>
public sealed class CliRunFixture : IDisposable
{
    public CliRunFixture()
    {
        Root = Directory.CreateTempSubdirectory("jepa-cli-").FullName;
        Config = Path.Combine(Root, "tiny.json");
        File.WriteAllText(Config, CliRunner.TinyConfig);
        Data = Path.Combine(Root, "pairs.jsonl");
        RegexPairGenerator.WriteJsonl(Data, 12, seed: 5);
        Run = Path.Combine(Root, "run");
        Train = CliRunner.Run("train", "--data", Data, "--eval-data", Data, "--eval-count", "3", "--config", Config,
            "--steps", "3", "--out", Run, "--metric", "regex");
    }

    public string Root { get; }
    public string Config { get; }
    public string Data { get; }
    public string Run { get; }
    public string Model => Path.Combine(Run, "model");
    internal CliOutcome Train { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
