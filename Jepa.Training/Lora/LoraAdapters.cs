using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Training.Lora;

/// <summary>
/// The LoRA adapters of a <see cref="LlamaModel"/>: one <see cref="LoraAdapter"/> per targeted projection of every layer.
/// Attach them with <see cref="LoraModel.AttachLora"/> or <see cref="LoraModel.LoadLora"/>; as the model's
/// <see cref="IProjectionHook"/> they then add (α/r)·(dropout(x)·Aᵀ)·Bᵀ to each targeted projection in every forward.
/// They save and load in PEFT's layout (<c>adapter_model.safetensors</c> + <c>adapter_config.json</c>).
/// </summary>
public sealed class LoraAdapters : IProjectionHook
{
    private readonly LoraAdapter?[,] _grid;
    private readonly List<LoraAdapter> _list;
    private readonly List<Parameter> _parameters;

    /// <summary>The base parameters that attaching froze (trainable again on detaching), or null while not attached.</summary>
    internal List<Parameter>? FrozenBase { get; set; }

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

    /// <summary>Every adapter, by layer then in <see cref="Projection"/> order.</summary>
    public IReadOnlyList<LoraAdapter> Adapters => _list;

    /// <summary>A and B of every adapter in <see cref="Adapters"/> order (the trainable parameters, named as PEFT saves them).</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The adapter of <paramref name="layer"/>'s <paramref name="projection"/>, or null when that projection is not
    /// adapted.</summary>
    public LoraAdapter? Get(int layer, Projection projection) => _grid[layer, (int)projection];

    /// <summary>x·Wᵀ (+b) + (α/r)·(dropout(x)·Aᵀ)·Bᵀ when the projection has an adapter, fused (<see cref="Functions.LoraLinear"/>).</summary>
    public Variable? Project(Tape tape, Variable x, int layer, Projection projection, Parameter w, Parameter? bias)
    {
        if (Get(layer, projection) is not { } adapter) return null;
        var xa = tape.DropoutLinear(x, adapter.A, Options.Dropout);
        return tape.LoraLinear(x, w, bias, xa, adapter.B, Scale);
    }

    /// <summary>Each row block of a fused projection with its rows of the update, the adapter's down-projection (and its
    /// dropout) computed once.</summary>
    public Variable[]? ProjectParts(Tape tape, Variable x, int layer, Projection projection, Parameter w, int[] parts)
    {
        if (Get(layer, projection) is not { } adapter) return null;
        var xa = tape.DropoutLinear(x, adapter.A, Options.Dropout);
        var outputs = new Variable[parts.Length];
        for (int i = 0, start = 0; i < parts.Length; start += parts[i++])
            outputs[i] = tape.LoraLinear(x, w.RowSlice(start, parts[i]), null, xa, adapter.B.RowSlice(start, parts[i]), Scale);
        return outputs;
    }

    /// <summary>The Llama projection whose Philox stream each projection's A draws from: OpenELM's fused qkv_proj that of q_proj,
    /// out_proj o_proj's, proj_1 gate_proj's, proj_2 down_proj's (a layer has 7 streams, as before OpenELM's projections existed).</summary>
    private static Projection StreamOf(Projection projection) => projection switch
    {
        Projection.Qkv => Projection.Q,
        Projection.OutProj => Projection.O,
        Projection.Proj1 => Projection.Gate,
        Projection.Proj2 => Projection.Down,
        _ => projection,
    };

    /// <summary>New adapters for <paramref name="model"/>: A drawn like PEFT's default (kaiming-uniform with a = √5, i.e.
    /// U(−1/√in, 1/√in)) from Philox stream (layer·7 + projection) of <paramref name="seed"/> (OpenELM's projections use their Llama
    /// counterparts' streams); B zeros, so the adapted model starts
    /// equal to the base. With <paramref name="zeroA"/> A is zeros too (for loading weights over it).</summary>
    internal static LoraAdapters Create(LlamaModel model, LoraOptions options, ulong seed, bool zeroA = false)
    {
        options.Validate();
        int layers = model.Blocks.Count, r = options.Rank;
        var grid = new LoraAdapter?[layers, Projections.All.Count];
        try
        {
            for (int l = 0; l < layers; l++)
                foreach (var t in Projections.All)
                {
                    string target = t.Name();
                    if (!options.Targets.Contains(target)) continue;
                    var w = model.Blocks[l].Weight(t)
                        ?? throw new ArgumentException($"LoRA target '{target}' is not a projection of this model (its projections: {string.Join(", ", model.ProjectionKinds.Select(p => p.Name()))}).");
                    int outF = w.Shape[0], inF = w.Shape[1];
                    var host = new float[r * inF];
                    if (!zeroA)
                    {
                        float bound = 1f / MathF.Sqrt(inF);
                        Philox.FillUniform(host, seed, (ulong)(l * 7 + (int)StreamOf(t)), -bound, bound);
                    }
                    var a = new Parameter(Tensor.FromArray(model.Device, host, r, inF), LoraAdapter.PeftName(l, t, 'A'));
                    Parameter b;
                    try
                    {
                        b = new Parameter(Tensor.Zeros(model.Device, outF, r), LoraAdapter.PeftName(l, t, 'B'));
                    }
                    catch
                    {
                        a.Dispose();
                        throw;
                    }
                    grid[l, (int)t] = new LoraAdapter(l, t, a, b);
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
