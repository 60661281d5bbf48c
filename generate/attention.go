package generate

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/models/transformer"
)

// Attention runs the model over ids (1 to cfg.SeqLen of them) and returns each layer's
// attention probabilities: probs[l] is [H, n, n] flattened (n = len(ids)), row i holding the
// weights query i gives to keys 0..i (the causal mask makes the rest 0). It compiles a graph
// for this length, so it is for inspection, not for generation.
func Attention(backend compute.Backend, store *model.Store, cfg transformer.Config, weights func(g *Graph) transformer.Weights, ids []int) ([][]float32, error) {
	n := len(ids)
	if n == 0 || n > cfg.SeqLen {
		return nil, fmt.Errorf("attention maps: %d tokens; give 1 to %d (model.seq_len)", n, cfg.SeqLen)
	}
	window := make([]int32, n)
	for i, id := range ids {
		if id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("attention maps: token id %d outside the vocabulary [0, %d)", id, cfg.VocabSize)
		}
		window[i] = int32(id)
	}
	e, err := model.NewExec(backend, store, func(_ *model.Scope, tokens *Node) []*Node {
		m := &transformer.Model{Cfg: cfg, W: weights(tokens.Graph()), KeepAttention: true}
		// The logits are computed too, though unused: the Go backend fails to run a graph
		// with a parameter (here the head's weights) that no output depends on.
		logits := m.Head(m.Hidden(tokens)) // [n, V]
		return append([]*Node{logits}, m.Attention...)
	})
	if err != nil {
		return nil, err
	}
	out, err := e.Call(tensors.FromFlatDataAndDimensions(window, 1, n))
	if err != nil {
		return nil, fmt.Errorf("attention maps: %w", err)
	}
	out = out[1:] // each [1, H, n, n]
	probs := make([][]float32, len(out))
	for l, t := range out {
		probs[l] = tensors.MustCopyFlatData[float32](t)
	}
	return probs, nil
}
