using System.Text;
using Jepa.Cli.Support;

namespace Jepa.Tests.Fuzz;

/// <summary>
/// Mutated settings files (a model config and training options), derived from seeds: each parses to a model config
/// that validates, or fails with a one-line <see cref="InvalidDataException"/> naming the file — never an internal error
/// or a config that would fail later. <c>JEPA_FUZZ_CASES</c> raises the count.
/// </summary>
public sealed class ConfigFuzzTests
{
    private const string Config = """
        { "model": { "d_model": 64, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 172, "max_length": 128, "rope_theta": 10000 },
          "steps": 300, "batch": 16, "lr": 0.003, "warmup": 30 }
        """;

    [Fact]
    public void EveryMutatedConfigParsesToAValidModelOrFailsOnOneLine()
    {
        int cases = FuzzCases.Count(300);
        int errors = 0;
        for (int seed = 0; seed < cases; seed++)
        {
            var r = new Random(seed);
            string text = Mutate(Config, r);
            try
            {
                var file = SettingsFile.Parse(text, "fuzz.json", 271);
                file.Model?.Validate();
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("fuzz.json", e.Message);
                Assert.False(e.Message.Contains('\n'), $"seed {seed}: {e.Message}");
                errors++;
            }
        }
        Assert.InRange(errors, cases / 10, cases - 1);
    }

    private static string Mutate(string s, Random r)
    {
        var b = new StringBuilder(s);
        for (int k = r.Next(1, 3); k > 0; k--)
        {
            int i = r.Next(b.Length);
            switch (r.Next(4))
            {
                case 0: b[i] = "0123456789-.eE"[r.Next(14)]; break;
                case 1: b.Insert(i, new[] { "9", "99999999999", "-", "1e9", "\"x\"", "null", "true", ",", "}" }[r.Next(9)]); break;
                case 2: b.Remove(i, Math.Min(r.Next(1, 4), b.Length - i)); break;
                default: b[i] = "{}[],:\" "[r.Next(8)]; break;
            }
        }
        return b.ToString();
    }
}
