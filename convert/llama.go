package convert

import (
	"fmt"
	"strings"

	"github.com/golem-ml/golem/models/transformer"
)

// llama is Hugging Face's LlamaForCausalLM (and MistralForCausalLM without a sliding
// window): RoPE in the half-split layout golem uses, RMSNorm, SwiGLU, no biases,
// grouped-query attention, nn.Linear weights [out, in] that golem stores transposed.
type llama struct{ name, modelType string }

func init() {
	Register(llama{"LlamaForCausalLM", "llama"})
	Register(llama{"MistralForCausalLM", "mistral"})
}

func (a llama) Name() string { return a.name }

func (a llama) Config(c HFConfig) (transformer.Config, error) {
	r := &reader{c: c}
	cfg := transformer.Config{
		VocabSize: r.int("vocab_size", -1),
		Width:     r.int("hidden_size", -1),
		MLPHidden: r.int("intermediate_size", -1),
		Layers:    r.int("num_hidden_layers", -1),
		Heads:     r.int("num_attention_heads", -1),
		SeqLen:    r.int("max_position_embeddings", 2048),
		NormEps:   r.float("rms_norm_eps", 1e-6),
		RopeTheta: r.float("rope_theta", 10000),
		Positions: transformer.RoPE, Norm: transformer.RMSNorm, MLP: transformer.SwiGLU,
		Tied: r.bool("tie_word_embeddings", false),
	}
	cfg.KVHeads = r.int("num_key_value_heads", cfg.Heads)
	if act := r.string("hidden_act", "silu"); act != "silu" {
		r.fail("hidden_act %q is not supported; golem's SwiGLU uses silu", act)
	}
	if r.bool("attention_bias", false) || r.bool("mlp_bias", false) {
		r.fail("attention_bias/mlp_bias is true; golem's Llama has no biases")
	}
	if c.Has("rope_scaling") {
		r.fail("rope_scaling %v is set; golem's RoPE has no scaling (remove it only if the model was trained without)", c.Raw("rope_scaling"))
	}
	if cfg.Heads > 0 && cfg.Width%cfg.Heads == 0 {
		if hd := r.int("head_dim", cfg.Width/cfg.Heads); hd != cfg.Width/cfg.Heads {
			r.fail("head_dim %d differs from hidden_size/num_attention_heads = %d; golem needs them equal", hd, cfg.Width/cfg.Heads)
		}
	}
	if sw := r.int("sliding_window", 0); sw > 0 && sw < cfg.SeqLen {
		r.fail("sliding_window %d is below max_position_embeddings %d; golem attends to the whole context", sw, cfg.SeqLen)
	}
	if r.err != nil {
		return cfg, r.err
	}
	cfg.Defaults()
	return cfg, cfg.Validate()
}

func (a llama) HFConfig(cfg transformer.Config) (map[string]any, error) {
	switch {
	case cfg.Positions != transformer.RoPE:
		return nil, fmt.Errorf("positions %q: Llama uses rope", cfg.Positions)
	case cfg.Norm != transformer.RMSNorm:
		return nil, fmt.Errorf("norm %q: Llama uses rmsnorm", cfg.Norm)
	case cfg.MLP != transformer.SwiGLU:
		return nil, fmt.Errorf("mlp %q: Llama uses swiglu", cfg.MLP)
	case cfg.Bias:
		return nil, fmt.Errorf("bias true: Llama has no biases")
	}
	return map[string]any{
		"architectures": []string{a.name}, "model_type": a.modelType,
		"vocab_size": cfg.VocabSize, "hidden_size": cfg.Width, "intermediate_size": cfg.MLPHidden,
		"num_hidden_layers": cfg.Layers, "num_attention_heads": cfg.Heads, "num_key_value_heads": cfg.KVHeads,
		"head_dim": cfg.HeadDim(), "max_position_embeddings": cfg.SeqLen, "rms_norm_eps": cfg.NormEps,
		"rope_theta": cfg.RopeTheta, "rope_scaling": nil, "hidden_act": "silu",
		"attention_bias": false, "mlp_bias": false, "attention_dropout": 0.0,
		"initializer_range": cfg.InitStd, "tie_word_embeddings": cfg.Tied, "use_cache": true,
		"torch_dtype": "float32",
	}, nil
}

// Pieces: q, k and v projections fill the q, k and v column blocks of golem's fused wqkv.
func (llama) Pieces(cfg transformer.Config) []Piece {
	C, F, V, D := cfg.Width, cfg.MLPHidden, cfg.VocabSize, cfg.HeadDim()
	H, K := cfg.Heads, cfg.KVHeads
	ps := []Piece{{Src: "model.embed_tokens.weight", Dims: []int{V, C}, Dst: "wte"}} // [V, C]
	for l := 0; l < cfg.Layers; l++ {
		h, g := fmt.Sprintf("model.layers.%d.", l), transformer.LayerPrefix(l)
		ps = append(ps,
			Piece{Src: h + "input_layernorm.weight", Dims: []int{C}, Dst: g + "ln1/gain"},
			Piece{Src: h + "self_attn.q_proj.weight", Dims: []int{H * D, C}, Dst: g + "attn/wqkv", Transpose: true},
			Piece{Src: h + "self_attn.k_proj.weight", Dims: []int{K * D, C}, Dst: g + "attn/wqkv", Col: H * D, Transpose: true},
			Piece{Src: h + "self_attn.v_proj.weight", Dims: []int{K * D, C}, Dst: g + "attn/wqkv", Col: (H + K) * D, Transpose: true},
			Piece{Src: h + "self_attn.o_proj.weight", Dims: []int{C, H * D}, Dst: g + "attn/wo", Transpose: true},
			Piece{Src: h + "post_attention_layernorm.weight", Dims: []int{C}, Dst: g + "ln2/gain"},
			Piece{Src: h + "mlp.gate_proj.weight", Dims: []int{F, C}, Dst: g + "mlp/w_gate", Transpose: true},
			Piece{Src: h + "mlp.up_proj.weight", Dims: []int{F, C}, Dst: g + "mlp/w_up", Transpose: true},
			Piece{Src: h + "mlp.down_proj.weight", Dims: []int{C, F}, Dst: g + "mlp/w_down", Transpose: true},
		)
	}
	ps = append(ps, Piece{Src: "model.norm.weight", Dims: []int{C}, Dst: "ln_f/gain"})
	if !cfg.Tied {
		ps = append(ps, Piece{Src: "lm_head.weight", Dims: []int{V, C}, Dst: "lm_head", Transpose: true})
	}
	return ps
}

// Ignored: rotary inv_freq buffers of older files, and a tied lm_head.weight stored anyway.
func (llama) Ignored(name string) bool {
	return strings.HasSuffix(name, ".rotary_emb.inv_freq") || name == "lm_head.weight"
}

func (llama) Aliases(string) []string { return nil }
