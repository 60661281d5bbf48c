// Package generate produces text from a model.
//
// Engine (engine.go, batch.go) is the fast path: a key/value cache, so a prompt runs through
// the model once and each new token costs one row of work; rows of a batch keep their own
// positions, and rows join and leave between steps (continuous batching). Params (params.go)
// are the sampling settings; Detokenizer (detok.go) turns ids into text incrementally.
//
// Generator (this file) is the original sampler: each new token runs the model over the
// (left-aligned, fixed-length) context window, so one compiled graph serves every position and
// prompts longer than the context keep their last T tokens. It is the reference the engine is
// tested against, and `sample --slide` uses it to go past the context.
package generate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/models/transformer"
)

// Options control sampling.
type Options struct {
	MaxTokens   int     // tokens to generate
	Temperature float64 // 0 = greedy
	TopK        int     // keep the K most likely tokens; 0 = all
	TopP        float64 // keep the smallest set whose probability reaches P; 0 or 1 = all
	Seed        uint64
	StopAt      int // stop after producing this id (e.g. end-of-text); -1 = never
}

// Generator runs a model's next-token distribution.
type Generator struct {
	Cfg  transformer.Config
	exec *model.Exec
}

// New compiles the next-token graph for the model whose parameters weights reads from store.
func New(backend compute.Backend, store *model.Store, cfg transformer.Config, weights func(g *Graph) transformer.Weights) (*Generator, error) {
	e, err := model.NewExec(backend, store, func(_ *model.Scope, tokens, pos *Node) *Node {
		m := &transformer.Model{Cfg: cfg, W: weights(tokens.Graph())}
		h := m.Hidden(tokens)                                            // [T, C] (B = 1)
		row := Gather(h, Reshape(ConvertDType(pos, dtypes.Int32), 1, 1)) // [1, C]
		return Reshape(m.Head(row), cfg.VocabSize)                       // [V]
	})
	if err != nil {
		return nil, err
	}
	return &Generator{Cfg: cfg, exec: e}, nil
}

// Logits returns the next-token logits [V] after the context ids (the last T are used).
func (g *Generator) Logits(ids []int) ([]float32, error) {
	T := g.Cfg.SeqLen
	if len(ids) == 0 {
		return nil, fmt.Errorf("generate: empty context; give at least one token (e.g. a BOS or a newline)")
	}
	if len(ids) > T {
		ids = ids[len(ids)-T:]
	}
	window := make([]int32, T) // causal attention: the padding after the last token is never seen
	for i, id := range ids {
		if id < 0 || id >= g.Cfg.VocabSize {
			return nil, fmt.Errorf("generate: token id %d outside the vocabulary [0, %d)", id, g.Cfg.VocabSize)
		}
		window[i] = int32(id)
	}
	out, err := g.exec.Call(tensors.FromFlatDataAndDimensions(window, 1, T), tensors.FromScalar(int32(len(ids)-1)))
	if err != nil {
		return nil, err
	}
	return tensors.MustCopyFlatData[float32](out[0]), nil
}

// Generate extends prompt by up to opts.MaxTokens sampled ids and returns only the new ids.
func (g *Generator) Generate(prompt []int, opts Options) ([]int, error) {
	r := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	ids := append([]int{}, prompt...)
	var out []int
	for len(out) < opts.MaxTokens {
		logits, err := g.Logits(ids)
		if err != nil {
			return out, err
		}
		next := Pick(logits, opts, r)
		ids = append(ids, next)
		out = append(out, next)
		if next == opts.StopAt {
			break
		}
	}
	return out, nil
}

// Pick chooses the next id from logits [V] under opts.
func Pick(logits []float32, opts Options, r *rand.Rand) int {
	if opts.Temperature <= 0 {
		best := 0
		for i, l := range logits {
			if l > logits[best] {
				best = i
			}
		}
		return best
	}
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	if opts.TopK > 0 && opts.TopK < len(idx) {
		idx = idx[:opts.TopK]
	}
	probs := make([]float64, len(idx))
	maxL := float64(logits[idx[0]])
	var sum float64
	for i, id := range idx {
		probs[i] = math.Exp((float64(logits[id]) - maxL) / opts.Temperature)
		sum += probs[i]
	}
	if opts.TopP > 0 && opts.TopP < 1 {
		var cum float64
		for i := range probs {
			cum += probs[i] / sum
			if cum >= opts.TopP {
				idx, probs = idx[:i+1], probs[:i+1]
				break
			}
		}
		sum = 0
		for _, p := range probs {
			sum += p
		}
	}
	u := r.Float64() * sum
	for i, p := range probs {
		u -= p
		if u <= 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}
