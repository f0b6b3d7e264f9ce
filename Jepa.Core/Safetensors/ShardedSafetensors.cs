using System.Text.Json;

namespace Jepa.Core.Safetensors;

/// <summary>
/// A checkpoint split over several safetensors files, described by a Hugging Face index
/// (<c>model.safetensors.index.json</c>: <c>{"metadata": {...}, "weight_map": {name: shard file}}</c>).
/// Every shard is opened, and every mapped name checked against its shard, on <see cref="Open"/>;
/// reads go to the shard that holds the tensor.
/// </summary>
public sealed class ShardedSafetensors : SafetensorsReader
{
    private readonly Dictionary<string, SafetensorsFile> _shardOf;
    private readonly List<SafetensorsFile> _shards;
    private readonly List<SafetensorsTensorInfo> _tensors;
    private readonly Dictionary<string, string> _metadata;

    private ShardedSafetensors(string index, List<SafetensorsFile> shards, Dictionary<string, SafetensorsFile> shardOf, Dictionary<string, string> metadata)
    {
        Source = index;
        _shards = shards;
        _shardOf = shardOf;
        _metadata = metadata;
        _tensors = shardOf.Select(kv => kv.Value.InfoOf(kv.Key)).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Reads the index at <paramref name="indexPath"/> and opens the shards it names (relative to its directory).</summary>
    /// <exception cref="FileNotFoundException">The index or a shard does not exist; the message names the index and the shard.</exception>
    /// <exception cref="InvalidDataException">The index is malformed, a shard is invalid, or a shard lacks a tensor the index maps to it.</exception>
    public static new ShardedSafetensors Open(string indexPath)
    {
        indexPath = System.IO.Path.GetFullPath(indexPath);
        if (!File.Exists(indexPath)) throw new FileNotFoundException($"No shard index at {indexPath}.", indexPath);
        var (weightMap, metadata) = ReadIndex(indexPath);
        string dir = System.IO.Path.GetDirectoryName(indexPath)!;

        var byFile = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var shardOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var group in weightMap.GroupBy(kv => kv.Value, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                string shardPath = System.IO.Path.Combine(dir, group.Key);
                if (!File.Exists(shardPath))
                    throw new FileNotFoundException(
                        $"{indexPath}: shard '{group.Key}' (holding '{group.First().Key}' and {group.Count() - 1} other tensors) does not exist in {dir}.", shardPath);
                var shard = SafetensorsFile.Open(shardPath);
                byFile.Add(group.Key, shard);
                foreach (var (name, _) in group)
                {
                    if (!shard.Contains(name))
                        throw new InvalidDataException($"{indexPath} maps tensor '{name}' to shard '{group.Key}', which has no such tensor.");
                    shardOf.Add(name, shard);
                }
            }
            return new ShardedSafetensors(indexPath, byFile.Values.ToList(), shardOf, metadata);
        }
        catch
        {
            foreach (var s in byFile.Values) s.Dispose();
            throw;
        }
    }

    private static (List<KeyValuePair<string, string>> WeightMap, Dictionary<string, string> Metadata) ReadIndex(string indexPath)
    {
        using (var doc = SafetensorsHeader.ParseJson(indexPath, File.ReadAllBytes(indexPath), "the shard index", 0))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath}: a shard index must be an object with a 'weight_map' object.");

            var weightMap = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in map.EnumerateObject())
            {
                if (e.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{indexPath}: weight_map entry '{e.Name}' must name a shard file, not hold a {e.Value.ValueKind}.");
                string file = e.Value.GetString()!;
                if (file.Length == 0 || System.IO.Path.IsPathRooted(file))
                    throw new InvalidDataException($"{indexPath}: weight_map entry '{e.Name}' names '{file}'; shard files must be relative to the index.");
                if (!seen.Add(e.Name))
                    throw new InvalidDataException($"{indexPath}: weight_map names tensor '{e.Name}' twice.");
                weightMap.Add(new(e.Name, file));
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
                foreach (var m in meta.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
            return (weightMap, metadata);
        }
    }

    /// <summary>The full path of the index.</summary>
    public override string Source { get; }

    /// <summary>The index's <c>metadata</c>; values that are not JSON strings (e.g. <c>total_size</c>) as their JSON text.</summary>
    public override IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>Every tensor the index maps, in ordinal name order.</summary>
    public override IReadOnlyList<SafetensorsTensorInfo> Tensors => _tensors;

    /// <summary>The open shards, in file-name order.</summary>
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    /// <inheritdoc />
    public override bool Contains(string name) => _shardOf.ContainsKey(name);

    private protected override SafetensorsFile Locate(string name) =>
        _shardOf.TryGetValue(name, out var shard) ? shard : throw MissingTensor(name);

    /// <summary>Unmaps every shard.</summary>
    public override void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
