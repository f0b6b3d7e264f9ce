namespace Jepa.Training.Model;

/// <summary>
/// The linear projections of a transformer block, in the fixed order of LoRA adapters, their Philox streams and their
/// checkpoints: the Llama family's seven, then OpenELM's four. A block has one set or the other
/// (<see cref="LlamaBlock.Weight"/>).
/// </summary>
public enum Projection
{
    /// <summary>self_attn.q_proj.</summary>
    Q,
    /// <summary>self_attn.k_proj.</summary>
    K,
    /// <summary>self_attn.v_proj.</summary>
    V,
    /// <summary>self_attn.o_proj.</summary>
    O,
    /// <summary>mlp.gate_proj.</summary>
    Gate,
    /// <summary>mlp.up_proj.</summary>
    Up,
    /// <summary>mlp.down_proj.</summary>
    Down,
    /// <summary>OpenELM's fused attn.qkv_proj.</summary>
    Qkv,
    /// <summary>OpenELM's attn.out_proj.</summary>
    OutProj,
    /// <summary>OpenELM's fused ffn.proj_1 (gate rows, then up rows).</summary>
    Proj1,
    /// <summary>OpenELM's ffn.proj_2.</summary>
    Proj2,
}

/// <summary>The Hugging Face names of <see cref="Projection"/>s.</summary>
public static class Projections
{
    /// <summary>Every projection in <see cref="Projection"/> order.</summary>
    public static IReadOnlyList<Projection> All { get; } = Enum.GetValues<Projection>();

    /// <summary>Every module name in <see cref="Projection"/> order: q_proj … down_proj, qkv_proj, out_proj, proj_1, proj_2.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(Name)];

    /// <summary>The module name (<c>q_proj</c>, <c>proj_1</c>…), as Hugging Face and PEFT's <c>target_modules</c> spell it.</summary>
    public static string Name(this Projection projection) => projection switch
    {
        Projection.Q => "q_proj",
        Projection.K => "k_proj",
        Projection.V => "v_proj",
        Projection.O => "o_proj",
        Projection.Gate => "gate_proj",
        Projection.Up => "up_proj",
        Projection.Down => "down_proj",
        Projection.Qkv => "qkv_proj",
        Projection.OutProj => "out_proj",
        Projection.Proj1 => "proj_1",
        Projection.Proj2 => "proj_2",
        _ => throw new ArgumentOutOfRangeException(nameof(projection), projection, "Not a projection."),
    };

    /// <summary>The projection named <paramref name="name"/>, or null.</summary>
    public static Projection? Parse(string name)
    {
        int i = ((List<string>)[.. Names]).IndexOf(name);
        return i < 0 ? null : All[i];
    }

    /// <summary>Whether the projection is one of OpenELM's.</summary>
    public static bool IsOpenElm(this Projection projection) => projection >= Projection.Qkv;

    /// <summary>The module path under a layer: <c>self_attn.q_proj</c>, <c>mlp.up_proj</c>…, and OpenELM's <c>attn.qkv_proj</c>,
    /// <c>attn.out_proj</c>, <c>ffn.proj_1</c>, <c>ffn.proj_2</c>.</summary>
    public static string ModulePath(this Projection projection) => projection switch
    {
        Projection.Qkv or Projection.OutProj => "attn." + projection.Name(),
        Projection.Proj1 or Projection.Proj2 => "ffn." + projection.Name(),
        Projection.Q or Projection.K or Projection.V or Projection.O => "self_attn." + projection.Name(),
        _ => "mlp." + projection.Name(),
    };
}
