package train

import (
	"context"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/golem-ml/golem/internal/memory"
	"github.com/janpfeifer/must"

	"github.com/golem-ml/golem/bench"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/tokenizer"
)

// BenchmarkTrainStep measures training throughput of the shipped tiny and small configs on
// the Go backend: tokens/s, achieved GFLOP/s and MFU against train.Peak (medians over timed
// steps after two warm-up steps, the first of which compiles), and the process's peak RSS.
//
//	GOEXPERIMENT=simd go test ./train -run '^$' -bench TrainStep -benchtime 1x
func BenchmarkTrainStep(b *testing.B) {
	for _, name := range []string{"tiny", "small"} {
		b.Run(name, func(b *testing.B) {
			cfg := must.M1(LoadConfig(filepath.Join(repoRoot(), "configs", name+".yaml"), nil))
			cfg.Model.VocabSize = 257
			tr := must.M1(New(cfg, backend(b)))
			must.M(tr.InitOptimizer())
			B, T := cfg.Train.BatchSize, cfg.Model.SeqLen
			r := rand.New(rand.NewPCG(1, 2))
			batch := func() []int32 { return bench.RandomTokens(r, B*(T+1), 256) }
			start := time.Now()
			must.M1(tr.TrainStep(batch(), nil))
			compile := time.Since(start)
			must.M1(tr.TrainStep(batch(), nil))
			var tps []float64
			for i := 0; i < 5*b.N; i++ {
				x := batch()
				t0 := time.Now()
				must.M1(tr.TrainStep(x, nil))
				tps = append(tps, float64(B*T)/time.Since(t0).Seconds())
			}
			slices.Sort(tps)
			med := tps[len(tps)/2]
			b.ReportMetric(med, "tokens/s")
			b.ReportMetric(med*cfg.Model.FlopsPerToken()/1e9, "GFLOP/s")
			b.ReportMetric(100*med*cfg.Model.FlopsPerToken()/1e9/Peak(tr.Backend, cfg.Train.DType, cfg.Train.PeakTFlops).GFlops, "MFU%")
			b.ReportMetric(compile.Seconds(), "first-step-s")
			b.ReportMetric(float64(memory.PeakRSS())/(1<<20), "peak-RSS-MiB")
		})
	}
}

// BenchmarkClosingSample times the sample a `make pretrain` run ends with (configs/small.yaml,
// untrained weights), compilation included as in a run: the KV-cache engine writing the
// sample.tokens that fit the context (closingSample), and the full-recompute sampler the loop
// used before, writing all sample.tokens (300) with a sliding window.
//
//	GOEXPERIMENT=simd go test ./train -run '^$' -bench ClosingSample -benchtime 1x
func BenchmarkClosingSample(b *testing.B) {
	cfg := must.M1(LoadConfig(filepath.Join(repoRoot(), "configs", "small.yaml"), nil))
	tok := tokenizer.NewByte()
	cfg.Model.VocabSize = tok.VocabSize()
	tr := must.M1(New(cfg, backend(b)))
	report := func(b *testing.B, tokens int, elapsed time.Duration) {
		b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/sample")
		b.ReportMetric(float64(tokens*b.N)/elapsed.Seconds(), "tokens/s")
	}
	b.Run("engine", func(b *testing.B) {
		var n int
		start := time.Now()
		for range b.N {
			s := must.M1(closingSample(context.Background(), tr, tok, "", io.Discard))
			n = len(s) - len(cfg.Sample.Prompt) // bytes = tokens
		}
		report(b, n, time.Since(start))
	})
	b.Run("full-recompute", func(b *testing.B) {
		var n int
		start := time.Now()
		for range b.N {
			gen := must.M1(generate.New(tr.Backend, tr.Store, cfg.Model, tr.InferenceWeights))
			n = len(must.M1(gen.Generate(tok.Encode(cfg.Sample.Prompt), generate.Options{MaxTokens: cfg.Sample.Tokens,
				Temperature: cfg.Sample.Temperature, TopK: cfg.Sample.TopK, Seed: cfg.Train.Seed, StopAt: -1})))
		}
		report(b, n, time.Since(start))
	})
}
