#!/usr/bin/env python3
"""Writes the binary cases of the hostile-input corpus (shards, safetensors, gzip, llama2.c).
The text cases are written by hand; cases.tsv says what each one must produce.
Run from this folder: python3 make.py"""
import gzip, json, os, struct

def safetensors(path, tensors):
    """tensors: name -> (dtype, shape, bytes)"""
    header, off, blobs = {}, 0, []
    for name, (dt, shape, data) in tensors.items():
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
        off += len(data)
        blobs.append(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

def f32(n, fill=0.01, bad=None):
    vals = [fill] * n
    if bad is not None:
        vals[min(3, n - 1)] = bad
    return struct.pack("<%df" % n, *vals)

# A 1-layer GPT-2 (width 8, 2 heads, vocab 16, context 8) whose MLP weight holds a NaN / an Inf.
def gpt2(dirname, bad):
    os.makedirs(dirname, exist_ok=True)
    C, V, T = 8, 16, 8
    with open(os.path.join(dirname, "config.json"), "w") as f:
        json.dump({"architectures": ["GPT2LMHeadModel"], "n_embd": C, "n_head": 2, "n_layer": 1,
                   "vocab_size": V, "n_positions": T}, f)
    t = {"wte.weight": ("F32", [V, C], f32(V * C)), "wpe.weight": ("F32", [T, C], f32(T * C)),
         "ln_f.weight": ("F32", [C], f32(C, 1.0)), "ln_f.bias": ("F32", [C], f32(C, 0.0))}
    p = "h.0."
    for ln in ("ln_1", "ln_2"):
        t[p + ln + ".weight"] = ("F32", [C], f32(C, 1.0))
        t[p + ln + ".bias"] = ("F32", [C], f32(C, 0.0))
    t[p + "attn.c_attn.weight"] = ("F32", [C, 3 * C], f32(3 * C * C))
    t[p + "attn.c_attn.bias"] = ("F32", [3 * C], f32(3 * C))
    t[p + "attn.c_proj.weight"] = ("F32", [C, C], f32(C * C))
    t[p + "attn.c_proj.bias"] = ("F32", [C], f32(C))
    t[p + "mlp.c_fc.weight"] = ("F32", [C, 4 * C], f32(4 * C * C, bad=bad))
    t[p + "mlp.c_fc.bias"] = ("F32", [4 * C], f32(4 * C))
    t[p + "mlp.c_proj.weight"] = ("F32", [4 * C, C], f32(4 * C * C))
    t[p + "mlp.c_proj.bias"] = ("F32", [C], f32(C))
    safetensors(os.path.join(dirname, "model.safetensors"), t)

gpt2("hf/nan-weight", float("nan"))
gpt2("hf/inf-weight", float("inf"))

# llm.c token shards: header of 256 int32 (magic 20240520, version 1 = uint16 tokens, count).
os.makedirs("shard", exist_ok=True)
def shard(path, magic=20240520, version=1, count=4, tokens=(1, 2, 3, 4), head_ints=256):
    head = [0] * head_ints
    head[0], head[1], head[2] = magic, version, count
    with open(path, "wb") as f:
        f.write(struct.pack("<%di" % head_ints, *head) + struct.pack("<%dH" % len(tokens), *tokens))
shard("shard/bad-magic.bin", magic=12345)
shard("shard/bad-version.bin", version=7)
shard("shard/count-too-large.bin", count=1000)
shard("shard/truncated-header.bin", head_ints=10, tokens=())
shard("shard/negative-count.bin", count=-5)

# A gzip JSONL cut in the middle of its compressed stream.
os.makedirs("data", exist_ok=True)
full = gzip.compress(b"".join(b'{"text": "line %d of a document that is long enough to matter"}\n' % i for i in range(200)))
open("data/truncated.jsonl.gz", "wb").write(full[: len(full) // 2])
open("data/not-gzip.jsonl.gz", "wb").write(b'{"text": "plain text behind a .gz name"}\n')

# llama2.c checkpoint whose header claims a model far bigger than the file.
os.makedirs("llama2c", exist_ok=True)
open("llama2c/huge-header.bin", "wb").write(struct.pack("<7i", 1 << 20, 1 << 20, 1 << 10, 8, 8, 32000, 256) + b"\0" * 64)
