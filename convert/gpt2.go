package convert

import (
	"fmt"
	"strings"

	"github.com/golem-ml/golem/models/transformer"
)

// gpt2 is Hugging Face's GPT2LMHeadModel: learned positions, LayerNorm with bias, biased
// Conv1D projections stored [in, out] (golem's own orientation), q|k|v fused in c_attn in
// golem's order, GELU (tanh approximation "gelu_new") MLP, head tied to wte.
type gpt2 struct{}

func init() { Register(gpt2{}) }

func (gpt2) Name() string { return "GPT2LMHeadModel" }

func (gpt2) Config(c HFConfig) (transformer.Config, error) {
	r := &reader{c: c}
	cfg := transformer.Config{
		VocabSize: r.int("vocab_size", -1),
		Width:     r.int("n_embd", -1),
		Heads:     r.int("n_head", -1),
		Layers:    r.int("n_layer", -1),
		SeqLen:    r.int("n_positions", r.int("n_ctx", 1024)),
		MLPHidden: r.int("n_inner", 0),
		NormEps:   r.float("layer_norm_epsilon", 1e-5),
		Positions: transformer.Learned, Norm: transformer.LayerNorm, Bias: true,
		Tied: r.bool("tie_word_embeddings", true),
	}
	switch act := r.string("activation_function", "gelu_new"); act {
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		cfg.MLP = transformer.GELUTanh
	case "gelu":
		cfg.MLP = transformer.GELU
	default:
		r.fail("activation_function %q is not supported; golem has gelu and gelu_new (tanh)", act)
	}
	if r.bool("scale_attn_by_inverse_layer_idx", false) {
		r.fail("scale_attn_by_inverse_layer_idx is true; golem scales attention by 1/sqrt(head size) only")
	}
	if !r.bool("scale_attn_weights", true) {
		r.fail("scale_attn_weights is false; golem always scales attention by 1/sqrt(head size)")
	}
	if r.err != nil {
		return cfg, r.err
	}
	cfg.Defaults()
	return cfg, cfg.Validate()
}

func (gpt2) HFConfig(cfg transformer.Config) (map[string]any, error) {
	switch {
	case cfg.Positions != transformer.Learned:
		return nil, fmt.Errorf("positions %q: GPT-2 has learned positions", cfg.Positions)
	case cfg.Norm != transformer.LayerNorm || !cfg.Bias:
		return nil, fmt.Errorf("norm %q, bias %v: GPT-2 has LayerNorm and biases everywhere", cfg.Norm, cfg.Bias)
	case cfg.MLP != transformer.GELU && cfg.MLP != transformer.GELUTanh:
		return nil, fmt.Errorf("mlp %q: GPT-2 has a GELU MLP", cfg.MLP)
	case cfg.KVHeads != cfg.Heads:
		return nil, fmt.Errorf("kv_heads %d != heads %d: GPT-2 has no grouped-query attention", cfg.KVHeads, cfg.Heads)
	}
	act := "gelu_new"
	if cfg.MLP == transformer.GELU {
		act = "gelu"
	}
	return map[string]any{
		"architectures": []string{"GPT2LMHeadModel"}, "model_type": "gpt2",
		"vocab_size": cfg.VocabSize, "n_positions": cfg.SeqLen, "n_ctx": cfg.SeqLen,
		"n_embd": cfg.Width, "n_layer": cfg.Layers, "n_head": cfg.Heads, "n_inner": cfg.MLPHidden,
		"activation_function": act, "layer_norm_epsilon": cfg.NormEps,
		"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
		"initializer_range": cfg.InitStd, "scale_attn_weights": true, "use_cache": true,
		"tie_word_embeddings": cfg.Tied, "torch_dtype": "float32",
	}, nil
}

// Pieces: HF names as in GPT2LMHeadModel.state_dict() (the "transformer." prefix may be
// absent in files saved from GPT2Model, such as openai-community/gpt2; see Aliases).
func (gpt2) Pieces(cfg transformer.Config) []Piece {
	C, F, V := cfg.Width, cfg.MLPHidden, cfg.VocabSize
	ps := []Piece{
		{Src: "transformer.wte.weight", Dims: []int{V, C}, Dst: "wte"},          // [V, C]
		{Src: "transformer.wpe.weight", Dims: []int{cfg.SeqLen, C}, Dst: "wpe"}, // [T, C]
	}
	for l := 0; l < cfg.Layers; l++ {
		h, g := fmt.Sprintf("transformer.h.%d.", l), transformer.LayerPrefix(l)
		ps = append(ps,
			Piece{Src: h + "ln_1.weight", Dims: []int{C}, Dst: g + "ln1/gain"},
			Piece{Src: h + "ln_1.bias", Dims: []int{C}, Dst: g + "ln1/bias"},
			Piece{Src: h + "attn.c_attn.weight", Dims: []int{C, 3 * C}, Dst: g + "attn/wqkv"}, // Conv1D [in, out]
			Piece{Src: h + "attn.c_attn.bias", Dims: []int{3 * C}, Dst: g + "attn/bqkv"},
			Piece{Src: h + "attn.c_proj.weight", Dims: []int{C, C}, Dst: g + "attn/wo"},
			Piece{Src: h + "attn.c_proj.bias", Dims: []int{C}, Dst: g + "attn/bo"},
			Piece{Src: h + "ln_2.weight", Dims: []int{C}, Dst: g + "ln2/gain"},
			Piece{Src: h + "ln_2.bias", Dims: []int{C}, Dst: g + "ln2/bias"},
			Piece{Src: h + "mlp.c_fc.weight", Dims: []int{C, F}, Dst: g + "mlp/w_up"},
			Piece{Src: h + "mlp.c_fc.bias", Dims: []int{F}, Dst: g + "mlp/b_up"},
			Piece{Src: h + "mlp.c_proj.weight", Dims: []int{F, C}, Dst: g + "mlp/w_down"},
			Piece{Src: h + "mlp.c_proj.bias", Dims: []int{C}, Dst: g + "mlp/b_down"},
		)
	}
	ps = append(ps,
		Piece{Src: "transformer.ln_f.weight", Dims: []int{C}, Dst: "ln_f/gain"},
		Piece{Src: "transformer.ln_f.bias", Dims: []int{C}, Dst: "ln_f/bias"},
	)
	if !cfg.Tied {
		ps = append(ps, Piece{Src: "lm_head.weight", Dims: []int{V, C}, Dst: "lm_head", Transpose: true}) // nn.Linear [V, C]
	}
	return ps
}

// Ignored: the causal-mask buffers attn.bias / attn.masked_bias of older files, and a tied
// lm_head.weight that some writers store next to wte.
func (gpt2) Ignored(name string) bool {
	return strings.HasSuffix(name, ".attn.bias") || strings.HasSuffix(name, ".attn.masked_bias") || name == "lm_head.weight"
}

func (gpt2) Aliases(name string) []string {
	if s, ok := strings.CutPrefix(name, "transformer."); ok {
		return []string{s}
	}
	return nil
}
