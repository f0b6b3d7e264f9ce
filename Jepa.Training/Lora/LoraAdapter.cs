using Jepa.Training.Autograd;
using Jepa.Training.Model;

namespace Jepa.Training.Lora;

/// <summary>The low-rank update of one projection of one layer: A [r, in], B [out, r], named as PEFT saves them.</summary>
public sealed class LoraAdapter : IDisposable
{
    internal LoraAdapter(int layer, Projection projection, Parameter a, Parameter b)
    {
        Layer = layer;
        Projection = projection;
        Target = projection.Name();
        A = a;
        B = b;
    }

    /// <summary>The layer index.</summary>
    public int Layer { get; }

    /// <summary>The adapted projection.</summary>
    public Projection Projection { get; }

    /// <summary>The adapted projection (q_proj… down_proj).</summary>
    public string Target { get; }

    /// <summary>lora_A [r, in].</summary>
    public Parameter A { get; }

    /// <summary>lora_B [out, r].</summary>
    public Parameter B { get; }

    /// <summary>PEFT's name of a layer's A (<paramref name="matrix"/> "A") or B ("B") tensor,
    /// e.g. <c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c> (OpenELM's layers live under
    /// <c>transformer.layers</c>).</summary>
    public static string PeftName(int layer, Projection projection, char matrix) =>
        $"base_model.model.{(projection.IsOpenElm() ? "transformer" : "model")}.layers.{layer}.{projection.ModulePath()}.lora_{matrix}.weight";

    /// <summary>Frees A and B.</summary>
    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
