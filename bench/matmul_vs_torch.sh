#!/bin/sh
# Interleaves bench/cmd/matmulbench (golem's Go backend) and bench/matmul_torch.py (PyTorch on
# OpenBLAS, 2 threads) for ROUNDS rounds and prints golem/OpenBLAS per shape and round: on a
# shared machine only ratios measured side by side mean anything. Run from the repository root:
#   sh bench/matmul_vs_torch.sh [ROUNDS]
set -e
rounds=${1:-3}
export GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1 OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
# Let OpenBLAS pick its kernels for this CPU: a pinned OPENBLAS_CORETYPE=Haswell (the build
# machines' environment) holds it to AVX2 kernels, 2-3x slower than its AVX-512 ones here.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
bin=$(mktemp -d)/matmulbench
go build -o "$bin" ./bench/cmd/matmulbench
out=$(mktemp)
for r in $(seq "$rounds"); do
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	"$bin" 2>/dev/null | sed "s/^/golem $r|/" >>"$out"
	sleep 1
	/usr/bin/python3 bench/matmul_torch.py | sed "s/^/torch $r|/" >>"$out"
	sleep 1
done
# Lines: "<who> <round>|<name padded to 42> <gflops> GFLOP/s".
awk -F'|' '{
	split($1, w, " "); name = substr($2, 1, 42); n = split($2, f, " "); g = f[n-1]
	v[w[1], w[2], name] = g; names[name] = 1; if (w[2] > R) R = w[2]
} END {
	for (name in names) {
		line = sprintf("%s", name)
		for (r = 1; r <= R; r++) line = line sprintf("  %6.1f/%6.1f=%4.2f", v["golem", r, name], v["torch", r, name], v["golem", r, name] / v["torch", r, name])
		print line
	}
}' "$out" | sort
echo "(per round: golem GFLOP/s / OpenBLAS GFLOP/s = ratio)"
