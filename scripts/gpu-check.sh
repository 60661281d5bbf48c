#!/usr/bin/env bash
# One prepared check of golem on a GPU machine, in under 8 minutes: sets up the XLA/CUDA backend
# (scripts/gpu-env.sh), runs the GPU tests of bench/gpu (XLA agrees with the Go backend on training
# losses in float32 and bf16 and on generation; the matmul peaks beside train.Peak's table), then
# the gpt2-124m benchmark at context 1024 in bf16 and in fp32, one process each, and prints the
# table (tokens/s, MFU, GPU memory).
#
#   scripts/gpu-check.sh             # on the GPU machine, from a checkout (builds with go)
#   scripts/gpu-check.sh --dry-run   # anywhere: the same steps on the Go backend with a tiny model
#
# Machines without Go: build the test binary elsewhere (CGO_ENABLED=1 GOEXPERIMENT=simd
# go test -c -o gpu.test ./bench/gpu) and set GOLEM_GPU_TESTBIN=path/to/gpu.test; the binary needs
# configs/ and testdata/ (tinyshakespeare.txt, tokenizer/gpt2, tokenizer/tok512.bin,
# models/aidreams260K) under the current folder.
# Knobs: GOLEM_GPU_BATCH (default 32), GOLEM_GPU_STEPS (default 30), GOLEM_GPU_SETS (extra --set
# overrides, comma-separated), GOLEM_GPU_LOG (a file that gets a copy of everything).
set -u -o pipefail
dry=0
case "${1:-}" in
--dry-run) dry=1 ;;
"") ;;
*) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac
[ -d configs ] && [ -d testdata ] || cd "$(dirname "$0")/.."
log=${GOLEM_GPU_LOG:-/dev/null}
say() { echo "== $*" | tee -a "$log"; }

export GOLEM_GPU_TESTS=1 GOMLX_NO_AUTO_INSTALL=1 GOEXPERIMENT=simd
export GOLEM_GPU_BATCH=${GOLEM_GPU_BATCH:-32} GOLEM_GPU_STEPS=${GOLEM_GPU_STEPS:-30}
if [ $dry = 1 ]; then
	say "dry run: Go backend, gpt2-124m shrunk to 2 layers of width 64 at context 64"
	export GOMLX_BACKEND=go GOLEM_GPU_BATCH=2 GOLEM_GPU_STEPS=3
	export GOLEM_GPU_SETS="model.layers=2,model.width=64,model.heads=2,model.seq_len=64${GOLEM_GPU_SETS:+,$GOLEM_GPU_SETS}"
else
	# shellcheck source=gpu-env.sh
	. "$(dirname "$0")/gpu-env.sh" || exit 1
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$log"
fi

bin=${GOLEM_GPU_TESTBIN:-}
if [ -z "$bin" ]; then
	bin=$(mktemp -d)/gpu.test
	say "building bench/gpu's test binary"
	CGO_ENABLED=1 go test -c -o "$bin" ./bench/gpu || exit 1
fi

status=0
say "GPU tests: agreement with the Go backend, matmul peaks"
timeout 300 "$bin" -test.run 'GPU' -test.v -test.count=1 2>&1 | tee -a "$log" || status=1

table=$(mktemp) out=$(mktemp)
for dt in bf16 fp32; do
	say "benchmark gpt2-124m $dt (batch $GOLEM_GPU_BATCH, $GOLEM_GPU_STEPS steps)"
	timeout 240 "$bin" -test.run '^$' -test.bench "GPT2/$dt\$" -test.benchtime 1x >"$out" 2>&1 || status=1
	tee -a "$log" <"$out"
	grep '^| gpt2' "$out" >>"$table" || status=1
done

say "gpt2-124m training (tokens/s, model TFLOP/s, MFU against train.Peak, GPU memory in use)"
cat "$table" | tee -a "$log"
[ $status = 0 ] && say "all GPU checks passed" || say "some GPU checks FAILED (see above)"
exit $status
