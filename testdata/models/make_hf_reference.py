#!/usr/bin/env python3
"""Writes the tiny Hugging Face checkpoints golem's convert tests import, with reference logits.

Run from the repository root with Debian's python3-torch 1.13 (transformers is not needed):

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 testdata/models/make_hf_reference.py

and, to check that a folder golem exported loads in this reference and gives its logits:

    go run ./cmd/convert import testdata/models/hf-llama-tiny --out /tmp/run
    go run ./cmd/convert export /tmp/run --out /tmp/hf
    /usr/bin/python3 testdata/models/make_hf_reference.py --check /tmp/hf testdata/models/hf-llama-tiny/reference.safetensors

For each architecture it draws random weights under Hugging Face's tensor names, runs a
forward pass written here from transformers' modeling_gpt2.py / modeling_llama.py (no golem
code involved), and writes:
  hf-gpt2-tiny/   config.json, model.safetensors (laid out like openai-community/gpt2: no
                  "transformer." prefix, causal-mask buffers h.N.attn.bias, no lm_head)
  hf-llama-tiny/  config.json, two shards + model.safetensors.index.json (grouped-query
                  attention, untied head)
  */reference.safetensors  "tokens" [T] I64 and "logits" [T, V] F32 of the forward pass.
safetensors files are written by hand (struct + json), as the format specifies.
"""
import json
import math
import os
import struct

import torch

torch.manual_seed(20261129)
HERE = os.path.dirname(os.path.abspath(__file__))

DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.bool: "BOOL", torch.bfloat16: "BF16"}


def save_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def rnd(*shape, scale=0.2):
    return torch.randn(*shape) * scale


def load_safetensors(path):
    """Reads a safetensors file by hand (F32/I64 only), the inverse of save_safetensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        dt = {"F32": torch.float32, "I64": torch.int64}[e["dtype"]]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=dt).reshape(e["shape"]) if b > a else torch.zeros(e["shape"], dtype=dt)
    return out


def load_folder(d):
    """config.json and the weights of an HF folder (single file or index + shards)."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = {}
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    for f in files:
        w.update(load_safetensors(os.path.join(d, f)))
    # GPT2LMHeadModel.save_pretrained writes "transformer." names; openai-community/gpt2 does not.
    return cfg, {k[len("transformer."):] if k.startswith("transformer.") else k: v for k, v in w.items()}


# ---------------------------------------------------------------- GPT-2 (GPT2LMHeadModel)
def gpt2():
    V, T, C, H, L = 257, 32, 32, 4, 2
    F = 4 * C
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": V, "n_positions": T,
           "n_ctx": T, "n_embd": C, "n_layer": L, "n_head": H, "n_inner": None, "activation_function": "gelu_new",
           "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
           "scale_attn_weights": True, "tie_word_embeddings": True, "bos_token_id": 256, "eos_token_id": 256}
    w = {"wte.weight": rnd(V, C), "wpe.weight": rnd(T, C, scale=0.05),
         "ln_f.weight": 1 + rnd(C, scale=0.1), "ln_f.bias": rnd(C, scale=0.1)}
    for l in range(L):
        p = f"h.{l}."
        w.update({p + "ln_1.weight": 1 + rnd(C, scale=0.1), p + "ln_1.bias": rnd(C, scale=0.1),
                  p + "attn.c_attn.weight": rnd(C, 3 * C), p + "attn.c_attn.bias": rnd(3 * C, scale=0.1),
                  p + "attn.c_proj.weight": rnd(C, C), p + "attn.c_proj.bias": rnd(C, scale=0.1),
                  p + "ln_2.weight": 1 + rnd(C, scale=0.1), p + "ln_2.bias": rnd(C, scale=0.1),
                  p + "mlp.c_fc.weight": rnd(C, F), p + "mlp.c_fc.bias": rnd(F, scale=0.1),
                  p + "mlp.c_proj.weight": rnd(F, C), p + "mlp.c_proj.bias": rnd(C, scale=0.1),
                  # the causal-mask buffer old GPT-2 files carry
                  p + "attn.bias": torch.tril(torch.ones(T, T)).view(1, 1, T, T)})

    out = os.path.join(HERE, "hf-gpt2-tiny")
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), cfg)
    save_safetensors(os.path.join(out, "model.safetensors"), w, {"format": "pt"})
    ids = torch.randint(0, V, (T,))
    save_safetensors(os.path.join(out, "reference.safetensors"), {"tokens": ids, "logits": gpt2_forward(cfg, w, ids)})


def gpt2_forward(cfg, w, ids):
    """GPT2LMHeadModel's forward pass (modeling_gpt2.py, eval mode): logits [T, V]."""
    C, H, L, eps = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["layer_norm_epsilon"]

    def gelu_new(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    n = ids.shape[0]
    x = w["wte.weight"][ids] + w["wpe.weight"][torch.arange(n)]
    mask = torch.tril(torch.ones(n, n, dtype=torch.bool))
    for l in range(L):
        p = f"h.{l}."
        h = torch.nn.functional.layer_norm(x, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # Conv1D: x @ W + b
        q, k, v = qkv.split(C, dim=-1)
        q, k, v = (t.view(n, H, C // H).transpose(0, 1) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        att = torch.where(mask, att, torch.tensor(torch.finfo(att.dtype).min))
        y = (att.softmax(-1) @ v).transpose(0, 1).reshape(n, C)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = torch.nn.functional.layer_norm(x, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = gelu_new(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = torch.nn.functional.layer_norm(x, (C,), w["ln_f.weight"], w["ln_f.bias"], eps)
    head = w["wte.weight"] if cfg.get("tie_word_embeddings", True) else w["lm_head.weight"]
    return x @ head.T


# ---------------------------------------------------------------- Llama (LlamaForCausalLM)
def llama():
    V, T, C, H, K, L, F = 512, 64, 32, 4, 2, 2, 88
    D = C // H
    eps, theta = 1e-6, 10000.0
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": V, "hidden_size": C,
           "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": K,
           "max_position_embeddings": T, "rms_norm_eps": eps, "rope_theta": theta, "rope_scaling": None,
           "hidden_act": "silu", "attention_bias": False, "tie_word_embeddings": False,
           "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
    w = {"model.embed_tokens.weight": rnd(V, C, scale=1.0), "model.norm.weight": 1 + rnd(C, scale=0.1),
         "lm_head.weight": rnd(V, C)}
    for l in range(L):
        p = f"model.layers.{l}."
        w.update({p + "input_layernorm.weight": 1 + rnd(C, scale=0.1),
                  p + "self_attn.q_proj.weight": rnd(H * D, C), p + "self_attn.k_proj.weight": rnd(K * D, C),
                  p + "self_attn.v_proj.weight": rnd(K * D, C), p + "self_attn.o_proj.weight": rnd(C, H * D),
                  p + "post_attention_layernorm.weight": 1 + rnd(C, scale=0.1),
                  p + "mlp.gate_proj.weight": rnd(F, C), p + "mlp.up_proj.weight": rnd(F, C),
                  p + "mlp.down_proj.weight": rnd(C, F)})

    out = os.path.join(HERE, "hf-llama-tiny")
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), cfg)
    names = sorted(w)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, shard in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_safetensors(os.path.join(out, fname), {n: w[n] for n in shard}, {"format": "pt"})
        weight_map.update({n: fname for n in shard})
    total = sum(t.numel() * 4 for t in w.values())
    write_json(os.path.join(out, "model.safetensors.index.json"), {"metadata": {"total_size": total}, "weight_map": weight_map})
    ids = torch.randint(0, V, (24,))
    save_safetensors(os.path.join(out, "reference.safetensors"), {"tokens": ids, "logits": llama_forward(cfg, w, ids)})


def llama_forward(cfg, w, ids):
    """LlamaForCausalLM's forward pass (modeling_llama.py, eval mode): logits [T, V]."""
    C, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    K = cfg.get("num_key_value_heads", H)
    D, eps, theta = C // H, cfg["rms_norm_eps"], cfg.get("rope_theta", 10000.0)

    def rmsnorm(x, weight):  # LlamaRMSNorm
        variance = x.pow(2).mean(-1, keepdim=True)
        return weight * (x * torch.rsqrt(variance + eps))

    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    n = ids.shape[0]
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2).float() / D))  # LlamaRotaryEmbedding
    freqs = torch.outer(torch.arange(n).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.tril(torch.ones(n, n, dtype=torch.bool))
    x = w["model.embed_tokens.weight"][ids]
    for l in range(L):
        p = f"model.layers.{l}."
        h = rmsnorm(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(n, H, D).transpose(0, 1)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(n, K, D).transpose(0, 1)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(n, K, D).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // K, dim=0), v.repeat_interleave(H // K, dim=0)  # repeat_kv
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        att = torch.where(mask, att, torch.tensor(torch.finfo(att.dtype).min))
        y = (att.softmax(-1) @ v).transpose(0, 1).reshape(n, H * D)
        x = x + y @ w[p + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, w[p + "post_attention_layernorm.weight"])
        g = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T)
        x = x + (g * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return rmsnorm(x, w["model.norm.weight"]) @ head.T


def check(exported, reference):
    """Loads a folder golem exported and compares its logits with a reference.safetensors."""
    cfg, w = load_folder(exported)
    ref = load_safetensors(reference)
    forward = {"GPT2LMHeadModel": gpt2_forward, "LlamaForCausalLM": llama_forward}[cfg["architectures"][0]]
    got = forward(cfg, w, ref["tokens"])
    err = ((got - ref["logits"]).abs() / (1 + ref["logits"].abs())).max().item()
    print(f"{exported}: {cfg['architectures'][0]}, {len(w)} tensors, worst relative logit difference {err:.2g}")
    return err < 1e-4


if __name__ == "__main__":
    import sys
    with torch.no_grad():
        if len(sys.argv) == 4 and sys.argv[1] == "--check":  # --check EXPORTED_DIR reference.safetensors
            sys.exit(0 if check(sys.argv[2], sys.argv[3]) else 1)
        gpt2()
        llama()
