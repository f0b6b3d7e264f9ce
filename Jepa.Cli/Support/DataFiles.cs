using Jepa.Training.Data;

namespace Jepa.Cli.Support;

/// <summary>Reading pair data for the commands: JSONL files, reporting skipped lines on standard error.</summary>
public static class DataFiles
{
    /// <summary>Reads <paramref name="path"/>; with <paramref name="skipBad"/>, malformed lines are skipped and reported.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A malformed line without <paramref name="skipBad"/>, or no examples at all.</exception>
    public static IReadOnlyList<PairExample> Read(string path, bool skipBad, CliContext context)
    {
        var result = JsonlPairReader.Read(path, skipBad);
        if (result.Skipped > 0)
        {
            foreach (string p in result.Problems.Take(5)) context.Error.WriteLine($"skipped {p}");
            if (result.Skipped > 5) context.Error.WriteLine($"… and {result.Skipped - 5} more malformed lines");
            context.Error.WriteLine($"{path}: skipped {result.Skipped} malformed line(s), read {result.Examples.Count} example(s).");
        }
        if (result.Examples.Count == 0) throw new InvalidDataException($"{path}: no examples.");
        return result.Examples;
    }
}
