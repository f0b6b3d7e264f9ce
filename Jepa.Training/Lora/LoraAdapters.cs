using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Training.Autograd;
using Jepa.Training.Model;
using Jepa.Training.Training;

namespace Jepa.Training.Lora;

/// <summary>
/// The LoRA adapters of a <see cref="LlamaModel"/>: one <see cref="LoraAdapter"/> per targeted projection of every layer.
/// Attach them with <see cref="LlamaModel.AttachLora"/> or <see cref="LlamaModel.LoadLora"/>; the model then adds
/// (α/r)·(dropout(x)·Aᵀ)·Bᵀ to each targeted projection in every forward. They save and load in PEFT's layout
/// (<c>adapter_model.safetensors</c> + <c>adapter_config.json</c>).
/// </summary>
public sealed class LoraAdapters : IDisposable
{
    private readonly LoraAdapter?[,] _grid;
    private readonly List<LoraAdapter> _list;
    private readonly List<Parameter> _parameters;

    private LoraAdapters(LoraOptions options, LoraAdapter?[,] grid)
    {
        Options = options;
        _grid = grid;
        _list = [];
        for (int l = 0; l < grid.GetLength(0); l++)
            for (int t = 0; t < grid.GetLength(1); t++)
                if (grid[l, t] is { } a) _list.Add(a);
        _parameters = [.. _list.SelectMany(a => new[] { a.A, a.B })];
    }

    /// <summary>The options they were made with.</summary>
    public LoraOptions Options { get; }

    /// <summary>α/r.</summary>
    public float Scale => Options.Scale;

    /// <summary>Every adapter, by layer then in <see cref="LoraOptions.AllTargets"/> order.</summary>
    public IReadOnlyList<LoraAdapter> Adapters => _list;

    /// <summary>A and B of every adapter in <see cref="Adapters"/> order (the trainable parameters, named as PEFT saves them).</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The adapter of <paramref name="layer"/>'s projection <paramref name="target"/> (index into
    /// <see cref="LoraOptions.AllTargets"/>), or null when that projection is not adapted.</summary>
    public LoraAdapter? Get(int layer, int target) => _grid[layer, target];

    /// <summary>Indexes of OpenELM's projections in <see cref="LoraOptions.AllTargets"/>.</summary>
    internal const int FusedQkv = 7, OutProj = 8, FusedGateUp = 9, FfnOut = 10;

    /// <summary>The Llama target whose Philox stream each target's A draws from: OpenELM's fused qkv_proj that of q_proj, out_proj
    /// o_proj's, proj_1 gate_proj's, proj_2 down_proj's (a layer has 7 streams, as before OpenELM's targets existed).</summary>
    private static readonly int[] StreamSlot = [0, 1, 2, 3, 4, 5, 6, 0, 3, 4, 6];

    /// <summary>The weight [out, in] of <paramref name="block"/>'s projection <paramref name="target"/> (index into
    /// <see cref="LoraOptions.AllTargets"/>), or null when the block has no such projection (a Llama name in an OpenELM block, or
    /// the reverse).</summary>
    public static Parameter? Weight(LlamaBlock block, int target)
    {
        bool openElm = block.Wqkv is not null;
        return target switch
        {
            0 => block.Wq, 1 => block.Wk, 2 => block.Wv, 3 => openElm ? null : block.Wo, 4 => block.Gate, 5 => block.Up, 6 => openElm ? null : block.Down,
            FusedQkv => block.Wqkv, OutProj => openElm ? block.Wo : null, FusedGateUp => block.Proj1, FfnOut => openElm ? block.Down : null,
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, "Not a LoRA target index."),
        };
    }

    /// <summary>The projections LoRA can adapt in <paramref name="block"/>, in <see cref="LoraOptions.AllTargets"/> order.</summary>
    public static IReadOnlyList<string> TargetsOf(LlamaBlock block) =>
        [.. LoraOptions.AllTargets.Where((_, t) => Weight(block, t) is not null)];

    /// <summary>New adapters for <paramref name="model"/>: A drawn like PEFT's default (kaiming-uniform with a = √5, i.e.
    /// U(−1/√in, 1/√in)) from Philox stream (layer·7 + target) of <paramref name="seed"/> (OpenELM's targets use their Llama
    /// counterparts' streams); B zeros, so the adapted model starts
    /// equal to the base. With <paramref name="zeroA"/> A is zeros too (for loading weights over it).</summary>
    internal static LoraAdapters Create(LlamaModel model, LoraOptions options, ulong seed, bool zeroA = false)
    {
        options.Validate();
        int layers = model.Blocks.Count, kinds = LoraOptions.AllTargets.Count, r = options.Rank;
        var grid = new LoraAdapter?[layers, kinds];
        try
        {
            for (int l = 0; l < layers; l++)
                for (int t = 0; t < kinds; t++)
                {
                    string target = LoraOptions.AllTargets[t];
                    if (!options.Targets.Contains(target)) continue;
                    var w = Weight(model.Blocks[l], t)
                        ?? throw new ArgumentException($"LoRA target '{target}' is not a projection of this model (its projections: {string.Join(", ", TargetsOf(model.Blocks[l]))}).");
                    int outF = w.Shape[0], inF = w.Shape[1];
                    var host = new float[r * inF];
                    if (!zeroA)
                    {
                        float bound = 1f / MathF.Sqrt(inF);
                        Philox.FillUniform(host, seed, (ulong)(l * 7 + StreamSlot[t]), -bound, bound);
                    }
                    var a = new Parameter(Tensor.FromArray(model.Device, host, r, inF), LoraAdapter.PeftName(l, target, 'A'));
                    Parameter b;
                    try
                    {
                        b = new Parameter(Tensor.Zeros(model.Device, outF, r), LoraAdapter.PeftName(l, target, 'B'));
                    }
                    catch
                    {
                        a.Dispose();
                        throw;
                    }
                    grid[l, t] = new LoraAdapter(l, t, a, b);
                }
        }
        catch
        {
            foreach (var a in grid) a?.Dispose();
            throw;
        }
        return new LoraAdapters(options, grid);
    }

    /// <summary>Writes <c>adapter_model.safetensors</c> and <c>adapter_config.json</c> into <paramref name="directory"/>
    /// (created if needed), each atomically, with PEFT's tensor names and config fields.</summary>
    public void Save(string directory, string? baseModelNameOrPath = null)
    {
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, PeftConfig.WeightsFileName), _parameters.ToDictionary(p => p.Name, p => p.Value),
            new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(directory, PeftConfig.FileName), PeftConfig.ToJson(Options, baseModelNameOrPath));
    }

    /// <summary>Reads the options of the adapter folder <paramref name="directory"/> (its <c>adapter_config.json</c>).</summary>
    /// <exception cref="InvalidDataException">The file is missing, malformed, or not a LoRA config this library runs.</exception>
    public static LoraOptions ReadOptions(string directory)
    {
        string path = Path.Combine(directory, PeftConfig.FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"'{directory}' is not a LoRA adapter folder: {path} is missing.");
        return PeftConfig.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Overwrites A and B with the tensors of the adapter folder <paramref name="directory"/>, whose config must
    /// have the same rank, α, dropout and targets.</summary>
    /// <exception cref="InvalidDataException">The config differs, a tensor is missing or has the wrong shape, or the file
    /// holds tensors of projections these adapters do not target; the message names it.</exception>
    public void LoadWeights(string directory)
    {
        var stored = ReadOptions(directory);
        if (!stored.SameAs(Options))
            throw new InvalidDataException($"{Path.Combine(directory, PeftConfig.FileName)}: the adapter has {stored.Describe()} but the attached LoRA has {Options.Describe()}.");
        string file = Path.Combine(directory, PeftConfig.WeightsFileName);
        if (!File.Exists(file)) throw new InvalidDataException($"'{directory}' is not a LoRA adapter folder: {file} is missing.");
        using var reader = SafetensorsReader.Open(file);
        var expected = _parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var extra = reader.Tensors.Select(t => t.Name).FirstOrDefault(n => !expected.Contains(n));
        if (extra is not null)
            throw new InvalidDataException($"{file}: tensor '{extra}' is not one of this adapter's (rank {Options.Rank}, targets {string.Join(", ", Options.Targets)}, {_list.Count / Math.Max(1, Options.Targets.Count)} layers): rank, target or layer mismatch.");
        foreach (var p in _parameters)
        {
            if (!reader.Contains(p.Name))
                throw new InvalidDataException($"{file}: tensor '{p.Name}' is missing (expected shape {p.Value.ShapeString}).");
            var info = reader.Info(p.Name);
            if (!info.Shape.SequenceEqual(p.Value.Shape))
                throw new InvalidDataException($"{file}: tensor '{p.Name}' has shape {info.ShapeString}, expected {p.Value.ShapeString} (rank {Options.Rank}).");
            reader.ReadInto(p.Name, p.Value);
        }
    }

    /// <summary>Frees every adapter.</summary>
    public void Dispose()
    {
        foreach (var a in _list) a.Dispose();
    }
}
