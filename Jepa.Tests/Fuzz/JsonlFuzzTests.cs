using System.Text;
using Jepa.Training.Data;

namespace Jepa.Tests.Fuzz;

/// <summary>
/// Mutated JSONL pair files, derived from seeds: reading each either fails with a one-line
/// <see cref="InvalidDataException"/> naming the file and line, or returns every line it did not skip; with skip-bad it
/// never fails, and examples plus skipped lines account for every non-blank line. Lines whose bytes the mutation left
/// alone read as the original examples. <c>JEPA_FUZZ_CASES</c> raises the count.
/// </summary>
public sealed class JsonlFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-fuzz-jsonl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Lines =
    [
        """{"text": "lines with a vowel", "code": ".*[AEIOUaeiou].*"}""",
        """{"messages": [{"role": "system", "content": "Convert"}, {"role": "user", "content": "a number é"}, {"role": "assistant", "content": "[0-9]+"}]}""",
        """{"text": "tab\tand \"quote\"", "code": "x\\y", "system": "s"}""",
    ];

    [Fact]
    public void EveryMutatedFileReadsExactlyOrFailsOnOneLineNamingIt()
    {
        int cases = FuzzCases.Count(400);
        string path = Path.Combine(_dir, "pairs.jsonl");
        byte[] original = Encoding.UTF8.GetBytes(string.Join("\n", Lines) + "\n");
        var expected = JsonlPairReader.Read(Write(path, original)).Examples;
        int errors = 0;
        for (int seed = 0; seed < cases; seed++)
        {
            var r = new Random(seed);
            byte[] bytes = Mutate(original, r);
            Write(path, bytes);
            var lines = Split(bytes);
            try
            {
                var strict = JsonlPairReader.Read(path);
                CheckUntouched(strict.Examples, lines, expected, seed);
            }
            catch (InvalidDataException e)
            {
                Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(path)}:\d+: ", e.Message);
                Assert.False(e.Message.Contains('\n'), $"seed {seed}: {e.Message}");
                errors++;
            }
            var lenient = JsonlPairReader.Read(path, skipBad: true);
            Assert.Equal(lines.Count(l => l.Any(c => !char.IsWhiteSpace((char)c))), lenient.Examples.Count + lenient.Skipped);
        }
        Assert.InRange(errors, cases / 10, cases - 1);
    }

    private static void CheckUntouched(IReadOnlyList<PairExample> read, List<byte[]> lines, IReadOnlyList<PairExample> expected, int seed)
    {
        // Every original line still present byte for byte reads as its original example, in order.
        var originals = Lines.Select(Encoding.UTF8.GetBytes).ToArray();
        var kept = new List<PairExample>();
        foreach (var line in lines)
        {
            int k = Array.FindIndex(originals, o => o.AsSpan().SequenceEqual(line));
            if (k >= 0) kept.Add(expected[k]);
        }
        foreach (var e in kept) Assert.True(read.Contains(e), $"seed {seed}: an untouched line did not read as its example");
    }

    private static string Write(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static List<byte[]> Split(byte[] bytes)
    {
        var lines = new List<byte[]>();
        int start = 0;
        while (start < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', start);
            int end = nl < 0 ? bytes.Length : nl;
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            lines.Add(bytes[start..stop]);
            start = end + 1;
        }
        return lines;
    }

    private static byte[] Mutate(byte[] b, Random r)
    {
        var bytes = (byte[])b.Clone();
        switch (r.Next(5))
        {
            case 0:
                for (int k = r.Next(1, 3); k > 0; k--) bytes[r.Next(bytes.Length)] ^= (byte)(1 << r.Next(8));
                return bytes;
            case 1:
                { const string s = "{}[],:\"\\ \nu0dD8"; bytes[r.Next(bytes.Length)] = (byte)s[r.Next(s.Length)]; return bytes; }
            case 2:
                return bytes[..r.Next(bytes.Length)];
            case 3:
                { int i = r.Next(bytes.Length + 1); byte[] extra = r.Next(3) switch { 0 => "\\ud800"u8.ToArray(), 1 => [0xFF], _ => [0xC3] }; return [.. bytes[..i], .. extra, .. bytes[i..]]; }
            default:
                { int i = r.Next(bytes.Length); int n = Math.Min(r.Next(1, 6), bytes.Length - i); return [.. bytes[..i], .. bytes[(i + n)..]]; }
        }
    }
}
