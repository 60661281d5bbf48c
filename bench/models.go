package bench

import (
	"math/rand/v2"

	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/tokenizer"
)

// LlamaModel is the model of the convert and generation benchmarks: Llama-shaped (vocabulary
// 32000, width 768, 12 heads / 4 key-value heads, MLP 2048, RoPE, RMSNorm, SwiGLU, untied
// head), with as many layers as make about mb MiB of float32 weights (350: 6 layers, 86.9M
// parameters), random weights (normal, std 0.02) and a byte tokenizer.
func LlamaModel(mb int) (*convert.Model, error) {
	c := transformer.Config{VocabSize: 32000, SeqLen: 1024, Width: 768, Heads: 12, KVHeads: 4, MLPHidden: 2048,
		Positions: "rope", Norm: "rmsnorm", MLP: "swiglu", NormEps: 1e-5, Layers: 1}
	c.Defaults()
	perLayer := (c.NumParams() - 2*c.VocabSize*c.Width - c.Width) * 4
	c.Layers = max(1, (mb<<20-2*c.VocabSize*c.Width*4)/perLayer)
	m, err := convert.NewModel(c)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range c.ParamShapes() { // a fixed order: the same weights every run
		w := m.Params[p.Name]
		for i := range w {
			w[i] = float32(r.NormFloat64() * 0.02)
		}
	}
	m.Tokenizer = tokenizer.NewByte()
	return m, nil
}
