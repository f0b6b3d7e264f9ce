using Jepa.Core.Safetensors;
using Jepa.Tests.Support;

namespace Jepa.Tests.Fuzz;

/// <summary>
/// Mutated safetensors files, derived from seeds: each must either fail with a clean <see cref="InvalidDataException"/>
/// (or <see cref="IOException"/>) naming the file, or load with the same tensor names, dtypes and shapes and with every
/// element equal to the original except those whose own bytes were changed. A shifted, truncated or misparsed tensor —
/// a wrong result without an error — fails the test. <c>JEPA_FUZZ_CASES</c> raises the count (the soak script).
/// </summary>
public sealed class SafetensorsFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-fuzz-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EveryMutatedFileLoadsExactlyOrFailsCleanly()
    {
        int cases = FuzzCases.Count(700), clean = 0, loaded = 0;
        for (int seed = 0; seed < cases; seed++)
        {
            var random = new Random(seed);
            var tensors = new Dictionary<string, HostTensor>();
            int count = random.Next(1, 4);
            for (int t = 0; t < count; t++)
            {
                int n = random.Next(1, 7);
                tensors[$"t{t}"] = new HostTensor(Reference.Random(n, (ulong)(seed * 8 + t), -3f, 3f), n);
            }
            string path = Path.Combine(_dir, $"f{seed % 16}.safetensors");
            SafetensorsWriter.Write(path, tensors);
            byte[] original = File.ReadAllBytes(path);
            long dataStart;
            List<(string Name, long Begin, long End, int[] Shape)> layout;
            using (var f = SafetensorsFile.Open(path))
            {
                dataStart = f.DataStart;
                layout = f.Tensors.Select(t => (t.Name, t.Begin, t.End, t.Shape.ToArray())).ToList();
            }
            var (bytes, changed) = Mutate(original, random);
            File.WriteAllBytes(path, bytes);
            try
            {
                // A load must describe the same tensors at the same places (a name may change only if header bytes did), and
                // every element must hold the original bytes of its place unless those very bytes were changed.
                using var file = SafetensorsFile.Open(path);
                Assert.Equal(layout.Count, file.Tensors.Count);
                bool headerTouched = changed.Any(c => c < dataStart);
                foreach (var info in file.Tensors)
                {
                    var was = layout.Single(l => l.Begin == info.Begin);
                    Assert.Equal(was.End, info.End);
                    Assert.Equal(was.Shape, info.Shape);
                    Assert.Equal(SafetensorsDType.F32, info.DType);
                    if (!headerTouched) Assert.Equal(was.Name, info.Name);
                    float[] read;
                    try { read = file.ReadFloat32(info.Name); }
                    catch (InvalidDataException e) when (e.Message.Contains("not finite")) { continue; } // a byte flip made a NaN
                    for (int i = 0; i < read.Length; i++)
                    {
                        long at = dataStart + info.Begin + 4L * i;
                        if (changed.Any(c => c >= at && c < at + 4)) continue;
                        float want = BitConverter.ToSingle(original, (int)at);
                        Assert.True(BitConverter.SingleToInt32Bits(read[i]) == BitConverter.SingleToInt32Bits(want),
                            $"seed {seed}: '{info.Name}'[{i}] is {read[i]}, not {want}, though its bytes were not changed");
                    }
                }
                loaded++;
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                Assert.Contains(path, e.Message);
                Assert.DoesNotContain('\n', e.Message);
                clean++;
            }
        }
        Assert.Equal(cases, clean + loaded);
        Assert.True(clean > cases / 10 && loaded > cases / 50, $"{clean} clean errors, {loaded} loads: the mutations should give both");
    }

    /// <summary>One seeded mutation: flip, overwrite, insert or delete bytes, truncate, or change the header length.
    /// Returns the new bytes and the file offsets whose content changed in place (for length-preserving mutations).</summary>
    private static (byte[] Bytes, List<long> Changed) Mutate(byte[] b, Random r)
    {
        var changed = new List<long>();
        var bytes = (byte[])b.Clone();
        switch (r.Next(7))
        {
            case 0: // flip bits anywhere
            case 1:
                for (int k = r.Next(1, 4); k > 0; k--) { int i = r.Next(bytes.Length); bytes[i] ^= (byte)(1 << r.Next(8)); changed.Add(i); }
                return (bytes, changed);
            case 2: // overwrite a byte with a JSON-ish character
                { int i = r.Next(bytes.Length); const string json = "{}[],:\" 019eE-"; bytes[i] = (byte)json[r.Next(json.Length)]; changed.Add(i); return (bytes, changed); }
            case 3: // truncate
                return (bytes[..r.Next(bytes.Length)], changed);
            case 4: // insert bytes
                { int i = r.Next(bytes.Length + 1); var extra = new byte[r.Next(1, 5)]; r.NextBytes(extra); return ([.. bytes[..i], .. extra, .. bytes[i..]], changed); }
            case 5: // delete bytes
                { int i = r.Next(bytes.Length); int n = Math.Min(r.Next(1, 5), bytes.Length - i); return ([.. bytes[..i], .. bytes[(i + n)..]], changed); }
            default: // header length off by a little
                {
                    ulong n = BitConverter.ToUInt64(bytes, 0);
                    long delta = r.Next(1, 9) * (r.Next(2) == 0 ? -1 : 1);
                    BitConverter.GetBytes((ulong)Math.Max(0, (long)n + delta)).CopyTo(bytes, 0);
                    for (int i = 0; i < 8; i++) changed.Add(i);
                    return (bytes, changed);
                }
        }
    }
}
