// Package gpu holds golem's accelerator checks: XLA agrees with the Go backend (loss, training
// steps, generation), and the gpt2-124m training benchmark (tokens/s, MFU, device memory).
// scripts/gpu-check.sh runs them on a GPU machine; elsewhere every test here is skipped.
//
// They run on the backend named by $GOMLX_BACKEND (set by scripts/gpu-env.sh); GOLEM_GPU_TESTS=1
// turns them on (without it they skip, so `go test ./...` on a CPU machine stays fast).
package gpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/bench"
	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/train"
)

// repoRoot walks up from the working directory to the folder holding configs/ and testdata/
// (the test binary may run from a copy of the tree on the GPU machine).
func repoRoot(t testing.TB) string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "configs")); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(d, "testdata")); err == nil {
				return d
			}
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no configs/ and testdata/ above %s", dir)
		}
	}
}

// accel is the backend under test ($GOMLX_BACKEND), or a skip without GOLEM_GPU_TESTS=1.
func accel(t testing.TB) compute.Backend {
	if os.Getenv("GOLEM_GPU_TESTS") != "1" {
		t.Skip("GPU checks: set GOLEM_GPU_TESTS=1 and source scripts/gpu-env.sh (scripts/gpu-check.sh does both)")
	}
	b, err := backends.New("")
	if err != nil {
		t.Fatalf("backend from GOMLX_BACKEND=%q: %v", os.Getenv("GOMLX_BACKEND"), err)
	}
	t.Logf("backend %s | %s | device %q", b.Name(), b.Description(), train.DeviceName(b))
	return b
}

func goBackend(t testing.TB) compute.Backend {
	b, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGPUMatmulPeak times 8192³ products in bf16 and float32 (TF32 on XLA/CUDA) and prints them
// beside the table train.Peak uses, so the table can be checked against the device.
func TestGPUMatmulPeak(t *testing.T) {
	b := accel(t)
	for _, dt := range []string{"bfloat16", "float32"} {
		gf := train.MeasureMatmulPeak(b, dt)
		p := train.Peak(b, dt, 0)
		t.Logf("matmul %s: measured %.1f TFLOP/s; MFU denominator %.1f TFLOP/s (%s)", dt, gf/1e3, p.GFlops/1e3, p.Source)
	}
}

// tinyConfig is configs/tiny.yaml on the bundled Shakespeare, in dtype.
func tinyConfig(t testing.TB, dtype string, sets ...string) train.Config {
	root := repoRoot(t)
	sets = append([]string{
		"data.train=[" + filepath.Join(root, "testdata/tinyshakespeare.txt") + "]",
		"out_dir=" + t.TempDir(), "sample.tokens=0", "train.dtype=" + dtype,
	}, sets...)
	cfg, err := train.LoadConfig(filepath.Join(root, "configs/tiny.yaml"), sets)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Model.VocabSize = 257
	return cfg
}

// lossCurve trains a fresh tiny model for steps on fixed random batches and returns the losses.
func lossCurve(t *testing.T, b compute.Backend, cfg train.Config, steps int) []float64 {
	tr, err := train.New(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.InitOptimizer(); err != nil {
		t.Fatal(err)
	}
	B, T := cfg.Train.BatchSize, cfg.Model.SeqLen
	r := rand.New(rand.NewPCG(7, 8))
	var out []float64
	for s := 0; s < steps; s++ {
		res, err := tr.TrainStep(bench.RandomTokens(r, B*(T+1), 256), nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Loss)
	}
	return out
}

// TestGPUTrainingAgreesWithGo: the same model, init and batches give the same loss curve on
// the accelerator and on the Go backend (float32 within 2e-3, bf16 within 3e-2 nats).
func TestGPUTrainingAgreesWithGo(t *testing.T) {
	acc, cpu := accel(t), goBackend(t)
	for _, c := range []struct {
		dtype string
		tol   float64
	}{{"float32", 2e-3}, {"bfloat16", 3e-2}} {
		cfg := tinyConfig(t, c.dtype, "train.batch_size=4", "model.seq_len=64")
		a, g := lossCurve(t, acc, cfg, 5), lossCurve(t, cpu, cfg, 5)
		t.Logf("%s losses: accelerator %.5f, Go backend %.5f", c.dtype, a, g)
		for i := range a {
			if math.Abs(a[i]-g[i]) > c.tol || math.IsNaN(a[i]) {
				t.Errorf("%s step %d: loss %.5f on the accelerator vs %.5f on the Go backend (tolerance %g)", c.dtype, i, a[i], g[i], c.tol)
			}
		}
	}
}

// TestGPUGenerationAgreesWithGo: aidreams260K (a trained llama2.c model: RoPE, RMSNorm, SwiGLU,
// checked against run.c in convert's tests) gives the same next-token logits and the same greedy
// continuation from BOS on both backends.
func TestGPUGenerationAgreesWithGo(t *testing.T) {
	acc, cpu := accel(t), goBackend(t)
	root := repoRoot(t)
	m, err := convert.ImportLlama2C(filepath.Join(root, "testdata/models/aidreams260K/aidreams260K.bin"),
		filepath.Join(root, "testdata/tokenizer/tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := convert.Save(m, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func(b compute.Backend) ([]float32, []int) {
		im, err := inference.Open(b, dir, "")
		if err != nil {
			t.Fatal(err)
		}
		tok := im.Tok
		gen, err := generate.New(b, im.Store, im.Cfg, im.Weights)
		if err != nil {
			t.Fatal(err)
		}
		prompt := []int{1} // BOS
		logits, err := gen.Logits(prompt)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := gen.Generate(prompt, generate.Options{MaxTokens: 40, StopAt: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %q", b.Name(), tok.Decode(ids))
		return logits, ids
	}
	la, ia := run(acc)
	lg, ig := run(cpu)
	worst := 0.0
	for i := range la {
		worst = math.Max(worst, math.Abs(float64(la[i]-lg[i])))
	}
	t.Logf("largest next-token logit difference: %.2e", worst)
	if worst > 2e-2 {
		t.Errorf("next-token logits differ by up to %.3g between the accelerator and the Go backend", worst)
	}
	for i := range ia {
		if ia[i] != ig[i] {
			t.Errorf("greedy continuation differs at token %d: %v vs %v", i, ia, ig)
			break
		}
	}
}

// BenchmarkGPT2 runs a short gpt2-124m pretraining (context 1024, GPT-2 BPE on Shakespeare)
// through train.Pretrain, once per dtype, and reports the run summary's figures: tokens/s, MFU
// against train.Peak, and the GPU memory in use at the end (nvidia-smi; the allocator keeps its
// peak). Run one dtype per process for a clean memory figure:
//
//	go test ./bench/gpu -run '^$' -bench 'GPT2/bf16' -benchtime 1x
//
// GOLEM_GPU_BATCH (default 16), GOLEM_GPU_STEPS (default 20) and GOLEM_GPU_SETS (extra
// comma-separated --set overrides) size the run.
func BenchmarkGPT2(b *testing.B) {
	for _, dt := range []struct{ name, dtype string }{{"bf16", "bfloat16"}, {"fp32", "float32"}} {
		b.Run(dt.name, func(b *testing.B) {
			back := accel(b)
			root := repoRoot(b)
			batch, steps := envInt("GOLEM_GPU_BATCH", 16), envInt("GOLEM_GPU_STEPS", 20)
			sets := []string{
				"data.train=[" + filepath.Join(root, "testdata/tinyshakespeare.txt") + "]",
				"tokenizer.path=" + filepath.Join(root, "testdata/tokenizer/gpt2"),
				"out_dir=" + b.TempDir(), "train.dtype=" + dt.dtype,
				"train.steps=" + strconv.Itoa(steps), "optimizer.warmup_steps=5",
				"train.batch_size=" + strconv.Itoa(batch), "train.micro_batch_size=0",
				"data.val_fraction=0.1", "train.eval_every=0", "train.eval_batches=1", "checkpoint.every=0", "sample.tokens=16",
			}
			if extra := os.Getenv("GOLEM_GPU_SETS"); extra != "" {
				sets = append(sets, strings.Split(extra, ",")...)
			}
			cfg, err := train.LoadConfig(filepath.Join(root, "configs/gpt2-124m.yaml"), sets)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				start := time.Now()
				sum, err := train.Pretrain(context.Background(), cfg, train.Options{Backend: back, Text: corpus.TextSource{}, Quiet: true})
				if err != nil {
					b.Fatal(err)
				}
				mem := gpuMemoryGiB()
				b.ReportMetric(sum.TokensPerSec, "tokens/s")
				b.ReportMetric(100*sum.MFU, "MFU%")
				b.ReportMetric(mem, "GPU-GiB")
				b.ReportMetric(sum.FinalLoss, "final-loss")
				fmt.Printf("| gpt2-124m | %s | ctx %d | batch %d | %.0f tok/s | %.1f TFLOP/s | MFU %.1f%% of %.0f TFLOP/s | GPU mem %.1f GiB | loss %.3f -> %.3f | %d steps in %s |\n",
					dt.name, cfg.Model.SeqLen, cfg.Train.BatchSize, sum.TokensPerSec, sum.GFlops/1e3, 100*sum.MFU, sum.PeakGFlops/1e3,
					mem, sum.FirstLoss, sum.FinalLoss, sum.Steps, time.Since(start).Round(time.Second))
				fmt.Printf("  peak: %s\n  sample: %q\n", sum.PeakSource, sum.Sample)
			}
		})
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// gpuMemoryGiB is the memory in use on GPU 0 by nvidia-smi, in GiB (0 without nvidia-smi).
func gpuMemoryGiB() float64 {
	out, err := exec.Command("nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	mib, _ := strconv.ParseFloat(strings.TrimSpace(first), 64)
	return mib / 1024
}

// TestGPUDataParallelMatchesSingleDevice: the data-parallel graphs (batch sharded over a device
// mesh of every local device, XLA's all-reduce) give the single-device loss curve, with gradient
// accumulation and evaluation, and a loadable checkpoint.
func TestGPUDataParallelMatchesSingleDevice(t *testing.T) {
	b := accel(t)
	if b.Name() != "xla" {
		t.Skipf("data parallelism needs XLA; %s has no sharding", b.Name())
	}
	t.Logf("%d local device(s)", b.NumDevices())
	var curves [2][]train.Metric
	for i, mode := range []string{"off", "on"} {
		cfg := tinyConfig(t, "float32", "train.steps=4", "train.eval_every=2", "train.log_every=1",
			"train.micro_batch_size=2", "train.data_parallel="+mode)
		sum, err := train.Pretrain(context.Background(), cfg, train.Options{Backend: b, Text: corpus.TextSource{}, Quiet: true})
		if err != nil {
			t.Fatalf("data_parallel=%s: %v", mode, err)
		}
		if curves[i], err = train.ReadMetrics(filepath.Join(cfg.OutDir, "metrics.jsonl")); err != nil {
			t.Fatal(err)
		}
		if _, err := inference.Open(b, sum.Checkpoint, ""); err != nil {
			t.Fatalf("data_parallel=%s: loading its checkpoint: %v", mode, err)
		}
	}
	if len(curves[0]) != len(curves[1]) || len(curves[0]) == 0 {
		t.Fatalf("metrics lines: %d single-device vs %d data-parallel", len(curves[0]), len(curves[1]))
	}
	for j := range curves[0] {
		a, d := curves[0][j], curves[1][j]
		t.Logf("step %d: loss %.6f / %.6f, val %.6f / %.6f", a.Step, a.Loss, d.Loss, a.ValLoss, d.ValLoss)
		if math.Abs(a.Loss-d.Loss) > 1e-4 || math.Abs(a.ValLoss-d.ValLoss) > 1e-4 {
			t.Errorf("step %d: single device loss %.6f val %.6f, data parallel loss %.6f val %.6f", a.Step, a.Loss, a.ValLoss, d.Loss, d.ValLoss)
		}
	}
}

// TestGPUActivationCheckpointing: recomputing activations in the backward pass leaves the losses
// unchanged (float noise) in bf16.
func TestGPUActivationCheckpointing(t *testing.T) {
	b := accel(t)
	plain := lossCurve(t, b, tinyConfig(t, "bfloat16", "train.batch_size=4", "model.seq_len=64"), 4)
	ckpt := lossCurve(t, b, tinyConfig(t, "bfloat16", "train.batch_size=4", "model.seq_len=64", "train.checkpoint_activations=true"), 4)
	t.Logf("losses %.5f, with activation checkpointing %.5f", plain, ckpt)
	for i := range plain {
		if math.Abs(plain[i]-ckpt[i]) > 1e-2 {
			t.Errorf("step %d: loss %.5f, with activation checkpointing %.5f", i, plain[i], ckpt[i])
		}
	}
}

// BenchmarkGPT2Step times gpt2-124m training steps and forward passes alone on random tokens
// (no data, evaluation or checkpoints), to see where a step's time goes:
//
//	GOLEM_GPU_SETS=train.dtype=bfloat16 go test ./bench/gpu -run '^$' -bench GPT2Step -benchtime 1x
func BenchmarkGPT2Step(b *testing.B) {
	back := accel(b)
	root := repoRoot(b)
	sets := []string{"out_dir=" + b.TempDir(), "train.batch_size=" + strconv.Itoa(envInt("GOLEM_GPU_BATCH", 32)), "train.micro_batch_size=0"}
	if extra := os.Getenv("GOLEM_GPU_SETS"); extra != "" {
		sets = append(sets, strings.Split(extra, ",")...)
	}
	cfg, err := train.LoadConfig(filepath.Join(root, "configs/gpt2-124m.yaml"), sets)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := train.New(cfg, back)
	if err != nil {
		b.Fatal(err)
	}
	if err := tr.InitOptimizer(); err != nil {
		b.Fatal(err)
	}
	B, T := cfg.Train.BatchSize, cfg.Model.SeqLen
	r := rand.New(rand.NewPCG(1, 2))
	batch := func() []int32 { return bench.RandomTokens(r, B*(T+1), 50257) }
	peak := train.Peak(back, cfg.Train.DType, cfg.Train.PeakTFlops).GFlops * 1e9
	flops := cfg.Model.FlopsPerToken() * float64(B*T)
	timeIt := func(n int, f func()) float64 {
		f() // compile / warm up
		f()
		start := time.Now()
		for i := 0; i < n; i++ {
			f()
		}
		return time.Since(start).Seconds() / float64(n)
	}
	x := batch()
	step := timeIt(10, func() {
		if _, err := tr.TrainStep(x, nil); err != nil {
			b.Fatal(err)
		}
	})
	fwd := timeIt(10, func() {
		if _, err := tr.EvalLoss([]train.Batch{{Tokens: x}}); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(step*1e3, "step-ms")
	b.ReportMetric(100*flops/step/peak, "MFU%")
	b.ReportMetric(fwd*1e3, "fwd-ms")
	b.ReportMetric(100*flops/3/fwd/peak, "fwd-MFU%")
	b.ReportMetric(gpuMemoryGiB(), "GPU-GiB")
	fmt.Printf("| step | %s | batch %d | step %.1f ms, MFU %.1f%% | forward %.1f ms, MFU %.1f%% | %s |\n",
		cfg.Train.DType, B, step*1e3, 100*flops/step/peak, fwd*1e3, 100*flops/3/fwd/peak, os.Getenv("GOLEM_GPU_SETS"))
}
