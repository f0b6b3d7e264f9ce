namespace Jepa.Tests.Fuzz;

/// <summary>How many seeded cases a fuzz test runs: its suite default, or <c>JEPA_FUZZ_CASES</c> (scripts/fuzz-soak.sh).</summary>
internal static class FuzzCases
{
    public static int Count(int suiteDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("JEPA_FUZZ_CASES"), out int n) && n > 0 ? n : suiteDefault;
}
