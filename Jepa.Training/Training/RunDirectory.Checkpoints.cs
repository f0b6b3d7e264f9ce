using System.Text.Json;
using Jepa.Core;
using Jepa.Core.Safetensors;
using Jepa.Training.Lora;
using Jepa.Training.Model;
using Jepa.Training.Optim;
using Jepa.Training.Tokenization;

namespace Jepa.Training.Training;

public sealed partial class RunDirectory
{
    /// <summary>A checkpoint's <see cref="CheckpointState"/>: where training stands and how it was configured.</summary>
    public const string StateFile = "state.json";

    /// <summary>A checkpoint's full weights (without LoRA; with LoRA the adapters are a PEFT folder instead).</summary>
    public const string WeightsFile = SafetensorsReader.SingleFileName;

    /// <summary>A checkpoint's AdamW moments (<c>m.NAME</c>, <c>v.NAME</c>).</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>A checkpoint's EMA target weights, when the run has one.</summary>
    public const string EmaFile = "ema.safetensors";

    /// <summary>Folder name of the checkpoint at <paramref name="step"/>.</summary>
    public static string CheckpointName(int step) => $"ckpt-{step:D7}";

    /// <summary>Whether <paramref name="directory"/> is a checkpoint (holds <see cref="StateFile"/>).</summary>
    public static bool IsCheckpoint(string directory) => File.Exists(Path.Combine(directory, StateFile));

    /// <summary>The complete checkpoints of the run, oldest first.</summary>
    public IReadOnlyList<string> Checkpoints()
    {
        if (!Directory.Exists(CheckpointsPath)) return [];
        return Directory.GetDirectories(CheckpointsPath, "ckpt-*")
            .Where(d => !Path.GetFileName(d).Contains('.') && IsCheckpoint(d))
            .OrderBy(d => d, StringComparer.Ordinal).ToList();
    }

    /// <summary>Whether the run has a complete checkpoint to resume from.</summary>
    public bool HasCheckpoints => Checkpoints().Count > 0;

    /// <summary>The newest intact checkpoint (see <see cref="Damage"/>), or null; each damaged one met on the way is
    /// reported to <paramref name="damaged"/> with why.</summary>
    public string? LatestIntactCheckpoint(Action<string, string> damaged)
    {
        foreach (var candidate in Checkpoints().Reverse())
        {
            if (Damage(candidate) is not { } why) return candidate;
            damaged(candidate, why);
        }
        return null;
    }

    /// <summary>Writes the trainer's state and options as the run (re)starts (<see cref="ConfigFile"/>).</summary>
    public void WriteConfig(CheckpointState state) => WriteAllText(ConfigFile, JsonSerializer.Serialize(state, RunJson.Options));

    /// <summary>
    /// Writes a checkpoint at <paramref name="state"/>'s step: the weights (with LoRA attached, only the adapters, as a PEFT
    /// folder), the optimizer moments (and the EMA weights) as safetensors plus <see cref="StateFile"/>, the tokenizer and the chat
    /// format (when the tokenizer is a <see cref="ByteTokenizer"/> or <see cref="BpeTokenizer"/>), into a temporary folder, then
    /// renames it into place, so a checkpoint is either whole or absent. Keeps the last <paramref name="keep"/>. Returns its folder.
    /// </summary>
    public string SaveCheckpoint(CheckpointState state, LlamaModel model, AdamWOptimizer optimizer, EmaTarget? ema, ITokenizer tokenizer,
        ChatFormat format, int keep)
    {
        string root = CheckpointsPath;
        Directory.CreateDirectory(root);
        string final = Path.Combine(root, CheckpointName(state.Step));
        string tmp = Path.Combine(root, $".{CheckpointName(state.Step)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(tmp);
        try
        {
            if (model.Lora is { } lora)
                lora.Save(tmp); // LoRA: the adapters in PEFT's layout; the frozen base is not copied
            else
                SafetensorsWriter.Write(Path.Combine(tmp, WeightsFile), model.Parameters.ToDictionary(p => p.Name, p => p.Value),
                    new Dictionary<string, string> { ["format"] = "pt" });
            var moments = new Dictionary<string, Tensor>();
            for (int i = 0; i < optimizer.Parameters.Count; i++)
            {
                moments["m." + optimizer.Parameters[i].Name] = optimizer.FirstMoments[i];
                moments["v." + optimizer.Parameters[i].Name] = optimizer.SecondMoments[i];
            }
            SafetensorsWriter.Write(Path.Combine(tmp, OptimizerFile), moments);
            if (ema is not null)
                SafetensorsWriter.Write(Path.Combine(tmp, EmaFile), ema.Model.Parameters.ToDictionary(p => p.Name, p => p.Value));
            if (tokenizer is ByteTokenizer or BpeTokenizer) TokenizerFiles.Write(tmp, tokenizer, format);
            AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(state, RunJson.Options));
            if (Directory.Exists(final))
            {
                string old = final + $".{Guid.NewGuid():N}.old";
                Directory.Move(final, old);
                Directory.Move(tmp, final);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(tmp, final);
            }
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
        foreach (var stale in Checkpoints().SkipLast(keep))
            Directory.Delete(stale, recursive: true);
        return final;
    }

    /// <summary>Restores weights, optimizer moments (and step) and EMA weights from <paramref name="checkpoint"/>, and returns its
    /// state (the caller restores its data position from it).</summary>
    /// <exception cref="InvalidDataException">The checkpoint does not match this model or is damaged; the message says which file and tensor.</exception>
    public static CheckpointState LoadCheckpoint(string checkpoint, LlamaModel model, AdamWOptimizer optimizer, EmaTarget? ema)
    {
        var state = ReadState(checkpoint);
        if (state.Model != model.Config)
            throw new InvalidDataException($"{checkpoint}: its model config differs from this model's ({state.Model} vs {model.Config}).");
        bool loraCheckpoint = File.Exists(Path.Combine(checkpoint, PeftConfig.FileName));
        if (loraCheckpoint != (model.Lora is not null))
            throw new InvalidDataException(loraCheckpoint
                ? $"{checkpoint}: it holds LoRA adapters but the model has none attached; attach LoRA with the same options to the same base model first."
                : $"{checkpoint}: it holds full weights but the model has LoRA adapters attached.");
        if (model.Lora is { } lora)
            lora.LoadWeights(checkpoint);
        else
            using (var weights = SafetensorsReader.Open(Path.Combine(checkpoint, WeightsFile)))
                foreach (var p in model.Parameters) weights.ReadInto(p.Name, p.Value);
        using (var moments = SafetensorsReader.Open(Path.Combine(checkpoint, OptimizerFile)))
            for (int i = 0; i < optimizer.Parameters.Count; i++)
            {
                moments.ReadInto("m." + optimizer.Parameters[i].Name, optimizer.FirstMoments[i]);
                moments.ReadInto("v." + optimizer.Parameters[i].Name, optimizer.SecondMoments[i]);
            }
        if (ema is not null)
        {
            using var weights = SafetensorsReader.Open(Path.Combine(checkpoint, EmaFile));
            foreach (var p in ema.Model.Parameters) weights.ReadInto(p.Name, p.Value);
        }
        optimizer.Restore(state.Step);
        return state;
    }

    /// <summary>Why <paramref name="checkpoint"/> cannot be resumed from (its state or a tensor file unreadable, damaged or not
    /// finite), or null when it is intact. Reads every tensor.</summary>
    public static string? Damage(string checkpoint)
    {
        try
        {
            ReadState(checkpoint);
            foreach (var file in Directory.GetFiles(checkpoint, "*.safetensors"))
            {
                using var reader = SafetensorsReader.Open(file);
                foreach (var info in reader.Tensors)
                    if (info.DType.IsReadableAsFloat32()) reader.ReadFloat32(info.Name);
            }
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or KeyNotFoundException)
        {
            return e.Message;
        }
    }

    /// <summary>Reads a checkpoint's state (configuration and position).</summary>
    /// <exception cref="InvalidDataException">The state is missing or malformed; the message names the file.</exception>
    public static CheckpointState ReadState(string checkpoint)
    {
        string path = Path.Combine(checkpoint, StateFile);
        if (!File.Exists(path)) throw new InvalidDataException($"'{checkpoint}' is not a checkpoint: {path} is missing.");
        try
        {
            return JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path), RunJson.Options)
                ?? throw new InvalidDataException($"{path}: empty checkpoint state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed checkpoint state ({e.Message}).", e);
        }
    }
}
