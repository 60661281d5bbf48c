#!/usr/bin/env python3
"""The matmul shapes of bench/cmd/matmulbench in PyTorch (OpenBLAS), GFLOP/s, median of 5."""
import time, statistics, torch
torch.set_num_threads(2)
N, C, F, V, BH, T, D = 2048, 384, 1536, 8192, 48, 256, 64
r = torch.randn
cases = [
    ("x[N,C]·W[C,F] (MLP up, fwd)", lambda a, b: a @ b, (N, C), (C, F), 2 * N * C * F),
    ("h[N,F]·W[F,C] (MLP down, fwd)", lambda a, b: a @ b, (N, F), (F, C), 2 * N * C * F),
    ("dy[N,F]·Wᵀ (dx, rhs transposed layout)", lambda a, b: a @ b.t(), (N, F), (C, F), 2 * N * C * F),
    ("xᵀ·dy (dW, lhs contracting axis 0)", lambda a, b: a.t() @ b, (N, C), (N, F), 2 * N * C * F),
    ("x[N,C]·wteᵀ (tied head)", lambda a, b: a @ b.t(), (N, C), (V, C), 2 * N * C * V),
    ("q·kᵀ [B·H,T,D] batched", lambda a, b: a @ b.transpose(1, 2), (BH, T, D), (BH, T, D), 2 * BH * T * T * D),
    ("2048³", lambda a, b: a @ b, (2048, 2048), (2048, 2048), 2 * 2048 ** 3),
]
for name, fn, sa, sb, fl in cases:
    a, b = r(*sa), r(*sb)
    fn(a, b)
    g = []
    for _ in range(5):
        t = time.perf_counter(); fn(a, b); g.append(fl / (time.perf_counter() - t) / 1e9)
    print(f"{name:42s} {statistics.median(g):6.1f} GFLOP/s")
