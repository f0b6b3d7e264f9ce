using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Tests.Support;

namespace Jepa.Tests.Core;

public sealed class SafetensorsTests(CpuFixture f) : IClassFixture<CpuFixture>, IDisposable
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-llama");
    private static string ModelPath => Path.Combine(FixtureDir, "model.safetensors");
    private static string ExpectedPath => Path.Combine(FixtureDir, "expected.safetensors");

    private readonly string _dir = Directory.CreateTempSubdirectory("jepa-safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Temp(string name) => Path.Combine(_dir, name);

    // ---- the fixture ----

    /// <summary>The tensor names and shapes of a Hugging Face Llama checkpoint with this config.</summary>
    private static Dictionary<string, int[]> LlamaShapes(string configPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        var c = doc.RootElement;
        int V = c.GetProperty("vocab_size").GetInt32(), H = c.GetProperty("hidden_size").GetInt32();
        int F = c.GetProperty("intermediate_size").GetInt32(), L = c.GetProperty("num_hidden_layers").GetInt32();
        int nH = c.GetProperty("num_attention_heads").GetInt32(), nKV = c.GetProperty("num_key_value_heads").GetInt32();
        int hd = c.GetProperty("head_dim").GetInt32();
        var shapes = new Dictionary<string, int[]>
        {
            ["model.embed_tokens.weight"] = [V, H],
            ["lm_head.weight"] = [V, H],
            ["model.norm.weight"] = [H],
        };
        for (int l = 0; l < L; l++)
        {
            string p = $"model.layers.{l}.";
            shapes[p + "input_layernorm.weight"] = [H];
            shapes[p + "post_attention_layernorm.weight"] = [H];
            shapes[p + "self_attn.q_proj.weight"] = [nH * hd, H];
            shapes[p + "self_attn.k_proj.weight"] = [nKV * hd, H];
            shapes[p + "self_attn.v_proj.weight"] = [nKV * hd, H];
            shapes[p + "self_attn.o_proj.weight"] = [H, nH * hd];
            shapes[p + "mlp.gate_proj.weight"] = [F, H];
            shapes[p + "mlp.up_proj.weight"] = [F, H];
            shapes[p + "mlp.down_proj.weight"] = [H, F];
        }
        return shapes;
    }

    [Fact]
    public void ReadsFixtureBf16WeightsWithConfigShapes()
    {
        var shapes = LlamaShapes(Path.Combine(FixtureDir, "config.json"));
        Assert.Equal((128, 64, 176), (shapes["lm_head.weight"][0], shapes["model.norm.weight"][0], shapes["model.layers.1.mlp.up_proj.weight"][0]));
        byte[] raw = File.ReadAllBytes(ModelPath);

        using var reader = SafetensorsReader.Open(FixtureDir);
        var file = Assert.IsType<SafetensorsFile>(reader);
        Assert.Equal(ModelPath, file.Source);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(shapes.Keys.Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name));
        foreach (var info in file.Tensors)
        {
            Assert.Equal(SafetensorsDType.BF16, info.DType);
            Assert.Equal(shapes[info.Name], info.Shape);
            var w = file.ReadFloat32(info.Name);
            Assert.Equal(info.ElementCount, w.Length);
            Assert.True(w.All(float.IsFinite), $"{info.Name} has non-finite values");
            Assert.Contains(w, x => x != 0f);
            // Independent decode of the file's bytes: a BF16 is the upper half of a float32.
            var expected = new float[w.Length];
            for (int i = 0; i < w.Length; i++)
                expected[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(checked((int)info.FileOffset + 2 * i))) << 16);
            Reference.AssertBitwiseEqual(w, expected, info.Name);
        }
    }

    [Fact]
    public void ReadsFixtureExpectedF32AndI64Tensors()
    {
        using var file = SafetensorsFile.Open(ExpectedPath);
        byte[] raw = File.ReadAllBytes(ExpectedPath);
        Assert.Contains("float64 reference", file.Metadata["note"]);

        var ids = file.Info("input_ids");
        Assert.Equal(SafetensorsDType.I64, ids.DType);
        Assert.Equal(new[] { 2, 16 }, ids.Shape);
        long[] ids64 = file.ReadInt64("input_ids");
        int[] ids32 = file.ReadInt32("input_ids");
        Assert.Equal(32, ids64.Length);
        Assert.All(ids64, id => Assert.InRange(id, 0, 127));
        Assert.Equal(ids64, ids32.Select(x => (long)x));
        var wrongKind = Assert.Throws<InvalidDataException>(() => file.ReadFloat32("input_ids"));
        Assert.Contains("ReadInt64", wrongKind.Message);

        foreach (var (name, shape) in new[] { ("last_hidden_state", new[] { 2, 16, 64 }), ("logits", new[] { 2, 16, 128 }) })
        {
            var info = file.Info(name);
            Assert.Equal(SafetensorsDType.F32, info.DType);
            Assert.Equal(shape, info.Shape);
            var x = file.ReadFloat32(name);
            Assert.True(x.All(float.IsFinite), $"{name} has non-finite values");
            var bytes = raw.AsSpan(checked((int)info.FileOffset), checked((int)info.ByteLength));
            Reference.AssertBitwiseEqual(x, bytes.ToArray().Chunk(4).Select(b => BinaryPrimitives.ReadSingleLittleEndian(b)).ToArray(), name);
            Assert.Throws<InvalidDataException>(() => file.ReadInt64(name));
        }
    }

    [Fact]
    public void ReadsTensorsStraightToTheDevice()
    {
        using var file = SafetensorsFile.Open(ModelPath);
        using var t = file.ReadTensor("model.layers.1.self_attn.k_proj.weight", f.Device);
        Assert.Equal(new[] { 32, 64 }, t.Shape);
        Reference.AssertBitwiseEqual(t.ToArray(), file.ReadFloat32("model.layers.1.self_attn.k_proj.weight"), "device copy");

        using var wrong = Tensor.Zeros(f.Device, 64, 32);
        var e = Assert.Throws<ArgumentException>(() => file.ReadInto("model.layers.1.self_attn.k_proj.weight", wrong));
        Assert.Contains("[32, 64]", e.Message);
        Assert.Contains("[64, 32]", e.Message);
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("model.norm.weight", new float[63]));
    }

    [Fact]
    public void MissingTensorNamesTheFileAndSimilarNames()
    {
        using var file = SafetensorsFile.Open(ModelPath);
        var e = Assert.Throws<KeyNotFoundException>(() => file.ReadFloat32("model.layers.0.self_attn.qproj.weight"));
        Assert.Contains(ModelPath, e.Message);
        Assert.Contains("'model.layers.0.self_attn.qproj.weight'", e.Message);
        Assert.Contains("21 tensors", e.Message);
        Assert.Contains("'model.layers.0.self_attn.q_proj.weight'", e.Message);
        Assert.False(file.Contains("model.layers.2.input_layernorm.weight"));
    }

    // ---- bfloat16 ----

    [Fact]
    public void Bf16ConversionIsExactOnHandMadeValues()
    {
        Assert.Equal(1f, Bf16.ToSingle(0x3F80));
        Assert.Equal(-2f, Bf16.ToSingle(0xC000));
        Assert.Equal(float.PositiveInfinity, Bf16.ToSingle(0x7F80));
        Assert.Equal(float.NegativeInfinity, Bf16.ToSingle(0xFF80));
        Assert.Equal(MathF.Pow(2, -133), Bf16.ToSingle(0x0001)); // smallest subnormal
        Assert.Equal(int.MinValue, BitConverter.SingleToInt32Bits(Bf16.ToSingle(0x8000))); // -0
        Assert.True(float.IsNaN(Bf16.ToSingle(0x7FC0)));

        Assert.Equal(0x3F80, Bf16.FromSingle(1f));
        Assert.Equal(0x3F80, Bf16.FromSingle(1f + MathF.Pow(2, -8)));                     // tie -> even (down)
        Assert.Equal(0x3F82, Bf16.FromSingle(1f + 3 * MathF.Pow(2, -8)));                 // tie -> even (up)
        Assert.Equal(0x3F81, Bf16.FromSingle(1f + MathF.Pow(2, -8) + MathF.Pow(2, -20))); // above the tie
        Assert.Equal(0xBF80, Bf16.FromSingle(-1f - MathF.Pow(2, -9)));                    // below the tie
        Assert.Equal(0x7F80, Bf16.FromSingle(float.MaxValue));                             // overflow -> +inf
        Assert.Equal(0x8000, Bf16.FromSingle(-0f));
        Assert.Equal(0x0001, Bf16.FromSingle(MathF.Pow(2, -133)));
        Assert.True(float.IsNaN(Bf16.ToSingle(Bf16.FromSingle(BitConverter.Int32BitsToSingle(0x7F800001))))); // NaN stays NaN
        Assert.Equal(0xFFC0, Bf16.FromSingle(BitConverter.Int32BitsToSingle(unchecked((int)0xFF800001))) & 0xFFC0);

        // Every non-NaN bit pattern survives widening and narrowing unchanged.
        var changed = Enumerable.Range(0, 65536)
            .Where(b => !float.IsNaN(Bf16.ToSingle((ushort)b)) && Bf16.FromSingle(Bf16.ToSingle((ushort)b)) != b);
        Assert.Empty(changed);
    }

    // ---- writer round trips ----

    private static Dictionary<string, HostTensor> MixedTensors()
    {
        float[] special = [0f, -0f, 1f, -1.5f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN, 3.14159265f, 1e-40f];
        return new Dictionary<string, HostTensor>
        {
            ["w.b"] = new(Reference.Random(3 * 5 * 7, 1), 3, 5, 7),
            ["w.a"] = new(Reference.Random(13, 2, -100f, 100f), 13),
            ["special"] = new(special, special.Length),
            ["scalar"] = new(new[] { 42.5f }),
            ["empty"] = new(Array.Empty<float>(), 0, 3),
            ["ünïcode/name+1"] = new(Reference.Random(2 * 3, 3), 2, 1, 3),
        };
    }

    [Fact]
    public void F32RoundTripIsBitwise()
    {
        var tensors = MixedTensors();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "round \"trip\" ✓" };
        string path = Temp("f32.safetensors");
        SafetensorsWriter.Write(path, tensors, metadata, allowNonFinite: true);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(0, file.DataStart % 8);
        Assert.Equal(metadata, file.Metadata);
        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name));
        long expectedBegin = 0;
        foreach (var info in file.Tensors) // stored contiguously in name order
        {
            Assert.Equal(expectedBegin, info.Begin);
            expectedBegin = info.End;
        }
        Assert.Equal(file.DataStart + expectedBegin, file.Length);
        foreach (var (name, t) in tensors)
        {
            var info = file.Info(name);
            Assert.Equal(SafetensorsDType.F32, info.DType);
            Assert.Equal(t.Shape, info.Shape);
            Reference.AssertBitwiseEqual(file.ReadFloat32(name, allowNonFinite: true), t.Data.Span, name);
        }

        // Writing the same content again gives the same bytes (stable order, deterministic header).
        string again = Temp("again.safetensors");
        SafetensorsWriter.Write(again, tensors.Reverse().ToDictionary(), metadata, allowNonFinite: true);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteWeightsAreNeitherWrittenNorRead(float bad)
    {
        string path = Temp("w.safetensors");
        var good = Reference.Random(40, 71);
        SafetensorsWriter.Write(path, new Dictionary<string, HostTensor> { ["a"] = new(good, 40), ["b"] = new(good, 5, 8) });
        byte[] before = File.ReadAllBytes(path);

        // Writing: refused with the tensor's name and element, and the file keeps its previous content.
        var broken = (float[])good.Clone();
        broken[17] = bad;
        var e = Assert.Throws<InvalidDataException>(() =>
            SafetensorsWriter.Write(path, new Dictionary<string, HostTensor> { ["a"] = new(good, 40), ["b"] = new(broken, 5, 8) }));
        Assert.Contains("'b'", e.Message);
        Assert.Contains("element 17", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));

        // Reading: a file whose bytes hold the value is refused, naming the tensor and the element.
        using (var file = SafetensorsFile.Open(path))
        {
            long at = file.DataStart + file.Info("b").Begin + 4 * 9;
            BitConverter.GetBytes(bad).CopyTo(before, at);
        }
        File.WriteAllBytes(path, before);
        using var damaged = SafetensorsFile.Open(path);
        Reference.AssertBitwiseEqual(damaged.ReadFloat32("a"), good, "a finite tensor of the file");
        var r = Assert.Throws<InvalidDataException>(() => damaged.ReadFloat32("b"));
        Assert.Contains("'b'", r.Message);
        Assert.Contains("element 9", r.Message);
    }

    [Fact]
    public void Bf16AndF16RoundTripsWithinRounding()
    {
        var data = Reference.Random(1000, 5, -4f, 4f);
        var tensors = new Dictionary<string, HostTensor> { ["x"] = new(data, 10, 100) };
        foreach (var (dtype, eps) in new[] { (SafetensorsDType.BF16, 1.0 / 256), (SafetensorsDType.F16, 1.0 / 2048) })
        {
            string path = Temp($"{dtype}.safetensors");
            SafetensorsWriter.Write(path, tensors, dtype: dtype);
            using var file = SafetensorsFile.Open(path);
            Assert.Equal(dtype, file.Info("x").DType);
            Assert.Equal(2000, file.Info("x").ByteLength);
            var back = file.ReadFloat32("x");
            for (int i = 0; i < data.Length; i++)
            {
                // Round to nearest: relative error at most the unit roundoff (2^-8 for BF16, 2^-11 for F16).
                Assert.True(Math.Abs(back[i] - data[i]) <= eps * Math.Abs(data[i]) + 1e-7, $"{dtype} element {i}: {data[i]} -> {back[i]}");
                float exact = dtype == SafetensorsDType.BF16 ? Bf16.ToSingle(Bf16.FromSingle(data[i])) : (float)(Half)data[i];
                Assert.Equal(exact, back[i]);
            }
        }
    }

    [Fact]
    public void WritesDeviceTensorsAndAcceptsOutOfOrderOffsets()
    {
        using var a = f.Upload(Reference.Random(12, 8), 3, 4);
        using var b = f.Upload(Reference.Random(5, 9), 5);
        string path = Temp("device.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["b"] = b, ["a"] = a });
        using (var file = SafetensorsFile.Open(path))
        {
            Reference.AssertBitwiseEqual(file.ReadFloat32("a"), a.ToArray(), "a");
            Reference.AssertBitwiseEqual(file.ReadFloat32("b"), b.ToArray(), "b");
        }

        // Data laid out in another order than the header's, with a gap: valid as long as nothing overlaps.
        string shuffled = WriteRaw("shuffled.safetensors",
            "{'b':{'dtype':'F32','shape':[2],'data_offsets':[4,12]},'a':{'dtype':'I32','shape':[1],'data_offsets':[0,4]}}",
            [7, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64]);
        using var s = SafetensorsFile.Open(shuffled);
        Assert.Equal(new[] { 7 }, s.ReadInt32("a"));
        Assert.Equal(new[] { "a", "b" }, s.Tensors.Select(t => t.Name));
    }

    // ---- validation ----

    /// <summary>Writes a file from a header (single quotes become double quotes) and data bytes.</summary>
    private string WriteRaw(string name, string header, byte[] data, ulong? declaredLength = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header.Replace('\'', '"'));
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        string path = Temp(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void ShortFileAndOversizedHeaderLengthAreClearErrors()
    {
        string shortFile = Temp("short.safetensors");
        File.WriteAllBytes(shortFile, [1, 2, 3, 4, 5]);
        var e1 = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(shortFile));
        Assert.Contains(shortFile, e1.Message);
        Assert.Contains("5 bytes", e1.Message);

        string beyond = WriteRaw("beyond.safetensors", "{}", new byte[100], declaredLength: 1000);
        var e2 = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(beyond));
        Assert.Contains(beyond, e2.Message);
        Assert.Contains("header length 1000", e2.Message);
        Assert.Contains("only 102 bytes", e2.Message);
    }

    [Fact]
    public void TruncatedFixtureNamesTheTensorAndItsOffsets()
    {
        byte[] raw = File.ReadAllBytes(ModelPath);
        long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(raw);
        string cut = Temp("truncated.safetensors");
        File.WriteAllBytes(cut, raw.AsSpan(0, (int)dataStart + 100_000).ToArray());

        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(cut));
        Assert.Contains(cut, e.Message);
        Assert.Contains("tensor 'model.layers.0.mlp.up_proj.weight' needs bytes [77952, 100480) of the data section but the file has only 100000", e.Message);
        Assert.Contains($"file offset {dataStart}", e.Message);
    }

    [Fact]
    public void CorruptHeaderIsAnInvalidJsonError()
    {
        byte[] raw = File.ReadAllBytes(ModelPath);
        Assert.Equal("{\"lm_head.weight\":{\"dtype\"", Encoding.ASCII.GetString(raw, 8, 26));
        "#!@"u8.CopyTo(raw.AsSpan(8 + 18)); // garbage where the first entry's object opens
        string path = Temp("corrupt.safetensors");
        File.WriteAllBytes(path, raw);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not valid JSON", e.Message);

        raw = File.ReadAllBytes(ModelPath);
        raw[8 + 2] = 0xFF; // invalid UTF-8 inside the first tensor name
        File.WriteAllBytes(path, raw);
        var utf8 = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, utf8.Message);
        Assert.Contains("not valid UTF-8 at file offset 10", utf8.Message);
    }

    [Theory]
    [InlineData("{'w':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},'v':{'dtype':'F32','shape':[1],'data_offsets':[8,12]}}", 12, "data bytes [4, 8) between tensors 'w' and 'v' belong to no tensor")]
    [InlineData("{'w':{'dtype':'F32','shape':[1],'data_offsets':[4,8]}}", 8, "starts with 4 bytes that no tensor owns")]
    [InlineData("{'w':{'dtype':'F32','shape':[1],'data_offsets':[0,4]}}", 5, "1 bytes after the last tensor")]
    public void TheTensorsMustTileTheDataSectionExactly(string header, int dataBytes, string expected)
    {
        string path = WriteRaw("gap.safetensors", header, new byte[dataBytes]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AHeaderLengthOneByteShortIsAnErrorNotShiftedTensors()
    {
        // The writer pads the header with spaces, so one byte short still parses as JSON; the data would then shift by one.
        string path = Temp("short.safetensors");
        SafetensorsWriter.Write(path, new Dictionary<string, HostTensor> { ["w"] = new(Reference.Random(6, 81), 6) });
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, n - 1);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains("after the last tensor", e.Message);
    }

    [Theory]
    [InlineData("{'w':{'dtype':'Q7','shape':[2],'data_offsets':[0,8]}}", "tensor 'w' has unknown dtype 'Q7'")]
    [InlineData("{'w':{'dtype':'F32','shape':[2,3],'data_offsets':[0,20]}}", "tensor 'w' of dtype F32 and shape [2, 3] needs 6 × 4 bytes, but its data_offsets [0, 20) span 20")]
    [InlineData("{'w':{'dtype':'BF16','shape':[4],'data_offsets':[0,8]},'v':{'dtype':'F32','shape':[2],'data_offsets':[4,12]}}", "tensors 'w' (data bytes [0, 8)) and 'v' (data bytes [4, 12)) overlap")]
    [InlineData("{'w':{'dtype':'F32','shape':[0],'data_offsets':[8,0]}}", "data_offsets [8, 0) end before they begin")]
    [InlineData("{'w':{'dtype':'F32','shape':[-2],'data_offsets':[0,8]}}", "tensor 'w': shape [-2] has a dimension")]
    [InlineData("{'w':{'dtype':'F32','shape':[2]}}", "tensor 'w': the header entry needs 'data_offsets'")]
    [InlineData("{'__metadata__':{'k':1}}", "'__metadata__' entry 'k' is a Number")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},'w':{'dtype':'F32','shape':[2],'data_offsets':[8,16]}}", "names 'w' twice")]
    public void InvalidHeadersNameTheTensorAndOffsets(string header, string expected)
    {
        string path = WriteRaw("bad.safetensors", header, new byte[24]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    // ---- shards ----

    private static string Index(Dictionary<string, string> weightMap) =>
        JsonSerializer.Serialize(new { metadata = new { total_size = 1234 }, weight_map = weightMap });

    [Fact]
    public void ShardedIndexRoutesReadsToTheRightShard()
    {
        var all = MixedTensors();
        var first = all.Where(kv => kv.Key.StartsWith('w')).ToDictionary();
        var second = all.Where(kv => !kv.Key.StartsWith('w')).ToDictionary();
        SafetensorsWriter.Write(Temp("model-00001-of-00002.safetensors"), first, allowNonFinite: true);
        SafetensorsWriter.Write(Temp("model-00002-of-00002.safetensors"), second, allowNonFinite: true);
        var map = first.Keys.ToDictionary(k => k, _ => "model-00001-of-00002.safetensors");
        foreach (var k in second.Keys) map[k] = "model-00002-of-00002.safetensors";
        File.WriteAllText(Temp(SafetensorsReader.IndexFileName), Index(map));

        using var reader = SafetensorsReader.Open(_dir);
        var sharded = Assert.IsType<ShardedSafetensors>(reader);
        Assert.Equal(2, sharded.Shards.Count);
        Assert.Equal("1234", sharded.Metadata["total_size"]);
        Assert.Equal(all.Keys.Order(StringComparer.Ordinal), sharded.Tensors.Select(t => t.Name));
        foreach (var (name, t) in all)
        {
            Assert.Equal(Temp(map[name]), sharded.Info(name).File);
            Assert.Equal(t.Shape, sharded.Info(name).Shape);
            Reference.AssertBitwiseEqual(sharded.ReadFloat32(name, allowNonFinite: true), t.Data.Span, name);
        }
        var missing = Assert.Throws<KeyNotFoundException>(() => sharded.ReadFloat32("w.c"));
        Assert.Contains(Temp(SafetensorsReader.IndexFileName), missing.Message);
        Assert.Contains("'w.a'", missing.Message);
    }

    [Fact]
    public void ShardedIndexErrorsNameTheIndexAndTheShard()
    {
        SafetensorsWriter.Write(Temp("a.safetensors"), new Dictionary<string, HostTensor> { ["x"] = new(new[] { 1f }, 1) });
        string index = Temp("custom.index.json");

        File.WriteAllText(index, Index(new() { ["x"] = "a.safetensors", ["y"] = "b.safetensors" }));
        var gone = Assert.Throws<FileNotFoundException>(() => SafetensorsReader.Open(index));
        Assert.Contains(index, gone.Message);
        Assert.Contains("shard 'b.safetensors'", gone.Message);
        Assert.Contains("'y'", gone.Message);

        File.WriteAllText(index, Index(new() { ["x"] = "a.safetensors", ["z"] = "a.safetensors" }));
        var absent = Assert.Throws<InvalidDataException>(() => SafetensorsReader.Open(index));
        Assert.Contains($"{index} maps tensor 'z' to shard 'a.safetensors', which has no such tensor", absent.Message);

        File.WriteAllText(index, "{\"weight_map\": [}");
        var json = Assert.Throws<InvalidDataException>(() => SafetensorsReader.Open(index));
        Assert.Contains($"{index}: the shard index is not valid JSON", json.Message);

        string empty = Directory.CreateDirectory(Temp("empty")).FullName;
        var none = Assert.Throws<FileNotFoundException>(() => SafetensorsReader.Open(empty));
        Assert.Contains(SafetensorsReader.IndexFileName, none.Message);
    }

    // ---- atomic writes ----

    [Fact]
    public void FailedWriteLeavesTheOriginalIntactAndNoTempFiles()
    {
        string path = Temp("model.safetensors");
        var original = new Dictionary<string, HostTensor> { ["keep"] = new(Reference.Random(64, 4), 8, 8) };
        SafetensorsWriter.Write(path, original);
        byte[] before = File.ReadAllBytes(path);

        // A shape that does not match the data is refused before anything is written.
        Assert.Throws<ArgumentException>(() => new HostTensor(new float[5], 2, 3));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path,
            new Dictionary<string, HostTensor> { ["__metadata__"] = new(new float[1], 1) }));

        // A failure midway through the data: 'a' is written, then reading 'z' from the device throws.
        using var a = f.Upload(Reference.Random(1000, 5), 1000);
        var z = f.Upload(Reference.Random(6, 6), 2, 3);
        z.Dispose();
        Assert.Throws<ObjectDisposedException>(() => SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a"] = a, ["z"] = z }));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));
        using (var file = SafetensorsFile.Open(path))
            Reference.AssertBitwiseEqual(file.ReadFloat32("keep"), original["keep"].Data.Span, "original");

        // A successful write replaces the file, again without leftovers.
        SafetensorsWriter.Write(path, new Dictionary<string, Tensor> { ["a"] = a });
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));
        using var replaced = SafetensorsFile.Open(path);
        Assert.Equal(new[] { "a" }, replaced.Tensors.Select(t => t.Name));
    }
}
