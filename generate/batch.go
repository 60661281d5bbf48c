package generate

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Batch is the rows being decoded together and their key/value cache on the host: per layer
// k[l] [B, K, D, S] (keys transposed: see transformer.Past) and v[l] [B, K, S, D], slot b of
// every layer belonging to rows[b] (nil = free).
// Rows join (Admit) and leave (when done) between steps: that is continuous batching.
type Batch struct {
	e                 *Engine
	rows              []*Row
	k, v              []*tensors.Tensor
	S                 int             // cache slots per row
	tokens, pos, mask *tensors.Tensor // a step's inputs (see reserve)
}

// NewBatch starts an empty batch.
func (e *Engine) NewBatch() *Batch { return &Batch{e: e} }

// Active counts the rows still generating.
func (b *Batch) Active() int {
	n := 0
	for _, r := range b.rows {
		if r != nil {
			n++
		}
	}
	return n
}

// Admit runs the rows' prompts through the model together (prefill), puts their keys and
// values in free cache slots (growing the cache as needed) and picks each row's first token.
func (b *Batch) Admit(rows []*Row) error {
	e := b.e
	var live []*Row
	maxP, needS := 0, b.S
	for _, r := range rows {
		if !r.done {
			live = append(live, r)
			maxP = max(maxP, len(r.ids))
			needS = max(needS, len(r.ids)+r.req.Params.MaxTokens)
		}
	}
	if len(live) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cfg := e.m.Cfg
	P := cacheBucket(maxP, cfg.SeqLen)
	Bp := pow2(len(live))
	tokens, last := make([]int32, Bp*P), make([]int32, Bp)
	for i, r := range live {
		for j, id := range r.ids {
			tokens[i*P+j] = int32(id)
		}
		last[i] = int32(len(r.ids) - 1)
	}
	out, err := e.prefill.Call(tensors.FromFlatDataAndDimensions(tokens, Bp, P), tensors.FromFlatDataAndDimensions(last, Bp))
	if err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	defer finalize(out)
	if err := b.reserve(b.Active()+len(live), needS); err != nil {
		return err
	}
	K, D, S, V := cfg.KVHeads, cfg.HeadDim(), b.S, cfg.VocabSize
	slot := 0
	for i, r := range live {
		for b.rows[slot] != nil {
			slot++
		}
		b.rows[slot] = r
		n := len(r.ids)
		tensors.MustConstFlatData[float32](out[1], func(from []float32) { // [2L, Bp, K, P, D]
			for kl, dst := range append(append([]*tensors.Tensor{}, b.k...), b.v...) {
				tensors.MustMutableFlatData[float32](dst, func(to []float32) {
					for h := 0; h < K; h++ {
						f := (((kl*Bp+i)*K + h) * P) * D
						putKV(to, from[f:f+n*D], kl < cfg.Layers, (slot*K + h), 0, S, D)
					}
				})
			}
		})
		tensors.MustConstFlatData[float32](out[0], func(logits []float32) { r.accept(logits[i*V : (i+1)*V]) })
	}
	b.retire()
	return nil
}

// putKV writes len(src)/D positions of one head's keys or values, src [n, D], into that head's
// cache rows from position p: head is slot*K + h; keys are stored transposed [.., D, S]
// (see transformer.Past), values [.., S, D].
func putKV(to, src []float32, keys bool, head, p, S, D int) {
	n := len(src) / D
	if !keys {
		d := (head*S + p) * D
		copy(to[d:d+n*D], src)
		return
	}
	for i := range n {
		for d := range D {
			to[(head*D+d)*S+p+i] = src[i*D+d]
		}
	}
}

// Step decodes one token for every active row. When every row wants only the argmax token,
// the graph picks it and only the ids come back, not the logits [B, V].
func (b *Batch) Step() error {
	e := b.e
	e.mu.Lock()
	defer e.mu.Unlock()
	cfg := e.m.Cfg
	B, S, K, D, V, L := len(b.rows), b.S, cfg.KVHeads, cfg.HeadDim(), cfg.VocabSize, cfg.Layers
	greedy := true
	tensors.MustMutableFlatData[int32](b.tokens, func(tokens []int32) {
		tensors.MustMutableFlatData[int32](b.pos, func(pos []int32) {
			tensors.MustMutableFlatData[float32](b.mask, func(mask []float32) {
				for i := range mask {
					mask[i] = -1e30
				}
				for slot, r := range b.rows {
					tokens[slot], pos[slot] = 0, 0
					if r == nil {
						continue // a free slot attends only to its own token 0; its output is ignored
					}
					t := len(r.ids) - 1
					tokens[slot], pos[slot] = int32(r.ids[t]), int32(t)
					clear(mask[slot*S : slot*S+t])
					greedy = greedy && r.greedyOnly()
				}
			})
		})
	})
	args := make([]any, 0, 3+2*L)
	args = append(args, b.tokens, b.pos, b.mask)
	for _, t := range b.k {
		args = append(args, t)
	}
	for _, t := range b.v {
		args = append(args, t)
	}
	exec := e.decode[0]
	if greedy {
		exec = e.decode[1]
	}
	out, err := exec.Call(args...)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	defer finalize(out)
	tensors.MustConstFlatData[float32](out[1], func(from []float32) { // [2L, B, K, 1, D] into slot t of each row
		for kl, cache := range append(append([]*tensors.Tensor{}, b.k...), b.v...) {
			tensors.MustMutableFlatData[float32](cache, func(to []float32) {
				for slot, r := range b.rows {
					if r == nil {
						continue
					}
					t := len(r.ids) - 1
					for h := 0; h < K; h++ {
						f := ((kl*B+slot)*K + h) * D
						putKV(to, from[f:f+D], kl < L, (slot*K + h), t, S, D)
					}
				}
			})
		}
	})
	if greedy {
		tensors.MustConstFlatData[int32](out[0], func(ids []int32) {
			for slot, r := range b.rows {
				if r != nil {
					r.take(int(ids[slot]), 0, nil)
				}
			}
		})
	} else {
		tensors.MustConstFlatData[float32](out[0], func(logits []float32) {
			for slot, r := range b.rows {
				if r != nil {
					r.accept(logits[slot*V : (slot+1)*V])
				}
			}
		})
	}
	b.retire()
	return nil
}

// retire frees the slots of finished rows, and the whole cache when none is left.
func (b *Batch) retire() {
	for i, r := range b.rows {
		if r != nil && r.done {
			b.rows[i] = nil
		}
	}
	if b.Active() == 0 {
		b.rows, b.k, b.v, b.S = nil, nil, nil, 0
		b.tokens, b.pos, b.mask = nil, nil, nil
	}
}

// reserve grows the cache to hold at least n rows of at least s slots, copying the occupied rows.
func (b *Batch) reserve(n, s int) error {
	cfg := b.e.m.Cfg
	newB, newS := max(len(b.rows), pow2(n)), max(b.S, cacheBucket(s, cfg.SeqLen))
	if newB == len(b.rows) && newS == b.S {
		return nil
	}
	K, D := cfg.KVHeads, cfg.HeadDim()
	// grow copies the occupied rows: keys [B, K, D, S] are D runs of S slots per head, values
	// [B, K, S, D] one run of S*D.
	grow := func(old []*tensors.Tensor, keys bool) ([]*tensors.Tensor, error) {
		next := make([]*tensors.Tensor, cfg.Layers)
		runs, dims, oldRun, newRun := 1, []int{newB, K, newS, D}, b.S*D, newS*D
		if keys {
			runs, dims, oldRun, newRun = D, []int{newB, K, D, newS}, b.S, newS
		}
		for l := range next {
			t, err := hostTensor(b.e.m.Backend, dtypes.Float32, dims...)
			if err != nil {
				return nil, err
			}
			next[l] = t
			if old == nil {
				continue
			}
			tensors.MustConstFlatData[float32](old[l], func(from []float32) {
				tensors.MustMutableFlatData[float32](t, func(to []float32) {
					for slot, r := range b.rows {
						if r == nil {
							continue
						}
						for run := (slot * K) * runs; run < (slot+1)*K*runs; run++ {
							copy(to[run*newRun:run*newRun+oldRun], from[run*oldRun:(run+1)*oldRun])
						}
					}
				})
			})
			old[l].FinalizeAll()
		}
		return next, nil
	}
	var err error
	if b.k, err = grow(b.k, true); err != nil {
		return err
	}
	if b.v, err = grow(b.v, false); err != nil {
		return err
	}
	// A step's inputs, written in place each step: tokens and positions [B, 1], mask [B, S].
	for _, t := range []*tensors.Tensor{b.tokens, b.pos, b.mask} {
		if t != nil {
			t.FinalizeAll()
		}
	}
	backend := b.e.m.Backend
	if b.tokens, err = hostTensor(backend, dtypes.Int32, newB, 1); err != nil {
		return err
	}
	if b.pos, err = hostTensor(backend, dtypes.Int32, newB, 1); err != nil {
		return err
	}
	if b.mask, err = hostTensor(backend, dtypes.Float32, newB, newS); err != nil {
		return err
	}
	b.rows = append(b.rows, make([]*Row, newB-len(b.rows))...)
	b.S = newS
	return nil
}

func pow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		t.FinalizeAll()
	}
}
