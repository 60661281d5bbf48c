package train

import (
	"fmt"

	"github.com/golem-ml/golem/internal/memory"
)

// MemoryEstimate is a rough figure, in bytes, of what a training run holds at once. Sizes are
// float64 so that absurd configs (width 10^9) estimate instead of overflowing.
type MemoryEstimate struct {
	Params      float64 // parameter count
	Weights     float64 // float32 weights
	Optimizer   float64 // gradients, two AdamW moments, and accumulators with micro-batches
	Activations float64 // what the backward pass keeps for one micro-batch
	Batch       float64 // one step's tokens and target weights on the host
}

// Total is the sum of every part.
func (e MemoryEstimate) Total() float64 { return e.Weights + e.Optimizer + e.Activations + e.Batch }

// EstimateMemory sizes a run of cfg that optimizes trainable parameters (fewer than the
// model's with LoRA; 0 leaves the optimizer out). vocab_size 0 counts as 257, the byte vocabulary.
func EstimateMemory(cfg Config, trainable float64) MemoryEstimate {
	m := cfg.Model
	if m.VocabSize == 0 {
		m.VocabSize = 257
	}
	m.Defaults()
	p := memory.ParamCount(m)
	// Per token and layer the backward pass keeps about 16 residual-sized tensors (norms, q, k,
	// v, attention output, projections), 4 of the MLP's hidden width and 2 rows of attention
	// scores per head; the head keeps logits and their gradient.
	C, F, H, T, L, V := float64(m.Width), float64(m.MLPHidden), float64(m.Heads), float64(m.SeqLen), float64(m.Layers), float64(m.VocabSize)
	perToken := L*(16*C+4*F+2*H*T) + 3*V
	B, micro := float64(cfg.Train.BatchSize), float64(cfg.MicroBatch())
	opt := 3 * 4 * trainable // gradients and two AdamW moments
	if micro < B {
		opt += 4 * trainable // accumulators
	}
	return MemoryEstimate{Params: p, Weights: 4 * p, Optimizer: opt, Activations: 4 * micro * T * perToken, Batch: B * (T + 1) * 8}
}

// CheckMemory refuses a run whose estimate exceeds the machine's memory, before anything is
// allocated. trainable is the number of optimized parameters (0 before they are known);
// activations says whether the backward pass runs in host memory too (the Go backend); on
// an accelerator only the host-side parts are checked.
func CheckMemory(cfg Config, trainable float64, activations bool) error {
	have := memory.MachineMemory()
	if have <= 0 {
		return nil
	}
	e := EstimateMemory(cfg, trainable)
	need := e.Weights + e.Optimizer + e.Batch
	if activations {
		need += e.Activations
	}
	if need <= float64(have) {
		return nil
	}
	return fmt.Errorf("model (width %d, layers %d, vocab %d, seq_len %d: %.3g parameters) with train.batch_size %d (micro-batch %d) needs about %s (weights %s, gradients and optimizer %s, activations %s, batch %s) but this machine has %s; make model.width, model.layers, model.seq_len or train.batch_size smaller, or set train.micro_batch_size",
		cfg.Model.Width, cfg.Model.Layers, cfg.Model.VocabSize, cfg.Model.SeqLen, e.Params, cfg.Train.BatchSize, cfg.MicroBatch(),
		memory.FormatBytes(need), memory.FormatBytes(e.Weights), counted(e.Optimizer, trainable > 0), counted(e.Activations, activations), memory.FormatBytes(e.Batch), memory.FormatBytes(float64(have)))
}

// counted is a size for CheckMemory's message, or why it was left out.
func counted(b float64, ok bool) string {
	if !ok {
		return "not counted here"
	}
	return memory.FormatBytes(b)
}

// trainableParams counts the parameters the optimizer updates (all of them, or LoRA's).
func (t *Trainer) trainableParams() float64 {
	n := 0.0
	for _, p := range t.Params {
		if v := t.Store.GetVariable(p.Path); v != nil {
			n += float64(v.Shape().Size())
		}
	}
	return n
}
