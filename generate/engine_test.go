package generate_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/train"
)

// testModels are a GPT-2-shaped and a Llama-shaped (RoPE, RMSNorm, SwiGLU, grouped-query
// attention) model with random weights, large enough init that greedy text varies.
func testModels(t *testing.T) map[string]generate.Model {
	gpt := transformer.Config{VocabSize: 37, SeqLen: 40, Layers: 2, Width: 16, Heads: 4, Positions: "learned", Norm: "layernorm", MLP: "gelu", Bias: true, Tied: true, InitStd: 0.5}
	llama := transformer.Config{VocabSize: 37, SeqLen: 40, Layers: 2, Width: 16, Heads: 4, KVHeads: 2, Positions: "rope", Norm: "rmsnorm", MLP: "swiglu", InitStd: 0.5}
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]generate.Model{}
	for name, mc := range map[string]transformer.Config{"gpt2": gpt, "llama-gqa": llama} {
		mc.Defaults()
		cfg := train.DefaultConfig()
		cfg.Model = mc
		tr, err := train.New(cfg, backend)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = generate.Model{Backend: backend, Store: tr.Store, Cfg: mc, Weights: tr.InferenceWeights}
	}
	return out
}

var testPrompts = [][]int{{3}, {5, 9, 2, 30, 7}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, {36, 0, 17}}

// fullRecompute is the reference: every token runs the whole window again (the old sampler).
func fullRecompute(t *testing.T, m generate.Model, prompt []int, n int) (ids []int, lps []float64) {
	g, err := generate.New(m.Backend, m.Store, m.Cfg, m.Weights)
	if err != nil {
		t.Fatal(err)
	}
	seq := append([]int{}, prompt...)
	for range n {
		logits, err := g.Logits(seq)
		if err != nil {
			t.Fatal(err)
		}
		best, lse := 0, 0.0
		for i, l := range logits {
			if l > logits[best] {
				best = i
			}
		}
		for _, l := range logits {
			lse += math.Exp(float64(l - logits[best]))
		}
		ids = append(ids, best)
		lps = append(lps, -math.Log(lse))
		seq = append(seq, best)
	}
	return ids, lps
}

// KV-cache greedy decoding equals full recomputation token for token, for prompts of several
// lengths batched together (rows of different lengths) and alone, on GPT-2 and Llama/GQA; and
// a row's tokens and log-probabilities do not depend on the rest of its batch; and the argmax
// picked in the graph (no log-probabilities asked) is the host's.
func TestCachedGreedyMatchesFullRecompute(t *testing.T) {
	const n = 20
	for name, m := range testModels(t) {
		e, err := generate.NewEngine(m)
		if err != nil {
			t.Fatal(err)
		}
		p := generate.Params{MaxTokens: n, LogProbs: true}
		batched, err := e.Generate(context.Background(), testPrompts, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Without log-probabilities the graph picks the argmax itself (only ids come back).
		ids, err := e.Generate(context.Background(), testPrompts, generate.Params{MaxTokens: n})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		distinct := map[int]bool{}
		for i, prompt := range testPrompts {
			if !slices.Equal(ids[i].IDs, batched[i].IDs) {
				t.Errorf("%s prompt %d: greedy ids picked in the graph %v, on the host %v", name, i, ids[i].IDs, batched[i].IDs)
			}
			wantIDs, wantLPs := fullRecompute(t, m, prompt, n)
			alone, err := e.Generate(context.Background(), [][]int{prompt}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []generate.Result{batched[i], alone[0]} {
				if len(got.IDs) != n || got.Finish != "length" {
					t.Fatalf("%s prompt %d: %d ids, finish %q", name, i, len(got.IDs), got.Finish)
				}
				for j := range wantIDs {
					distinct[wantIDs[j]] = true
					if got.IDs[j] != wantIDs[j] {
						t.Fatalf("%s prompt %d: cached greedy %v, full recompute %v", name, i, got.IDs, wantIDs)
					}
					if d := math.Abs(got.LogProbs[j] - wantLPs[j]); d > 1e-4 {
						t.Errorf("%s prompt %d token %d: log-prob %.6f, full recompute %.6f", name, i, j, got.LogProbs[j], wantLPs[j])
					}
				}
			}
			for j := range alone[0].LogProbs {
				if d := math.Abs(alone[0].LogProbs[j] - batched[i].LogProbs[j]); d > 1e-5 {
					t.Errorf("%s prompt %d token %d: log-prob %.7f alone, %.7f in a batch of %d", name, i, j, alone[0].LogProbs[j], batched[i].LogProbs[j], len(testPrompts))
				}
			}
		}
		if len(distinct) < 4 {
			t.Errorf("%s: greedy output uses only %d distinct ids: too degenerate to test anything", name, len(distinct))
		}
	}
}

// Seeded sampling gives a row the same tokens whatever else is in the batch.
func TestSampledRowIndependentOfBatch(t *testing.T) {
	m := testModels(t)["llama-gqa"]
	e, err := generate.NewEngine(m)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := generate.Params{MaxTokens: 15, Temperature: 1, TopK: 10, TopP: 0.9, MinP: 0.01, FrequencyPenalty: 0.5, PresencePenalty: 0.2, RepetitionPenalty: 1.3, Seed: 7}
	mk := func(prompts ...[]int) []*generate.Request {
		var rs []*generate.Request
		for _, pr := range prompts {
			rs = append(rs, &generate.Request{Prompt: pr, Params: p})
		}
		return rs
	}
	alone, err := e.Run(ctx, mk(testPrompts[1]))
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := e.Run(ctx, mk(testPrompts[2], testPrompts[1], testPrompts[0]))
	if err != nil {
		t.Fatal(err)
	}
	for j := range alone[0].IDs {
		if alone[0].IDs[j] != mixed[1].IDs[j] {
			t.Fatalf("sampled %v alone, %v in a batch", alone[0].IDs, mixed[1].IDs)
		}
	}
}

// A prompt plus max_tokens beyond the context is refused with the numbers, never truncated.
func TestContextOverflowIsAnError(t *testing.T) {
	m := testModels(t)["gpt2"]
	e, err := generate.NewEngine(m)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Generate(context.Background(), [][]int{make([]int, 30)}, generate.Params{MaxTokens: 11})
	if err == nil || !contains(err.Error(), "exceeds the model's context of 40") {
		t.Fatalf("got %v, want a context error", err)
	}
	_, err = e.Generate(context.Background(), [][]int{{99}}, generate.Params{MaxTokens: 1})
	if err == nil || !contains(err.Error(), "outside the vocabulary") {
		t.Fatalf("got %v, want a vocabulary error", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
