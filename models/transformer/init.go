package transformer

import (
	"math"
	"math/rand/v2"
)

// Init draws a fresh set of parameters (GPT-2 initialisation): matrices and embeddings from
// N(0, InitStd), projections into the residual stream from N(0, InitStd/sqrt(2L)), norm gains
// at one and biases at zero. The draw is a pure function of seed, so it is identical on every
// machine and backend. Returns flat float32 data by parameter name.
func Init(c *Config, seed uint64) map[string][]float32 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make(map[string][]float32)
	for _, p := range c.ParamShapes() {
		v := make([]float32, p.Size())
		switch p.Kind {
		case KindNorm:
			for i := range v {
				v[i] = 1
			}
		case KindBias:
		default:
			std := c.InitStd
			if p.Kind == KindResidual {
				std /= math.Sqrt(2 * float64(c.Layers))
			}
			for i := range v {
				v[i] = float32(r.NormFloat64() * std)
			}
		}
		out[p.Name] = v
	}
	return out
}
