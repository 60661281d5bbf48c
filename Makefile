# Every build, test and benchmark runs with the Go backend's SIMD kernels (20x faster matmul)
# and never tries to download an XLA plugin. third_party/compute is GoMLX's compute module with
# a fix for a worker-pool deadlock (see third_party/compute/GOLEM_PATCH.md); its test runs too.
export GOEXPERIMENT := simd
export GOMLX_NO_AUTO_INSTALL := 1

.PHONY: pretrain test bench build bench-torch notebook-test notebooks jupyter gpu-check gpu-check-dry-run

# Pretrain the small model on the bundled corpus (testdata/tinyshakespeare.txt). A second run
# into checkpoints/small needs ARGS=--overwrite (start afresh) or ARGS=--resume.
pretrain:
	go run ./cmd/pretrain --config configs/small.yaml $(ARGS)

# The whole test suite (what CI runs): Go tests, the vendored worker pool's test, the Beam
# pipeline's module (scale/beam, its own go.mod; a cold build compiles Beam's SDK, minutes),
# the notebook runner's own test and every notebook run headless, each within NOTEBOOK_TIMEOUT
# seconds (installs Jupyter from Debian and gonb on first use).
test:
	go vet ./... && go test -count=1 -timeout 60m ./...
	cd third_party/compute && go test -count=1 ./dtypes/ ./internal/gobackend/ ./internal/gobackend/workerspool/ ./internal/gobackend/dot/... ./internal/gobackend/ops/... ./internal/gobackend/tile/ ./internal/gobackend/fusedops/ ./internal/fastmath/
	cd scale/beam && go vet ./... && go test -count=1 ./...
	scripts/notebook-runner-test.sh
	scripts/notebook-test.sh

# Every command into bin/ (bin/pretrain, bin/sample, ...), with the SIMD kernels.
build:
	go build -o bin/ ./cmd/...

bench:
	go test -run '^$$' -bench . -benchtime 1x ./...

# Run notebooks/*.ipynb headless with the gonb kernel (installs Jupyter from Debian and gonb).
notebook-test:
	scripts/notebook-runner-test.sh
	scripts/notebook-test.sh

# Re-run every notebook and write its outputs (plots, tables) back into notebooks/*.ipynb.
notebooks:
	scripts/notebook-test.sh --update

# Open the notebooks in Jupyter (installs the tooling on first use); JUPYTER_ARGS for more flags,
# e.g. JUPYTER_ARGS="--ip=0.0.0.0 --no-browser --allow-root" on a remote machine.
jupyter:
	scripts/notebook-setup.sh
	PATH="$$(go env GOPATH)/bin:$$PATH" jupyter notebook --notebook-dir=notebooks $(JUPYTER_ARGS)

# golem vs PyTorch (python3-torch + libopenblas0-pthread) training speed, interleaved in one run;
# see bench/README.md. CONFIGS=tiny,small or YAML run configs; ARGS for more flags.
CONFIGS ?= tiny,small
bench-torch:
	go run ./bench/cmd/speed -configs $(CONFIGS) $(ARGS)

# On a machine with an NVIDIA GPU and JAX's CUDA wheels: GPU tests and the gpt2-124m table
# (bench/gpu/README.md). The dry run does the same steps on the Go backend with a tiny model.
gpu-check:
	scripts/gpu-check.sh

gpu-check-dry-run:
	scripts/gpu-check.sh --dry-run
