package transformer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// PositionEncoding is how the model knows token positions (`model.positions`).
type PositionEncoding string

// NormKind is the normalisation before each block and at the end (`model.norm`).
type NormKind string

// MLPKind is the feed-forward block's activation (`model.mlp`).
type MLPKind string

const (
	Learned PositionEncoding = "learned" // a learned table wpe [T, C] added to the embeddings (GPT-2)
	RoPE    PositionEncoding = "rope"    // rotary embeddings on queries and keys (Llama)

	LayerNorm NormKind = "layernorm"
	RMSNorm   NormKind = "rmsnorm"

	GELU     MLPKind = "gelu"      // exact GELU
	GELUTanh MLPKind = "gelu_tanh" // GPT-2's tanh approximation
	SwiGLU   MLPKind = "swiglu"    // gated: Swish(x·w_gate) * (x·w_up)
)

// LayerPrefix is the prefix of block l's parameter names ("h3/" for l = 3): the one place
// the naming scheme is written, for the model, importers, exporters and LoRA.
func LayerPrefix(l int) string { return "h" + strconv.Itoa(l) + "/" }

// Config is the shape of a decoder-only transformer. It is the `model:` section of a run config.
type Config struct {
	VocabSize int `yaml:"vocab_size"` // V; 0 = take it from the tokenizer
	SeqLen    int `yaml:"seq_len"`    // T: context length in tokens
	Layers    int `yaml:"layers"`     // L
	Width     int `yaml:"width"`      // C: residual stream width
	Heads     int `yaml:"heads"`      // H: query heads; head dim D = C/H
	KVHeads   int `yaml:"kv_heads"`   // K: key/value heads (grouped-query attention); 0 = Heads
	MLPHidden int `yaml:"mlp_hidden"` // F: hidden width of the MLP; 0 = 4C (gelu) or 8C/3 rounded up to 64 (swiglu)

	Positions PositionEncoding `yaml:"positions"`  // Learned or RoPE; "" = learned
	RopeTheta float64          `yaml:"rope_theta"` // RoPE base; 0 = 10000
	Norm      NormKind         `yaml:"norm"`       // LayerNorm or RMSNorm; "" = layernorm
	NormEps   float64          `yaml:"norm_eps"`   // 0 = 1e-5
	MLP       MLPKind          `yaml:"mlp"`        // GELU, GELUTanh or SwiGLU; "" = gelu
	Bias      bool             `yaml:"bias"`       // biases in linear layers and LayerNorm
	Tied      bool             `yaml:"tied_embeddings"`
	Dropout   float64          `yaml:"dropout"`  // on attention output, MLP output and embeddings, training only
	InitStd   float64          `yaml:"init_std"` // 0 = 0.02; residual projections get InitStd/sqrt(2L)
}

// Defaults fills the zero-valued derived fields. It is the one place derived values are computed.
func (c *Config) Defaults() {
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.MLPHidden == 0 {
		if c.MLP == SwiGLU {
			c.MLPHidden = (8*c.Width/3 + 63) / 64 * 64
		} else {
			c.MLPHidden = 4 * c.Width
		}
	}
	if c.Positions == "" {
		c.Positions = Learned
	}
	if c.Norm == "" {
		c.Norm = LayerNorm
	}
	if c.MLP == "" {
		c.MLP = GELU
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.NormEps == 0 {
		c.NormEps = 1e-5
	}
	if c.InitStd == 0 {
		c.InitStd = 0.02
	}
}

// Validate reports the first impossible setting, naming its key under `model.`.
func (c *Config) Validate() error {
	switch {
	case c.VocabSize <= 0:
		return fmt.Errorf("model.vocab_size: %d must be positive", c.VocabSize)
	case c.SeqLen <= 0:
		return fmt.Errorf("model.seq_len: %d must be positive", c.SeqLen)
	case c.Layers <= 0:
		return fmt.Errorf("model.layers: %d must be positive", c.Layers)
	case c.Width <= 0:
		return fmt.Errorf("model.width: %d must be positive", c.Width)
	case c.Heads <= 0:
		return fmt.Errorf("model.heads: %d must be positive", c.Heads)
	case c.Width%c.Heads != 0:
		return fmt.Errorf("model.heads: %d does not divide model.width %d; pick heads so width/heads is a whole head size", c.Heads, c.Width)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("model.kv_heads: %d must divide model.heads %d", c.KVHeads, c.Heads)
	case c.Positions != Learned && c.Positions != RoPE:
		return fmt.Errorf("model.positions: %q is not one of learned, rope", c.Positions)
	case c.Positions == RoPE && (c.Width/c.Heads)%2 != 0:
		return fmt.Errorf("model.positions: rope needs an even head size, got width/heads = %d", c.Width/c.Heads)
	case c.Norm != LayerNorm && c.Norm != RMSNorm:
		return fmt.Errorf("model.norm: %q is not one of layernorm, rmsnorm", c.Norm)
	case c.MLP != GELU && c.MLP != GELUTanh && c.MLP != SwiGLU:
		return fmt.Errorf("model.mlp: %q is not one of gelu, gelu_tanh, swiglu", c.MLP)
	case !(c.Dropout >= 0 && c.Dropout < 1): // written so that NaN fails too
		return fmt.Errorf("model.dropout: %g must be in [0, 1)", c.Dropout)
	case !(c.NormEps > 0 && c.NormEps < 1):
		return fmt.Errorf("model.norm_eps: %g must be in (0, 1), e.g. 1e-5", c.NormEps)
	case !(c.InitStd > 0 && c.InitStd < 10):
		return fmt.Errorf("model.init_std: %g must be in (0, 10), e.g. 0.02", c.InitStd)
	case !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0):
		return fmt.Errorf("model.rope_theta: %g must be a positive number, e.g. 10000", c.RopeTheta)
	}
	return nil
}

// HeadDim is D = C/H.
func (c *Config) HeadDim() int { return c.Width / c.Heads }

// ParamShapes lists every parameter of the model by name with its shape, in a fixed order.
// Names are the model's own; importers map Hugging Face and llama2.c names onto them.
func (c *Config) ParamShapes() []ParamShape {
	C, F, V, D := c.Width, c.MLPHidden, c.VocabSize, c.HeadDim()
	qkv := (c.Heads + 2*c.KVHeads) * D
	var ps []ParamShape
	add := func(name string, kind ParamKind, dims ...int) {
		ps = append(ps, ParamShape{Name: name, Dims: dims, Kind: kind})
	}
	norm := func(prefix string) {
		add(prefix+"/gain", KindNorm, C)
		if c.Bias && c.Norm == LayerNorm {
			add(prefix+"/bias", KindBias, C)
		}
	}
	add("wte", KindEmbedding, V, C)
	if c.Positions == Learned {
		add("wpe", KindEmbedding, c.SeqLen, C)
	}
	for l := 0; l < c.Layers; l++ {
		p := LayerPrefix(l)
		norm(p + "ln1")
		add(p+"attn/wqkv", KindWeight, C, qkv)
		if c.Bias {
			add(p+"attn/bqkv", KindBias, qkv)
		}
		add(p+"attn/wo", KindResidual, c.Heads*D, C)
		if c.Bias {
			add(p+"attn/bo", KindBias, C)
		}
		norm(p + "ln2")
		if c.MLP == SwiGLU {
			add(p+"mlp/w_gate", KindWeight, C, F)
		}
		add(p+"mlp/w_up", KindWeight, C, F)
		if c.Bias {
			add(p+"mlp/b_up", KindBias, F)
		}
		add(p+"mlp/w_down", KindResidual, F, C)
		if c.Bias {
			add(p+"mlp/b_down", KindBias, C)
		}
	}
	norm("ln_f")
	if !c.Tied {
		add("lm_head", KindWeight, C, V)
	}
	return ps
}

// ParamKind says how a parameter is initialised and whether weight decay applies to it.
type ParamKind int

const (
	KindWeight    ParamKind = iota // matrices: N(0, InitStd), decayed
	KindResidual                   // projections into the residual stream: N(0, InitStd/sqrt(2L)), decayed
	KindEmbedding                  // token and position tables: N(0, InitStd), not decayed by default
	KindNorm                       // norm gains: ones, never decayed
	KindBias                       // biases: zeros, never decayed
)

// CheckTensors compares a weights file's tensors (name -> shape) with the model's parameters:
// a missing parameter, a shape that differs or a tensor that is not a parameter is an error
// naming file. Every reader of model.safetensors (training's restore, inference's open) checks
// through it.
func (c *Config) CheckTensors(file string, shapes map[string][]int) error {
	params := c.ParamShapes()
	for _, p := range params {
		dims, ok := shapes[p.Name]
		if !ok {
			return fmt.Errorf("%s: missing parameter %s", file, p.Name)
		}
		if !slices.Equal(dims, p.Dims) {
			return fmt.Errorf("%s: %s has shape %v, the model wants %v", file, p.Name, dims, p.Dims)
		}
	}
	if len(shapes) != len(params) {
		for name := range shapes {
			if !slices.ContainsFunc(params, func(p ParamShape) bool { return p.Name == name }) {
				return fmt.Errorf("%s: tensor %q is not a parameter of this model (config mismatch?)", file, name)
			}
		}
	}
	return nil
}

// ParamShape is one named parameter.
type ParamShape struct {
	Name string
	Dims []int
	Kind ParamKind
}

// Size is the number of elements.
func (p ParamShape) Size() int {
	n := 1
	for _, d := range p.Dims {
		n *= d
	}
	return n
}

// NumParams counts the model's parameters (the tied head counted once).
func (c *Config) NumParams() int {
	n := 0
	for _, p := range c.ParamShapes() {
		n += p.Size()
	}
	return n
}

// FlopsPerToken is the training cost of one token (forward + backward), as in the PaLM paper's
// appendix: 6N for the matmuls plus 12·L·C·T for attention scores (N without embeddings).
func (c *Config) FlopsPerToken() float64 {
	n := 0
	for _, p := range c.ParamShapes() {
		if p.Kind != KindEmbedding {
			n += p.Size()
		}
	}
	if c.Tied {
		n += c.VocabSize * c.Width // the head's matmul still runs
	}
	return 6*float64(n) + 12*float64(c.Layers*c.Width*c.SeqLen)
}
