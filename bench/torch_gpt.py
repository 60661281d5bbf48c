#!/usr/bin/env python3
"""PyTorch reference for bench/cmd/speed: the same GPT as golem's transformer (learned positions,
pre-LayerNorm, exact GELU MLP, tied head, biases everywhere), trained with the same AdamW
(decay on matrices only), global-norm clipping and constant learning rate, from the same initial
weights (params.bin, written by the Go driver in golem's parameter order) on the same tokens.

It is a plain minGPT-style model, as a PyTorch user would write it (nn.Linear, nn.LayerNorm,
nn.GELU, masked softmax attention; PyTorch 1.13 has no scaled_dot_product_attention).

Line protocol on stdin/stdout: "step I" -> "ok MS LOSS GRADNORM"; "quit" -> "rss KB".
With --peak-only it prints "peak GFLOPS" for a 2048^3 float32 matmul and exits.

Run with Debian's /usr/bin/python3 (python3-torch) and libopenblas0-pthread installed.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, H, Fh, eps):
        super().__init__()
        self.H = H
        self.ln1 = nn.LayerNorm(C, eps=eps)
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C, eps=eps)
        self.up = nn.Linear(C, Fh)
        self.act = nn.GELU()  # exact (erf), as golem's activation.Gelu
        self.down = nn.Linear(Fh, C)

    def forward(self, x, mask):
        B, T, C = x.shape
        H, D = self.H, C // self.H
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T, H, D).transpose(1, 2)
        k = k.view(B, T, H, D).transpose(1, 2)
        v = v.view(B, T, H, D).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
        att = att.masked_fill(mask[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.proj(y)
        return x + self.down(self.act(self.up(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, s):
        super().__init__()
        V, T, C = s["vocab"], s["seq_len"], s["width"]
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.blocks = nn.ModuleList([Block(C, s["heads"], s["mlp_hidden"], s["norm_eps"]) for _ in range(s["layers"])])
        self.ln_f = nn.LayerNorm(C, eps=s["norm_eps"])
        self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x, self.mask)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))

    def golem_params(self):
        """golem parameter name -> (tensor, transpose?) : nn.Linear stores [out, in], golem [in, out]."""
        m = {"wte": (self.wte.weight, False), "wpe": (self.wpe.weight, False),
             "ln_f/gain": (self.ln_f.weight, False), "ln_f/bias": (self.ln_f.bias, False)}
        for l, b in enumerate(self.blocks):
            p = f"h{l}/"
            m.update({p + "ln1/gain": (b.ln1.weight, False), p + "ln1/bias": (b.ln1.bias, False),
                      p + "attn/wqkv": (b.qkv.weight, True), p + "attn/bqkv": (b.qkv.bias, False),
                      p + "attn/wo": (b.proj.weight, True), p + "attn/bo": (b.proj.bias, False),
                      p + "ln2/gain": (b.ln2.weight, False), p + "ln2/bias": (b.ln2.bias, False),
                      p + "mlp/w_up": (b.up.weight, True), p + "mlp/b_up": (b.up.bias, False),
                      p + "mlp/w_down": (b.down.weight, True), p + "mlp/b_down": (b.down.bias, False)})
        return m


def matmul_peak(n=2048):
    a = torch.randn(n, n)
    a @ a
    gs = []
    for _ in range(4):
        t = time.perf_counter()
        a @ a
        gs.append(2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return float(np.median(gs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--peak-only", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.peak_only:
        print(f"peak {matmul_peak():.2f}", flush=True)
        return
    s = json.load(open(os.path.join(a.dir, "spec.json")))
    model = GPT(s)
    gp = model.golem_params()
    raw = np.fromfile(os.path.join(a.dir, "params.bin"), dtype="<f4")
    off, decay, no_decay = 0, [], []
    with torch.no_grad():
        for p in s["params"]:
            t, tr = gp.pop(p["name"])
            n = int(np.prod(p["dims"]))
            w = torch.from_numpy(raw[off:off + n].copy()).view(*p["dims"])
            off += n
            t.copy_(w.t() if tr else w)
            (decay if p["decay"] else no_decay).append(t)
    assert not gp and off == raw.size, (sorted(gp), off, raw.size)
    nparams = sum(p.numel() for p in model.parameters())  # the tied head counted once
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": s["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"])
    B, T = s["batch"], s["seq_len"]
    toks = np.fromfile(os.path.join(a.dir, "tokens.bin"), dtype="<i4").reshape(s["steps"], B, T + 1)
    print(f"ready params={nparams} torch={torch.__version__} threads={torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        if f[0] == "step":
            batch = toks[int(f[1])]
            t0 = time.perf_counter()
            b = torch.from_numpy(batch.astype(np.int64))
            loss = model(b[:, :T], b[:, 1:])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), s["grad_clip"])
            opt.step()
            l = loss.item()
            ms = (time.perf_counter() - t0) * 1000
            print(f"ok {ms:.2f} {l:.6f} {float(norm):.6f}", flush=True)
        elif f[0] == "quit":
            print(f"rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", flush=True)
            return


if __name__ == "__main__":
    main()
