using Jepa.Training.Autograd;

namespace Jepa.Training.Lora;

/// <summary>The low-rank update of one projection of one layer: A [r, in], B [out, r], named as PEFT saves them.</summary>
public sealed class LoraAdapter : IDisposable
{
    internal LoraAdapter(int layer, int targetIndex, Parameter a, Parameter b)
    {
        Layer = layer;
        TargetIndex = targetIndex;
        Target = LoraOptions.AllTargets[targetIndex];
        A = a;
        B = b;
    }

    /// <summary>The layer index.</summary>
    public int Layer { get; }

    /// <summary>The adapted projection's index into <see cref="LoraOptions.AllTargets"/>.</summary>
    public int TargetIndex { get; }

    /// <summary>The adapted projection (q_proj… down_proj).</summary>
    public string Target { get; }

    /// <summary>lora_A [r, in].</summary>
    public Parameter A { get; }

    /// <summary>lora_B [out, r].</summary>
    public Parameter B { get; }

    /// <summary>The projection's module path under the layer: <c>self_attn.q_proj</c>, <c>mlp.up_proj</c>…, and OpenELM's
    /// <c>attn.qkv_proj</c>, <c>attn.out_proj</c>, <c>ffn.proj_1</c>, <c>ffn.proj_2</c>.</summary>
    public static string ModulePath(string target) => target switch
    {
        "qkv_proj" or "out_proj" => "attn." + target,
        "proj_1" or "proj_2" => "ffn." + target,
        "q_proj" or "k_proj" or "v_proj" or "o_proj" => "self_attn." + target,
        _ => "mlp." + target,
    };

    /// <summary>PEFT's name of a layer's A (<paramref name="matrix"/> "A") or B ("B") tensor,
    /// e.g. <c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c> (OpenELM's layers live under
    /// <c>transformer.layers</c>).</summary>
    public static string PeftName(int layer, string target, char matrix) =>
        $"base_model.model.{(target is "qkv_proj" or "out_proj" or "proj_1" or "proj_2" ? "transformer" : "model")}.layers.{layer}.{ModulePath(target)}.lora_{matrix}.weight";

    /// <summary>Frees A and B.</summary>
    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
