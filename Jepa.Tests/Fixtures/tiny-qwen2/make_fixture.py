"""Writes the tiny-qwen2 fixture: random weights, config.json and float64 reference outputs.

An independent float64 re-implementation of the Hugging Face Qwen2 forward (q/k/v biases, explicit
head_dim, tied embeddings, Llama 3 RoPE frequency scaling), in PyTorch without transformers:
    /usr/bin/python3 make_fixture.py      # needs python3-torch; writes the files beside this script
"""
import json, math, os, struct
import torch

torch.manual_seed(20261123)
here = os.path.dirname(os.path.abspath(__file__))
V, C, L, H, HKV, D, F, MAXPOS = 96, 64, 2, 4, 2, 24, 112, 128
THETA, EPS = 10000.0, 1e-6
SCALING = {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
           "original_max_position_embeddings": 32}

def rnd(*shape, std=0.08):
    return (torch.randn(*shape, dtype=torch.float64) * std).float().double()  # float32-representable

w = {"model.embed_tokens.weight": rnd(V, C, std=0.5), "model.norm.weight": 1 + rnd(C, std=0.1)}
for l in range(L):
    p = f"model.layers.{l}."
    w[p + "input_layernorm.weight"] = 1 + rnd(C, std=0.1)
    w[p + "post_attention_layernorm.weight"] = 1 + rnd(C, std=0.1)
    w[p + "self_attn.q_proj.weight"] = rnd(H * D, C)
    w[p + "self_attn.q_proj.bias"] = rnd(H * D, std=0.3)
    w[p + "self_attn.k_proj.weight"] = rnd(HKV * D, C)
    w[p + "self_attn.k_proj.bias"] = rnd(HKV * D, std=0.3)
    w[p + "self_attn.v_proj.weight"] = rnd(HKV * D, C)
    w[p + "self_attn.v_proj.bias"] = rnd(HKV * D, std=0.3)
    w[p + "self_attn.o_proj.weight"] = rnd(C, H * D)
    w[p + "mlp.gate_proj.weight"] = rnd(F, C)
    w[p + "mlp.up_proj.weight"] = rnd(F, C)
    w[p + "mlp.down_proj.weight"] = rnd(C, F)

def inv_freq():
    f = [THETA ** (-2.0 * i / D) for i in range(D // 2)]
    s = SCALING
    old, lo, hi, factor = s["original_max_position_embeddings"], s["low_freq_factor"], s["high_freq_factor"], s["factor"]
    out = []
    for x in f:
        wavelen = 2 * math.pi / x
        if wavelen < old / hi:
            out.append(x)
        elif wavelen > old / lo:
            out.append(x / factor)
        else:
            smooth = (old / wavelen - lo) / (hi - lo)
            out.append((1 - smooth) * x / factor + smooth * x)
    return torch.tensor(out, dtype=torch.float64)

def rms(x, g):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * g

def rope(x, pos):  # x [B, heads, T, D], rotate-half pairs (i, i + D/2)
    ang = pos[:, None].double() * inv_freq()[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin

def forward(ids):
    B, T = ids.shape
    x = w["model.embed_tokens.weight"][ids]
    pos = torch.arange(T)
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for l in range(L):
        p = f"model.layers.{l}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T + w[p + "self_attn.q_proj.bias"]).view(B, T, H, D).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T + w[p + "self_attn.k_proj.bias"]).view(B, T, HKV, D).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T + w[p + "self_attn.v_proj.bias"]).view(B, T, HKV, D).transpose(1, 2)
        q, k = rope(q, pos), rope(k, pos)
        k, v = k.repeat_interleave(H // HKV, dim=1), v.repeat_interleave(H // HKV, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + mask, -1) @ v
        x = x + att.transpose(1, 2).reshape(B, T, H * D) @ w[p + "self_attn.o_proj.weight"].T
        m = rms(x, w[p + "post_attention_layernorm.weight"])
        g = m @ w[p + "mlp.gate_proj.weight"].T
        x = x + (g * torch.sigmoid(g) * (m @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    hidden = rms(x, w["model.norm.weight"])
    return hidden, hidden @ w["model.embed_tokens.weight"].T

def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype == torch.int64:
            dtype, data = "I64", struct.pack(f"<{t.numel()}q", *t.flatten().tolist())
        else:
            dtype, data = "F32", struct.pack(f"<{t.numel()}f", *t.float().flatten().tolist())
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

ids = torch.randint(0, V, (2, 40))
hidden, logits = forward(ids)
write_safetensors(os.path.join(here, "model.safetensors"), w)
write_safetensors(os.path.join(here, "expected.safetensors"),
                  {"input_ids": ids, "last_hidden_state": hidden, "logits": logits})
config = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": V, "hidden_size": C,
    "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": HKV,
    "head_dim": D, "hidden_act": "silu", "max_position_embeddings": MAXPOS, "rms_norm_eps": EPS, "rope_theta": THETA,
    "rope_scaling": SCALING, "tie_word_embeddings": True, "use_sliding_window": False, "torch_dtype": "float32",
}
with open(os.path.join(here, "config.json"), "w") as f:
    json.dump(config, f, indent=2)
print("wrote", here, "logits norm", float(logits.norm()))
