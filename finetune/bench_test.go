package finetune

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/golem-ml/golem/internal/memory"
	"github.com/golem-ml/golem/lora"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// benchBase is the model both benchmarks fine-tune: 4 layers, width 384, context 128
// (7.3M parameters, byte vocabulary), batch 4, on masked Alpaca rows.
func benchBase(b *testing.B) (train.Config, [][]int32, [][]float32) {
	cfg := train.DefaultConfig()
	cfg.Model = transformer.Config{VocabSize: 257, SeqLen: 128, Layers: 4, Width: 384, Heads: 6, Bias: true, Tied: true}
	cfg.Model.Defaults()
	cfg.Train.BatchSize, cfg.Train.Steps, cfg.Optimizer.WarmupSteps = 4, 1000, 0
	dc := dataCfg(func(dc *DataConfig) {
		dc.Fields = map[string]string{"prompt": "{instruction}\n{input}\n=> ", "completion": "output"}
	})
	ds, err := ReadFiles([]string{sft("alpaca_short.jsonl")}, dc)
	if err != nil {
		b.Fatal(err)
	}
	rows, ws := Rows(Encode(ds, tokenizer.NewByte(), cfg.Model.SeqLen, dc), cfg.Model.SeqLen, false, 256)
	return cfg, rows, ws
}

// resetPeakRSS makes the kernel's VmHWM restart from the current RSS (Linux: clear_refs 5).
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func benchFinetune(b *testing.B, withLoRA bool) {
	cfg, rows, ws := benchBase(b)
	resetPeakRSS()
	t, err := train.New(cfg, backend())
	if err != nil {
		b.Fatal(err)
	}
	if withLoRA {
		ad, err := lora.NewAdapter(t.Store, cfg.Model, lora.Config{Rank: 8, Alpha: 16, Targets: []string{"all"}}, 1)
		if err != nil {
			b.Fatal(err)
		}
		t.Params, t.Weights = adapterParams(ad), ad.Wrap(t.Weights)
	}
	if err := t.InitOptimizer(); err != nil {
		b.Fatal(err)
	}
	src := NewSource(rows, ws, nil, nil, cfg.Train.BatchSize, 1, 1, 256)
	step := func(s int64) {
		batch := src.Train(s)
		if _, err := t.TrainStep(batch.Tokens, batch.Weights); err != nil {
			b.Fatal(err)
		}
	}
	step(0) // compiles
	trainable := 0
	for _, p := range t.Params {
		trainable += t.Store.GetVariable(p.Path).Shape().Size()
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		step(int64(i + 1))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	tokens := float64(b.N * cfg.Train.BatchSize * cfg.Model.SeqLen)
	b.ReportMetric(tokens/elapsed.Seconds(), "tokens/s")
	b.ReportMetric(float64(memory.PeakRSS())/(1<<20), "peakRSS-MiB")
	b.ReportMetric(float64(trainable), "trainable-params")
	b.ReportMetric(float64(cfg.Model.NumParams()), "model-params")
}

// Fine-tuning throughput and memory, full versus LoRA (rank 8 on every attention and MLP
// matrix), on the same base:
//
//	GOEXPERIMENT=simd go test ./finetune -run '^$' -bench Finetune -benchtime 5x
func BenchmarkFinetuneFull(b *testing.B) { benchFinetune(b, false) }
func BenchmarkFinetuneLoRA(b *testing.B) { benchFinetune(b, true) }
