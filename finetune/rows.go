package finetune

import (
	"fmt"
	"math/rand/v2"

	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// Tokens is a tokenized example: ids and, per id, whether the loss counts it as a target.
type Tokens struct {
	Where   string
	Example int // index of the example in its Dataset
	IDs     []int32
	Train   []bool
}

// Tokenize encodes an example segment by segment (so masks align with segment boundaries),
// appending the end-of-text id as a trained target when the tokenizer has one: the model
// learns to stop. trainAll marks every id as a target.
func Tokenize(ex *Example, tok tokenizer.Tokenizer, trainAll bool) Tokens {
	t := Tokens{Where: ex.Where}
	for _, s := range ex.Segments {
		for _, id := range s.Encode(tok) {
			t.IDs = append(t.IDs, int32(id))
			t.Train = append(t.Train, s.Train || trainAll)
		}
	}
	if eot := tok.EOT(); eot >= 0 {
		t.IDs = append(t.IDs, int32(eot))
		t.Train = append(t.Train, true)
	}
	return t
}

// Targets counts the ids trained as targets (the first id is never a target: nothing predicts it).
func (t *Tokens) Targets() int {
	n := 0
	for i := 1; i < len(t.Train); i++ {
		if t.Train[i] {
			n++
		}
	}
	return n
}

// Encode tokenizes the examples for rows of T+1 tokens, applying the overflow policy; examples
// that end up with no target are dropped (and removed from ds.Examples). Every adjustment is
// added to ds.Problems. A split example yields several Tokens with the same Example index.
func Encode(ds *Dataset, tok tokenizer.Tokenizer, T int, dc DataConfig) []Tokens {
	var out []Tokens
	kept := ds.Examples[:0]
	for i := range ds.Examples {
		ex := &ds.Examples[i]
		t := Tokenize(ex, tok, dc.TrainOnAll)
		t.Example = len(kept)
		if len(t.IDs) > T+1 && dc.Overflow == "split" {
			// Chunks overlap by one id, so every target is predicted in exactly one row.
			var parts []Tokens
			for start := 0; start+1 < len(t.IDs); start += T {
				end := min(start+T+1, len(t.IDs))
				p := Tokens{Where: t.Where, Example: t.Example, IDs: t.IDs[start:end], Train: t.Train[start:end]}
				if p.Targets() > 0 {
					parts = append(parts, p)
				}
			}
			ds.Problems = append(ds.Problems, Problem{ex.Where, fmt.Sprintf("example is %d tokens, split into %d rows of up to %d (data.overflow = split)", len(t.IDs), len(parts), T+1), false})
			if len(parts) > 0 {
				out = append(out, parts...)
				kept = append(kept, *ex)
			}
			continue
		}
		if len(t.IDs) > T+1 {
			if dc.Overflow == "drop" {
				ds.Problems = append(ds.Problems, Problem{ex.Where, fmt.Sprintf("example is %d tokens, over the %d of a row (seq_len+1); dropped (data.overflow = drop)", len(t.IDs), T+1), true})
				continue
			}
			n := len(t.IDs)
			t.IDs, t.Train = t.IDs[:T+1], t.Train[:T+1]
			if t.Targets() == 0 {
				ds.Problems = append(ds.Problems, Problem{ex.Where, fmt.Sprintf("example is %d tokens and its prompt alone fills the %d of a row: no completion token left after truncation; dropped", n, T+1), true})
				continue
			}
			ds.Problems = append(ds.Problems, Problem{ex.Where, fmt.Sprintf("example is %d tokens, truncated to %d (data.overflow = truncate)", n, T+1), false})
		}
		if t.Targets() == 0 {
			ds.Problems = append(ds.Problems, Problem{ex.Where, "no trained tokens after tokenization: nothing to train on", true})
			continue
		}
		out = append(out, t)
		kept = append(kept, *ex)
	}
	ds.Examples = kept
	return out
}

// Rows lays tokenized examples out in rows of T+1 ids with T target weights: one example per
// row padded (pad ids are the end-of-text id or 0, weight 0), or, with pack, as many whole
// examples per row as fit, in order. Target j of a row (predicting id j+1) has weight 1 when
// id j+1 is trained and belongs to the same example as id j.
func Rows(exs []Tokens, T int, pack bool, pad int32) (tokens [][]int32, weights [][]float32) {
	newRow := func() {
		r := make([]int32, T+1)
		for i := range r {
			r[i] = pad
		}
		tokens = append(tokens, r)
		weights = append(weights, make([]float32, T))
	}
	used := T + 1 // forces a new row first
	for _, e := range exs {
		if !pack || used+len(e.IDs) > T+1 {
			newRow()
			used = 0
		}
		r, w := tokens[len(tokens)-1], weights[len(weights)-1]
		copy(r[used:], e.IDs)
		for j := 1; j < len(e.IDs); j++ {
			if e.Train[j] {
				w[used+j-1] = 1
			}
		}
		used += len(e.IDs)
	}
	return tokens, weights
}

// Source serves fine-tuning rows to train.Loop: each epoch is a seeded permutation of the rows,
// and a step's batch is a pure function of (seed, step), so resume is exact.
type Source struct {
	Tokens  [][]int32
	Weights [][]float32
	Batch   int
	Seed    uint64
	Val     []train.Batch

	epoch int64
	perm  []int
}

// NewSource makes the source for training rows and validation rows (validation rows are
// grouped into batches of the same size; the last is padded with weight-0 rows, so one
// compiled evaluation graph serves all; at most maxEval batches).
func NewSource(tokens [][]int32, weights [][]float32, valTokens [][]int32, valWeights [][]float32, batch int, seed uint64, maxEval int, pad int32) *Source {
	s := &Source{Tokens: tokens, Weights: weights, Batch: batch, Seed: seed, epoch: -1}
	if len(valTokens) == 0 {
		return s
	}
	T := len(valWeights[0])
	for i := 0; i < len(valTokens) && len(s.Val) < maxEval; i += batch {
		b := train.Batch{Tokens: make([]int32, 0, batch*(T+1)), Weights: make([]float32, 0, batch*T)}
		for j := i; j < i+batch; j++ {
			if j < len(valTokens) {
				b.Tokens = append(b.Tokens, valTokens[j]...)
				b.Weights = append(b.Weights, valWeights[j]...)
			} else {
				for k := 0; k <= T; k++ {
					b.Tokens = append(b.Tokens, pad)
				}
				b.Weights = append(b.Weights, make([]float32, T)...)
			}
		}
		s.Val = append(s.Val, b)
	}
	return s
}

// Train is the batch of a step.
func (s *Source) Train(step int64) train.Batch {
	N := int64(len(s.Tokens))
	T := len(s.Weights[0])
	b := train.Batch{Tokens: make([]int32, 0, s.Batch*(T+1)), Weights: make([]float32, 0, s.Batch*T)}
	for j := int64(0); j < int64(s.Batch); j++ {
		i := step*int64(s.Batch) + j
		if e := i / N; e != s.epoch {
			s.epoch, s.perm = e, rand.New(rand.NewPCG(s.Seed, uint64(e))).Perm(int(N))
		}
		r := s.perm[i%N]
		b.Tokens = append(b.Tokens, s.Tokens[r]...)
		b.Weights = append(b.Weights, s.Weights[r]...)
	}
	return b
}

// Eval is the validation set.
func (s *Source) Eval() []train.Batch { return s.Val }
