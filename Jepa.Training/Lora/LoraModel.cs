using Jepa.Kernels;
using Jepa.Training.Model;

namespace Jepa.Training.Lora;

/// <summary>LoRA on a <see cref="LlamaModel"/>: attaching, loading, merging and detaching <see cref="LoraAdapters"/>, which the
/// model sees only as its <see cref="IProjectionHook"/>.</summary>
public static class LoraModel
{
    extension(LlamaModel model)
    {
        /// <summary>The attached LoRA adapters, or null.</summary>
        public LoraAdapters? Lora => model.Hook as LoraAdapters;

        /// <summary>The projections LoRA can adapt in this model (<see cref="LoraOptions.AllTargets"/>: Llama's seven, or OpenELM's
        /// four).</summary>
        public IReadOnlyList<string> LoraTargets => [.. model.ProjectionKinds.Select(p => p.Name())];

        /// <summary>The projections LoRA adapts when none are named: q_proj and v_proj (PEFT's default for Llama), or OpenELM's
        /// fused qkv_proj.</summary>
        public IReadOnlyList<string> DefaultLoraTargets => model.Config.OpenElm ? ["qkv_proj"] : ["q_proj", "v_proj"];

        /// <summary>
        /// Attaches new LoRA adapters (<see cref="LoraAdapters"/>: A like PEFT's default init from Philox streams of
        /// <paramref name="seed"/>, B zeros) and freezes every base parameter, so only A and B train. The model computes
        /// exactly the base model until B moves.
        /// </summary>
        /// <exception cref="InvalidOperationException">LoRA is already attached.</exception>
        /// <exception cref="ArgumentException">The options are invalid; the message names the field.</exception>
        public LoraAdapters AttachLora(LoraOptions options, ulong seed = 0) => Attach(model, LoraAdapters.Create(model, options, seed));

        /// <summary>Attaches the PEFT LoRA adapter saved in <paramref name="directory"/> (<c>adapter_config.json</c> and
        /// <c>adapter_model.safetensors</c>) and freezes the base, as <see cref="AttachLora"/>.</summary>
        /// <exception cref="InvalidDataException">The folder is not a LoRA adapter of this model (missing file or tensor, wrong shape,
        /// rank or targets, another peft_type); the message names it.</exception>
        public LoraAdapters LoadLora(string directory)
        {
            if (model.Hook is not null) throw new InvalidOperationException("LoRA adapters are already attached; detach or merge them first.");
            var options = LoraAdapters.ReadOptions(directory);
            var adapters = LoraAdapters.Create(model, options, 0, zeroA: true);
            try
            {
                adapters.LoadWeights(directory);
            }
            catch
            {
                adapters.Dispose();
                throw;
            }
            return Attach(model, adapters);
        }

        /// <summary>Removes and frees the LoRA adapters without touching the base weights; the parameters that
        /// <see cref="AttachLora"/> froze become trainable again (with zero gradients).</summary>
        public void DetachLora()
        {
            if (model.Lora is not { } lora) return;
            model.DetachHook();
            foreach (var p in lora.FrozenBase ?? []) p.Unfreeze();
            lora.FrozenBase = null;
            lora.Dispose();
        }

        /// <summary>Folds the adapters into the base weights, W += (α/r)·B·A for every adapted projection, then detaches them:
        /// the model computes what the adapted model did (up to rounding) with plain weights, ready to save in the Hugging Face layout.</summary>
        /// <exception cref="InvalidOperationException">No LoRA is attached.</exception>
        public void MergeLora()
        {
            var lora = model.Lora ?? throw new InvalidOperationException("No LoRA adapters are attached to merge.");
            foreach (var a in lora.Adapters)
            {
                var w = model.Blocks[a.Layer].Weight(a.Projection)!;
                int outF = w.Shape[0], inF = w.Shape[1];
                model.Ops.MatMul.Forward(MatMulForm.NN, a.B.Value.View, a.A.Value.View, w.Value.View, outF, inF, lora.Options.Rank, alpha: lora.Scale, beta: 1f);
            }
            model.DetachLora();
        }
    }

    private static LoraAdapters Attach(LlamaModel model, LoraAdapters adapters)
    {
        if (model.Hook is not null)
        {
            adapters.Dispose();
            throw new InvalidOperationException("LoRA adapters are already attached; detach or merge them first.");
        }
        var frozen = model.Parameters.Where(p => p.RequiresGrad).ToList();
        model.AttachHook(adapters);
        foreach (var p in frozen) p.Freeze();
        adapters.FrozenBase = frozen;
        return adapters;
    }
}
