using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Kernels;
using Jepa.Training.Autograd;
using Jepa.Training.Data;
using Jepa.Training.Generation;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Objective;
using Jepa.Training.Tokenization;
using Jepa.Training.Training;

namespace Jepa.Training;

/// <summary>
/// The library entry point for .NET applications: a language model with its tokenizer on a device.
/// Create or load one, <see cref="Train"/> it with LLM-JEPA, <see cref="Embed(string, JepaOptions?)"/> text into the JEPA
/// embedding space, <see cref="Generate"/> answers, and <see cref="Save"/> it (Hugging Face layout).
/// </summary>
public sealed class JepaModel : IChatModel, IDisposable
{
    /// <summary>The file holding the byte tokenizer's description in a saved model folder (see <see cref="TokenizerFiles"/>).</summary>
    public const string TokenizerFile = TokenizerFiles.ByteFile;

    private readonly bool _ownsDevice;

    /// <summary>In a LoRA adapter folder: the embedding (and untied LM-head) rows of the tokens added to a pretrained
    /// vocabulary (the [PRED] tokens), so the adapter reloads onto its base exactly.</summary>
    public const string AddedRowsFile = "jepa_added_tokens.safetensors";

    private JepaModel(Device device, bool ownsDevice, LlamaModel model, ITokenizer tokenizer, ChatFormat format, int? baseVocabSize = null)
    {
        BaseVocabSize = baseVocabSize;
        Device = device;
        _ownsDevice = ownsDevice;
        Model = model;
        Ops = model.Ops;
        Tokenizer = tokenizer;
        Template = new ChatTemplate(tokenizer, format);
    }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>For a model opened with <see cref="LoadPretrained"/>: the pretrained vocabulary size, after which the
    /// [PRED] rows were added; null for models created or saved here.</summary>
    public int? BaseVocabSize { get; }

    /// <summary>The kernels.</summary>
    public KernelLibrary Ops { get; }

    /// <summary>The network.</summary>
    public LlamaModel Model { get; }

    /// <summary>The tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>The chat format.</summary>
    public ChatFormat Format => Template.Format;

    /// <summary>The chat template (the format over the tokenizer).</summary>
    public ChatTemplate Template { get; }

    /// <summary>
    /// A new randomly initialised model of shape <paramref name="config"/> on the device <paramref name="device"/> picks
    /// (null: <c>JEPA_DEVICE</c>, else the best present). Its vocabulary is set to the tokenizer's: <paramref name="tokenizer"/>,
    /// else a <see cref="ByteTokenizer"/> with <paramref name="predictorTokens"/> predictor tokens. The chat format is
    /// <paramref name="format"/>, else <see cref="ChatFormat.Jepa"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The format needs a special token the tokenizer lacks.</exception>
    public static JepaModel Create(ModelConfig config, ulong seed = 42, DeviceOptions? device = null, int predictorTokens = SpecialTokens.DefaultPredictorCount,
        ITokenizer? tokenizer = null, ChatFormat? format = null)
    {
        tokenizer ??= new ByteTokenizer(predictorTokens);
        format ??= ChatFormat.Jepa;
        _ = new ChatTemplate(tokenizer, format); // fail before creating the device
        var dev = Device.Create(device);
        try
        {
            var ops = new KernelLibrary(dev);
            return new JepaModel(dev, true, LlamaModel.Create(config with { VocabSize = tokenizer.VocabSize }, ops, seed), tokenizer, format);
        }
        catch
        {
            dev.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a model saved by <see cref="Save"/> or a training checkpoint folder, with its tokenizer and chat format
    /// (see <see cref="TokenizerFiles"/>; folders without a format file use <see cref="ChatFormat.Jepa"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing or damaged; the message names it.</exception>
    public static JepaModel Load(string directory, DeviceOptions? device = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        if (File.Exists(Path.Combine(directory, PeftConfig.FileName)) && !File.Exists(Path.Combine(directory, SafetensorsReader.SingleFileName)))
            throw new InvalidDataException($"'{directory}' holds LoRA adapters only: open their base model and load them onto it (LoadLora; on the command line --model BASE --adapter {directory}).");
        ModelConfig config;
        int predictors = SpecialTokens.DefaultPredictorCount;
        string? recorded = null;
        if (RunDirectory.IsCheckpoint(directory))
        {
            var state = RunDirectory.ReadState(directory);
            config = state.Model;
            recorded = state.Tokenizer;
            predictors = state.RecordedPredictorTokens ?? predictors;
        }
        else
        {
            string cfg = Path.Combine(directory, HfCheckpoint.ConfigFile);
            if (!File.Exists(cfg)) throw new InvalidDataException($"'{directory}' holds neither {HfCheckpoint.ConfigFile} nor a checkpoint's {RunDirectory.StateFile}.");
            config = HfConfig.FromJson(File.ReadAllText(cfg), cfg);
        }
        var (tokenizer, format) = TokenizerFiles.Read(directory, predictors, recorded);
        if (tokenizer is ByteTokenizer ? tokenizer.VocabSize != config.VocabSize : tokenizer.VocabSize > config.VocabSize)
            throw new InvalidDataException($"{directory}: the model's vocabulary ({config.VocabSize}) does not match the tokenizer ({TokenizerFiles.Describe(tokenizer)}, {tokenizer.Special.Predictors.Count} predictor tokens).");
        var template = new ChatTemplate(tokenizer, format);
        var dev = Device.Create(device);
        try
        {
            var ops = new KernelLibrary(dev);
            using var weights = SafetensorsReader.Open(directory);
            var model = LlamaModel.FromTensors(config, ops, (name, _) => weights.Contains(name) ? weights.ReadTensor(name, dev) : null);
            return new JepaModel(dev, true, model, tokenizer, template.Format);
        }
        catch
        {
            dev.Dispose();
            throw;
        }
    }

    /// <summary>True when <paramref name="directory"/> is a Hugging Face model folder as published (config.json and
    /// tokenizer.json, neither saved by Jepa nor a checkpoint), which <see cref="LoadPretrained"/> opens.</summary>
    public static bool IsPretrainedFolder(string directory) =>
        File.Exists(Path.Combine(directory, HfCheckpoint.ConfigFile)) && File.Exists(Path.Combine(directory, TokenizerFiles.BpeFile))
        && !RunDirectory.IsCheckpoint(directory) && !File.Exists(Path.Combine(directory, TokenizerFiles.FormatFile));

    /// <summary>
    /// Opens a pretrained Hugging Face Llama-family folder (see <see cref="HfCheckpoint"/> and <see cref="HfTokenizer"/>) for
    /// fine-tuning: its tokenizer gains <paramref name="predictorTokens"/> [PRED] tokens after the model's vocabulary, whose
    /// embedding rows are added and initialised from <paramref name="seed"/>; the chat format is <paramref name="format"/>, else
    /// the one its tokenizer_config.json's chat template names.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing or the model is not supported; the message names it.</exception>
    public static JepaModel LoadPretrained(string directory, DeviceOptions? device = null, int predictorTokens = SpecialTokens.DefaultPredictorCount, ChatFormat? format = null, ulong seed = 0)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        var config = HfCheckpoint.ReadConfig(directory);
        var folder = HfTokenizer.LoadFolder(directory, format);
        if (folder.Tokenizer.VocabSize > config.VocabSize)
            throw new InvalidDataException($"{directory}: tokenizer.json has ids up to {folder.Tokenizer.VocabSize - 1}, beyond the model's vocab_size {config.VocabSize}.");
        var tokenizer = folder.Tokenizer.Special.Predictors.Count > 0 ? folder.Tokenizer : folder.Tokenizer.WithPredictors(predictorTokens, config.VocabSize);
        int added = Math.Max(0, tokenizer.VocabSize - config.VocabSize);
        var template = new ChatTemplate(tokenizer, folder.Format);
        var dev = Device.Create(device);
        try
        {
            var model = HfCheckpoint.Load(directory, new KernelLibrary(dev), added, seed);
            return new JepaModel(dev, true, model, tokenizer, template.Format, config.VocabSize);
        }
        catch
        {
            dev.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="directory"/> whichever it holds: a pretrained Hugging Face folder (<see cref="LoadPretrained"/>,
    /// with <paramref name="seed"/> for the added [PRED] rows) or a model or checkpoint saved here (<see cref="Load"/>).</summary>
    public static JepaModel Open(string directory, DeviceOptions? device = null, ulong seed = 0) =>
        IsPretrainedFolder(directory) ? LoadPretrained(directory, device, seed: seed) : Load(directory, device);

    /// <summary>
    /// Trains with LLM-JEPA. With <paramref name="runDirectory"/>, metrics and checkpoints go there;
    /// <paramref name="resumeFrom"/> continues from a checkpoint folder bit-exactly. Cancellation saves a
    /// checkpoint (when there is a run directory) and returns with <see cref="TrainResult.Cancelled"/> set.
    /// <paramref name="epochCompleted"/> is called with (epochs completed, step) after each epoch but the last (e.g. to evaluate
    /// the model as it trains). <paramref name="reloaded"/> is called with the checkpoint's step when a non-finite step made the
    /// run go back to a checkpoint (<see cref="NonFiniteStep.Reload"/>).
    /// </summary>
    public TrainResult Train(IReadOnlyList<PairExample> data, JepaOptions jepa, TrainOptions options, string? runDirectory = null,
        IProgress<StepMetrics>? progress = null, CancellationToken cancellation = default, string? resumeFrom = null, Action<string>? warning = null,
        Action<int, int>? epochCompleted = null, Action<int>? reloaded = null)
    {
        using var trainer = new Trainer(Model, Tokenizer, jepa, options, runDirectory, Format);
        if (warning is not null) trainer.Warning += warning;
        if (epochCompleted is not null) trainer.EpochCompleted += epochCompleted;
        if (reloaded is not null) trainer.Reloaded += reloaded;
        if (resumeFrom is not null) trainer.LoadCheckpoint(resumeFrom);
        return trainer.Train(data, progress, cancellation);
    }

    /// <summary>The JEPA embedding of <paramref name="text"/> with <paramref name="predictors"/> [PRED] tokens in the paper's
    /// layout: Pred(Enc(text)), or Enc(text) with 0 predictors (see <see cref="Embed(string, JepaOptions?)"/>).</summary>
    public float[] Embed(string text, int predictors) => Embed(text, new JepaOptions { Predictors = predictors });

    /// <summary>
    /// The JEPA embedding of <paramref name="text"/> as a Text view laid out as <paramref name="layout"/> says (its
    /// predictors, their placement, the embedded token; default: one predictor inside the turn, embedded at it):
    /// the final hidden state there, Pred(Enc(text)).
    /// </summary>
    /// <exception cref="ArgumentException">The layout asks for more predictor tokens than the tokenizer has, or a token the view lacks.</exception>
    public float[] Embed(string text, JepaOptions? layout = null) => EmbedView(text, isText: true, layout);

    /// <summary>
    /// The JEPA embedding of <paramref name="code"/> as a Code view (the assistant turn alone) laid out as
    /// <paramref name="layout"/> says, as training embeds the target: Enc(code) at its embedding token (default: its last
    /// content token).
    /// </summary>
    /// <exception cref="ArgumentException">The layout names a token the view lacks.</exception>
    public float[] EmbedCode(string code, JepaOptions? layout = null) => EmbedView(code, isText: false, layout);

    private float[] EmbedView(string content, bool isText, JepaOptions? layout)
    {
        layout = ((layout ?? new JepaOptions()) with { ReversePred = false }).Validate(Tokenizer.Special.Predictors.Count);
        var pair = Template.Encode(isText ? new PairExample(null, content, "") : new PairExample(null, "", content), Model.Config.MaxLength);
        var (ids, at, count) = layout.LayOut(isText ? pair.Text : pair.Code, isText, Tokenizer.Special.Predictors, Model.Config.MaxLength,
            isText ? "The text" : "The code");
        using var batch = new SequenceBatch(Device, 1, ids.Length, ids, Model.Config.VocabSize);
        using var tape = new Tape(Ops, recordGradients: false);
        var h = tape.GatherRows(Model.Forward(tape, batch), [.. Enumerable.Range(at, count)]);
        if (count > 1) h = tape.SegmentMean(h, [0, count]);
        var e = h.Value.ToArray();
        if (NonFinite.IndexIn(e) is int bad and >= 0)
            throw new InvalidDataException($"The embedding's element {bad} is {e[bad]}: the model's weights overflow (a diverged run?).");
        return e;
    }

    /// <summary>Generates the answer (the Code view) for <paramref name="prompt"/> (the Text view) with a key/value cache.</summary>
    public string Generate(string prompt, GenerateOptions? options = null, string? system = null)
    {
        int[] ids = Template.Prompt(system, prompt);
        return Tokenizer.Decode(Generator.Generate(Model, ids, options ?? new GenerateOptions(), [.. Template.StopIds]));
    }

    /// <summary>Saves the model in the Hugging Face layout: <c>config.json</c>, <c>model.safetensors</c>, the tokenizer (<see cref="TokenizerFiles"/>) and the chat format. Atomic per file.</summary>
    /// <exception cref="InvalidOperationException">LoRA adapters are attached: save them with <see cref="SaveLora"/> or fold them in with <see cref="MergeLora"/> first.</exception>
    public void Save(string directory)
    {
        if (Model.Lora is not null)
            throw new InvalidOperationException("LoRA adapters are attached: save them with SaveLora, or MergeLora first to save a plain model.");
        Directory.CreateDirectory(directory);
        SafetensorsWriter.Write(Path.Combine(directory, SafetensorsReader.SingleFileName), Model.Parameters.ToDictionary(p => p.Name, p => p.Value),
            new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(directory, HfCheckpoint.ConfigFile), HfConfig.ToJson(Model.Config));
        TokenizerFiles.Write(directory, Tokenizer, Format);
    }

    /// <summary>The attached LoRA adapters, or null.</summary>
    public LoraAdapters? Lora => Model.Lora;

    /// <summary>Attaches new LoRA adapters (A like PEFT's default init from <paramref name="seed"/>, B zeros) and freezes the
    /// base weights: <see cref="Train"/> then updates only the adapters, and checkpoints hold only them.</summary>
    public LoraAdapters AttachLora(LoraOptions options, ulong seed = 0) => Model.AttachLora(options, seed);

    /// <summary>Saves the attached adapters as a PEFT folder (<c>adapter_model.safetensors</c>, <c>adapter_config.json</c>).</summary>
    /// <exception cref="InvalidOperationException">No LoRA is attached.</exception>
    /// <remarks>With a pretrained base (<see cref="BaseVocabSize"/>), the folder also holds the tokenizer with its [PRED] tokens,
    /// the chat format and <see cref="AddedRowsFile"/> (the rows of the added tokens), so <see cref="LoadLora"/> restores exactly
    /// this model onto the base; Python tools read the PEFT files alone.</remarks>
    public void SaveLora(string directory, string? baseModelNameOrPath = null)
    {
        var lora = Model.Lora ?? throw new InvalidOperationException("No LoRA adapters are attached to save.");
        lora.Save(directory, baseModelNameOrPath);
        if (BaseVocabSize is not { } v || v >= Model.Config.VocabSize) return;
        int rows = Model.Config.VocabSize - v, c = Model.Config.DModel;
        var tensors = new Dictionary<string, HostTensor>();
        foreach (var p in new[] { Model.Embed, Model.LmHead }.OfType<Autograd.Parameter>())
        {
            var added = new float[rows * c];
            p.Value.CopyTo((long)v * c, added);
            tensors[p.Name] = new HostTensor(added, rows, c);
        }
        SafetensorsWriter.Write(Path.Combine(directory, AddedRowsFile), tensors, new Dictionary<string, string> { ["first_id"] = v.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        TokenizerFiles.Write(directory, Tokenizer, Format);
    }

    /// <summary>Attaches the PEFT LoRA adapter saved in <paramref name="directory"/> onto this (base) model, and the rows of
    /// added tokens when the folder holds them (<see cref="AddedRowsFile"/>).</summary>
    /// <exception cref="InvalidDataException">A file is missing or does not fit this model; the message names it.</exception>
    public LoraAdapters LoadLora(string directory)
    {
        string rowsPath = Path.Combine(directory, AddedRowsFile);
        if (File.Exists(rowsPath))
        {
            using var rows = SafetensorsReader.Open(rowsPath);
            int first = int.Parse(rows.Metadata.TryGetValue("first_id", out var f) ? f : "-1", System.Globalization.CultureInfo.InvariantCulture);
            int c = Model.Config.DModel, n = Model.Config.VocabSize - first;
            if (first != BaseVocabSize)
                throw new InvalidDataException($"{rowsPath}: the adapter's added tokens start at id {first}, this model's at {BaseVocabSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (not a pretrained base)"}.");
            foreach (var p in new[] { Model.Embed, Model.LmHead }.OfType<Autograd.Parameter>())
            {
                var info = rows.Info(p.Name);
                if (info.Shape.Count != 2 || info.Shape[0] != n || info.Shape[1] != c)
                    throw new InvalidDataException($"{rowsPath}: '{p.Name}' has shape {info.ShapeString}, expected [{n}, {c}].");
                var added = new float[n * c];
                rows.ReadFloat32(p.Name, added);
                p.Value.CopyFrom((long)first * c, added);
            }
        }
        return Model.LoadLora(directory);
    }

    /// <summary>Folds the adapters into the base weights (W += (α/r)·B·A) and detaches them; <see cref="Save"/> then writes the merged model.</summary>
    public void MergeLora() => Model.MergeLora();

    /// <summary>Frees the model and, when it made it, the device.</summary>
    public void Dispose()
    {
        Model.Dispose();
        if (_ownsDevice) Device.Dispose();
    }
}
