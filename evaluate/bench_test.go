package evaluate

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// benchLM is a freshly initialised model of a shipped config (speed does not depend on the
// weights): GOLEM_EVAL_BENCH=small (configs/small.yaml, the default) or gpt2
// (configs/gpt2-124m.yaml in float32, its GPT-2 tokenizer; optional GOLEM_EVAL_BENCH_CTX to
// shorten its 1024-token context).
func benchLM(b *testing.B) LM {
	name := os.Getenv("GOLEM_EVAL_BENCH")
	if name == "" {
		name = "small"
	}
	file := map[string]string{"small": "small.yaml", "gpt2": "gpt2-124m.yaml"}[name]
	if file == "" {
		b.Fatalf("GOLEM_EVAL_BENCH=%q: want small or gpt2", name)
	}
	sets := []string{"train.dtype=float32"}
	if c := os.Getenv("GOLEM_EVAL_BENCH_CTX"); c != "" {
		sets = append(sets, "model.seq_len="+c)
	}
	cfg, err := train.LoadConfig(filepath.Join("..", "configs", file), sets)
	if err != nil {
		b.Fatal(err)
	}
	var tok tokenizer.Tokenizer = tokenizer.NewByte()
	if cfg.Tokenizer.Path != "byte" {
		if tok, err = tokenizer.LoadAny(filepath.Join("..", cfg.Tokenizer.Path)); err != nil {
			b.Fatal(err)
		}
	}
	if cfg.Model.VocabSize == 0 {
		cfg.Model.VocabSize = tok.VocabSize() // as pretrain does
	}
	tr, err := train.New(cfg, backend(b))
	if err != nil {
		b.Fatal(err)
	}
	return LM{Backend: backend(b), Store: tr.Store, Cfg: cfg.Model, Weights: tr.InferenceWeights, Tok: tok}
}

// BenchmarkRequestTypes reports requests/s and tokens/s (tokens run through the model) for each
// request type: PIQA and ARC-Easy choices (loglikelihood), Shakespeare documents
// (loglikelihood_rolling) and GSM8K prompts (generate_until, 32 new tokens each).
func BenchmarkRequestTypes(b *testing.B) {
	lm := benchLM(b)
	s, err := NewScorer(lm, 8)
	if err != nil {
		b.Fatal(err)
	}
	tasks, err := LoadTasks(tasksDir, []string{"piqa", "arc_easy", "gsm8k"})
	if err != nil {
		b.Fatal(err)
	}
	var pairs [][2]string
	for _, t := range tasks[:2] {
		_, reqs, err := Requests(t, 0, Options{DataDir: dataDir})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reqs {
			pairs = append(pairs, [2]string{r.Context, r.Continuation})
		}
	}
	text, err := os.ReadFile(filepath.Join("..", "testdata", "tinyshakespeare.txt"))
	if err != nil {
		b.Fatal(err)
	}
	docs := []string{string(text[:4000]), string(text[4000:12000]), string(text[12000:14000])}
	_, gen, err := Requests(tasks[2], 0, Options{DataDir: dataDir, Limit: 2})
	if err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B, items, tokens int, d time.Duration) {
		b.ReportMetric(float64(items)/d.Seconds(), "requests/s")
		b.ReportMetric(float64(tokens)/d.Seconds(), "tokens/s")
	}
	b.Run("loglikelihood", func(b *testing.B) {
		tokens := 0
		for _, p := range pairs {
			r := s.Encode(p[0], p[1])
			tokens += min(len(r.Context)+len(r.Continuation), lm.Cfg.SeqLen+1) - 1
		}
		s.Loglikelihood(pairs[:1], nil) // compile outside the timing
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := s.Loglikelihood(pairs, nil); err != nil {
				b.Fatal(err)
			}
		}
		report(b, len(pairs)*b.N, tokens*b.N, time.Since(start))
	})
	b.Run("loglikelihood_rolling", func(b *testing.B) {
		tokens := 0
		for _, d := range docs {
			tokens += len(lm.Tok.Encode(d))
		}
		s.LoglikelihoodRolling(docs[:1], nil)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := s.LoglikelihoodRolling(docs, nil); err != nil {
				b.Fatal(err)
			}
		}
		report(b, len(docs)*b.N, tokens*b.N, time.Since(start))
	})
	b.Run("generate_until", func(b *testing.B) {
		reqs := make([]GenRequest, len(gen))
		for i, r := range gen {
			reqs[i] = GenRequest{Context: r.Context, MaxTokens: 32, Until: []string{"\x00never"}}
		}
		s.GenerateUntil(reqs[:1], nil)
		start, tokens := time.Now(), 0
		for i := 0; i < b.N; i++ {
			outs, err := s.GenerateUntil(reqs, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range outs {
				tokens += len(lm.Tok.Encode(o)) // tokens generated (re-encoded)
			}
		}
		report(b, len(reqs)*b.N, tokens, time.Since(start))
	})
}
