package train

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/golem-ml/golem/models/transformer"
)

// PeakRSS is the process's peak resident set size in bytes (VmHWM in /proc/self/status;
// 0 where /proc is not available).
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// MachineMemory is the memory this process may use, in bytes: the smaller of MemTotal in
// /proc/meminfo and the cgroup limit (memory.max); 0 when neither can be read.
func MachineMemory() int64 {
	var total int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				total = kb * 1024
			}
		}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if lim, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && lim > 0 && (total == 0 || lim < total) {
			total = lim
		}
	}
	return total
}

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
	p := ParamCount(m)
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

// ParamCount is cfg.NumParams in closed form and float64: it never builds the per-layer
// parameter list, so a hostile layer count or width costs nothing.
func ParamCount(c transformer.Config) float64 {
	C, F, V, T, L := float64(c.Width), float64(c.MLPHidden), float64(c.VocabSize), float64(c.SeqLen), float64(c.Layers)
	D := 0.0
	if c.Heads > 0 {
		D = float64(c.Width / c.Heads)
	}
	qkv := float64(c.Heads+2*c.KVHeads) * D
	norm := C
	if c.Bias && c.Norm == transformer.LayerNorm {
		norm = 2 * C
	}
	layer := 2*norm + C*qkv + float64(c.Heads)*D*C + 2*C*F
	if c.MLP == transformer.SwiGLU {
		layer += C * F
	}
	if c.Bias {
		layer += qkv + C + F + C
	}
	n := V*C + L*layer + norm
	if c.Positions == transformer.Learned {
		n += T * C
	}
	if !c.Tied {
		n += C * V
	}
	return n
}

// CheckMemory refuses a run whose estimate exceeds the machine's memory, before anything is
// allocated. trainable is the number of optimized parameters (0 before they are known);
// activations says whether the backward pass runs in host memory too (the Go backend); on
// an accelerator only the host-side parts are checked.
func CheckMemory(cfg Config, trainable float64, activations bool) error {
	have := MachineMemory()
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
		FormatBytes(need), FormatBytes(e.Weights), counted(e.Optimizer, trainable > 0), counted(e.Activations, activations), FormatBytes(e.Batch), FormatBytes(float64(have)))
}

// counted is a size for CheckMemory's message, or why it was left out.
func counted(b float64, ok bool) string {
	if !ok {
		return "not counted here"
	}
	return FormatBytes(b)
}

// FormatBytes writes a size in binary units: "23.4 GiB".
func FormatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == len(units)-1 && b >= 1024 {
		return fmt.Sprintf("%.3g EiB", b)
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

// CheckModelMemory refuses to allocate m's float32 weights (importing, converting) when they
// alone exceed the machine's memory.
func CheckModelMemory(m transformer.Config) error {
	have, need := MachineMemory(), 4*ParamCount(m)
	if have <= 0 || need <= float64(have) {
		return nil
	}
	return fmt.Errorf("model (width %d, layers %d, vocab %d, mlp_hidden %d: %.3g parameters) needs %s for its float32 weights but this machine has %s",
		m.Width, m.Layers, m.VocabSize, m.MLPHidden, ParamCount(m), FormatBytes(need), FormatBytes(float64(have)))
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
