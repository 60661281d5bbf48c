// Package generate_test measures generation speed: prefill and decode tokens/s at batch 1 and
// 8, the KV-cache engine against full recomputation (the old sampler: the whole window per
// token), on the `small` config and the aidreams260K llama2.c import, plus llama2.c's own run.c
// on aidreams260K as the anchor when GOLEM_RUNC names its binary (built outside the repo:
// `gcc -Ofast -march=native -o run run.c -lm`). Run it with
//
//	GOEXPERIMENT=simd go test -run XXX -bench 'Generate|Serve' -benchtime 1x ./bench/generate/
//
// GOLEM_BENCH_BACKEND picks the backend (default: backends.ForInference, go:ops_sequential;
// "go" runs graph nodes in parallel).
package generate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/bench"
	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/serve"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

var (
	aidreams = filepath.Join("..", "..", "testdata", "models", "aidreams260K", "aidreams260K.bin")
	tok512   = filepath.Join("..", "..", "testdata", "tokenizer", "tok512.bin")
)

func models(b *testing.B) map[string]generate.Model {
	backend, err := backends.ForInference(os.Getenv("GOLEM_BENCH_BACKEND")) // default: go:ops_sequential
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]generate.Model{}
	cfg, err := train.LoadConfig(filepath.Join("..", "..", "configs", "small.yaml"), []string{"model.vocab_size=257"})
	if err != nil {
		b.Fatal(err)
	}
	cfg.Model.Defaults()
	tr, err := train.New(cfg, backend)
	if err != nil {
		b.Fatal(err)
	}
	out["small"] = generate.Model{Backend: backend, Store: tr.Store, Cfg: cfg.Model, Weights: tr.InferenceWeights}

	m, err := convert.ImportLlama2C(aidreams, tok512)
	if err != nil {
		b.Fatal(err)
	}
	dir, err := convert.Save(m, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	im, err := inference.Open(backend, dir, "")
	if err != nil {
		b.Fatal(err)
	}
	out["aidreams260K"] = im.Generation()
	return out
}

// BenchmarkGenerate prints one table; b.N is ignored (each cell is timed on its own).
func BenchmarkGenerate(b *testing.B) {
	fmt.Printf("| model | batch | method | prefill tok/s | decode tok/s |\n| --- | --- | --- | --- | --- |\n")
	ms := models(b)
	for _, name := range []string{"small", "aidreams260K"} {
		T := ms[name].Cfg.SeqLen
		table(b, name, ms[name], T/4, T-T/4, min(T-T/4, 64), 5)
	}
	if runc := os.Getenv("GOLEM_RUNC"); runc != "" {
		abs, _ := filepath.Abs(aidreams)
		tabs, _ := filepath.Abs(tok512)
		var best float64
		for range 5 {
			out, err := exec.Command(runc, abs, "-z", tabs, "-t", "0", "-n", "128", "-i", "I dream of").CombinedOutput()
			if err != nil {
				b.Fatalf("%s: %v\n%s", runc, err, out)
			}
			m := regexp.MustCompile(`achieved tok/s: ([0-9.]+)`).FindSubmatch(out)
			if m == nil {
				b.Fatalf("%s printed no tok/s:\n%s", runc, out)
			}
			var v float64
			fmt.Sscan(string(m[1]), &v)
			best = max(best, v)
		}
		fmt.Printf("| aidreams260K | 1 | llama2.c run.c (best of 5, 128 steps) | - | %.0f |\n", best)
	}
}

// table prints the rows of one model: prompts of P tokens then N generated, batch 1 and 8 with
// the KV cache, and batch 1 by full recomputation (nFull tokens); each cell the best of runs.
func table(b *testing.B, name string, m generate.Model, P, N, nFull, runs int) {
	ctx := context.Background()
	best := func(f func()) time.Duration {
		d := time.Duration(1 << 62)
		for range runs {
			start := time.Now()
			f()
			d = min(d, time.Since(start))
		}
		return d
	}
	e, err := generate.NewEngine(m)
	if err != nil {
		b.Fatal(err)
	}
	for _, B := range []int{1, 8} {
		prompts := make([][]int, B)
		for i := range prompts {
			for j := range P {
				prompts[i] = append(prompts[i], (i*7+j*3+1)%m.Cfg.VocabSize)
			}
		}
		// Warm up: compile the graphs of these shapes.
		if _, err := e.Generate(ctx, prompts, generate.Params{MaxTokens: N}); err != nil {
			b.Fatal(err)
		}
		prefill := best(func() {
			if _, err := e.Generate(ctx, prompts, generate.Params{MaxTokens: 1}); err != nil {
				b.Fatal(err)
			}
		})
		decode := best(func() {
			if _, err := e.Generate(ctx, prompts, generate.Params{MaxTokens: N}); err != nil {
				b.Fatal(err)
			}
		}) - prefill
		fmt.Printf("| %s | %d | KV cache | %s | %s |\n", name, B, rate(B*P, prefill), rate(B*(N-1), decode))
	}
	// Before: the old sampler recomputes the window for every token, one prompt at a time
	// (batch 8 is 8 runs in a row, so its rate is batch 1's).
	g, err := generate.New(m.Backend, m.Store, m.Cfg, m.Weights)
	if err != nil {
		b.Fatal(err)
	}
	prompt := make([]int, P)
	g.Generate(prompt, generate.Options{MaxTokens: 2, StopAt: -1})
	prefill := best(func() { g.Generate(prompt, generate.Options{MaxTokens: 1, StopAt: -1}) })
	decode := best(func() { g.Generate(prompt, generate.Options{MaxTokens: nFull, StopAt: -1}) })
	fmt.Printf("| %s | 1 | full recompute | %s | %s |\n", name, rate(P, prefill), rate(nFull, decode))
}

// rate is n tokens in d as tokens/s, with a decimal below 100.
func rate(n int, d time.Duration) string {
	if v := float64(n) / d.Seconds(); v < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}

// BenchmarkGenerate87M prints the rows of BenchmarkGenerate for the 86.9M-parameter model that
// bench/convert builds (bench.LlamaModel(350): 6 layers), with random weights: 64-token prompts, 64 generated tokens
// (8 by full recomputation), best of 2. About a minute on 2 idle cores.
func BenchmarkGenerate87M(b *testing.B) {
	backend, err := backends.ForInference(os.Getenv("GOLEM_BENCH_BACKEND"))
	if err != nil {
		b.Fatal(err)
	}
	cm, err := bench.LlamaModel(350) // bench/convert's default size: 6 layers
	if err != nil {
		b.Fatal(err)
	}
	dir, err := convert.Save(cm, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cm = nil
	im, err := inference.Open(backend, dir, "")
	if err != nil {
		b.Fatal(err)
	}
	m := generate.Model{Backend: backend, Store: im.Store, Cfg: im.Cfg, Weights: im.Weights}
	fmt.Printf("| model | batch | method | prefill tok/s | decode tok/s |\n| --- | --- | --- | --- | --- |\n")
	table(b, fmt.Sprintf("%.1fM", float64(m.Cfg.NumParams())/1e6), m, 64, 64, 8, 2)
}

// BenchmarkDecodeAidreams times greedy generations of 100 tokens on aidreams260K from a 1-token
// prompt, batch 1 and 8 (for profiles: -cpuprofile). cpu-µs/tok is this process's CPU time per
// generated token (all rows): on a shared machine it moves less with other load than tok/s.
func BenchmarkDecodeAidreams(b *testing.B) {
	m := models(b)["aidreams260K"]
	e, err := generate.NewEngine(m)
	if err != nil {
		b.Fatal(err)
	}
	p := generate.Params{MaxTokens: 100}
	for _, B := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch%d", B), func(b *testing.B) {
			prompts := make([][]int, B)
			for i := range prompts {
				prompts[i] = []int{1 + i}
			}
			e.Generate(context.Background(), prompts, p)
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				e.Generate(context.Background(), prompts, p)
			}
			b.ReportMetric(float64(b.N*B*100)/b.Elapsed().Seconds(), "tok/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N*B*100), "cpu-µs/tok")
		})
	}
}

// cpuTime is the CPU time (user + system) this process has used: on a shared machine it moves
// less with other load than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServe loads serve (aidreams260K, loopback) with a bounded load: C clients each send
// R/C completion requests of 32 tokens back to back. Prints requests/s, generated tokens/s and
// the p50/p99 request latency.
func BenchmarkServe(b *testing.B) {
	m := models(b)["aidreams260K"]
	e, err := generate.NewEngine(m)
	if err != nil {
		b.Fatal(err)
	}
	tok := m.Tok.(tokenizer.Tokenizer)
	fmt.Printf("| clients | requests | req/s | generated tok/s | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, C := range []int{1, 8} {
		s := serve.New(e, tok, serve.Options{MaxBatch: 8})
		hs := httptest.NewServer(s.Handler())
		R := 8 * C
		prompts := []string{"I dream of", "Once upon a time", "The sky is", "a", "Hello, world", "Contrast", "Echoes", "Pixels"}
		lat := make([]time.Duration, R)
		var tokens atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for c := range C {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; i < R; i += C {
					body, _ := json.Marshal(map[string]any{"prompt": prompts[i%len(prompts)], "max_tokens": 32, "temperature": 0.8, "seed": i})
					t0 := time.Now()
					resp, err := http.Post(hs.URL+"/v1/completions", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					var out struct {
						Usage struct {
							CompletionTokens int `json:"completion_tokens"`
						}
					}
					json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					lat[i] = time.Since(t0)
					tokens.Add(int64(out.Usage.CompletionTokens))
				}
			}()
		}
		wg.Wait()
		total := time.Since(start)
		hs.Close()
		s.Close()
		slices.Sort(lat)
		fmt.Printf("| %d | %d | %.1f | %.0f | %.0f | %.0f |\n", C, R, float64(R)/total.Seconds(), float64(tokens.Load())/total.Seconds(),
			lat[R/2].Seconds()*1000, lat[min(R-1, R*99/100)].Seconds()*1000)
	}
}
