package convert

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/golem-ml/golem/internal/atomicfile"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
)

// llama2.c checkpoints (karpathy/llama2.c) are one flat little-endian file.
//
// Legacy version 0 (what run.c reads): seven int32 dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size (negative = separate classifier), seq_len; then float32
// token_embedding [V, C]; rms_att [L, C]; wq [L, H·D, C]; wk [L, K·D, C]; wv [L, K·D, C];
// wo [L, C, H·D]; rms_ffn [L, C]; w1 [L, F, C]; w2 [L, C, F]; w3 [L, F, C]; rms_final [C];
// freq_cis_real [T, D/2]; freq_cis_imag [T, D/2]; and wcls [V, C] when not shared.
//
// Version 1 (export.py version1_export): uint32 magic "ak42", int32 version 1, the seven
// ints, a uint8 shared_classifier, zero padding to 256 bytes; then rms_att, rms_ffn,
// rms_final, token_embedding, wq, wk, wv, wo, w1, w2, w3 and wcls when not shared.
//
// Weights are torch nn.Linear [out, in]; q and k rows pair RoPE dimensions (2i, 2i+1), which
// golem (like Hugging Face) pairs as (i, i+D/2): the import permutes them per head.
const (
	llama2cMagic   = 0x616b3432
	llama2cV1Head  = 256
	llama2cV0Head  = 28
	llama2cEps     = 1e-5
	llama2cTheta   = 10000.0
	maxLlama2CDims = 1 << 18 // per header field; keeps the size arithmetic far from int64 overflow
)

type llama2cHeader struct {
	Dim, Hidden, Layers, Heads, KVHeads, Vocab, SeqLen int
	Shared                                             bool
	Version                                            int
}

func (h llama2cHeader) config() transformer.Config {
	return transformer.Config{
		VocabSize: h.Vocab, SeqLen: h.SeqLen, Layers: h.Layers, Width: h.Dim, Heads: h.Heads,
		KVHeads: h.KVHeads, MLPHidden: h.Hidden, Positions: transformer.RoPE, RopeTheta: llama2cTheta,
		Norm: transformer.RMSNorm, NormEps: llama2cEps, MLP: transformer.SwiGLU, Tied: h.Shared,
	}
}

// llama2cTensor is one stretch of the flat file.
type llama2cTensor struct {
	name string
	dims []int
}

// llama2cLayout lists the file's tensors in order for header h.
func llama2cLayout(h llama2cHeader) []llama2cTensor {
	C, F, V, L := h.Dim, h.Hidden, h.Vocab, h.Layers
	D := C / h.Heads
	perLayer := func(name string, dims ...int) []llama2cTensor {
		var out []llama2cTensor
		for l := 0; l < L; l++ {
			out = append(out, llama2cTensor{fmt.Sprintf("layers.%d.%s", l, name), dims})
		}
		return out
	}
	var t []llama2cTensor
	add := func(ts ...llama2cTensor) { t = append(t, ts...) }
	emb := llama2cTensor{"tok_embeddings", []int{V, C}}
	matrices := func() {
		add(perLayer("wq", h.Heads*D, C)...)
		add(perLayer("wk", h.KVHeads*D, C)...)
		add(perLayer("wv", h.KVHeads*D, C)...)
		add(perLayer("wo", C, h.Heads*D)...)
	}
	if h.Version == 0 {
		add(emb)
		add(perLayer("attention_norm", C)...)
		matrices()
		add(perLayer("ffn_norm", C)...)
		add(perLayer("w1", F, C)...)
		add(perLayer("w2", C, F)...)
		add(perLayer("w3", F, C)...)
		add(llama2cTensor{"norm", []int{C}}, llama2cTensor{"freq_cis_real", []int{h.SeqLen, D / 2}}, llama2cTensor{"freq_cis_imag", []int{h.SeqLen, D / 2}})
	} else {
		add(perLayer("attention_norm", C)...)
		add(perLayer("ffn_norm", C)...)
		add(llama2cTensor{"norm", []int{C}}, emb)
		matrices()
		add(perLayer("w1", F, C)...)
		add(perLayer("w2", C, F)...)
		add(perLayer("w3", F, C)...)
	}
	if !h.Shared {
		add(llama2cTensor{"output", []int{V, C}})
	}
	return t
}

// ropePerm maps golem's half-split column order to llama2.c's interleaved rows for n heads
// of size D: golem column h·D + p·D/2 + j holds Meta row h·D + 2j + p (p = 0, 1), as in
// Hugging Face's convert_llama_weights_to_hf.py permute().
func ropePerm(n, D int) []int {
	perm := make([]int, n*D)
	for h := 0; h < n; h++ {
		for p := 0; p < 2; p++ {
			for j := 0; j < D/2; j++ {
				perm[h*D+p*D/2+j] = h*D + 2*j + p
			}
		}
	}
	return perm
}

// llama2cPieces maps the file's tensors onto golem parameters.
func llama2cPieces(h llama2cHeader) []Piece {
	C, F, V, D := h.Dim, h.Hidden, h.Vocab, h.Dim/h.Heads
	H, K := h.Heads, h.KVHeads
	ps := []Piece{{Src: "tok_embeddings", Dims: []int{V, C}, Dst: "wte"}}
	for l := 0; l < h.Layers; l++ {
		s, g := fmt.Sprintf("layers.%d.", l), transformer.LayerPrefix(l)
		ps = append(ps,
			Piece{Src: s + "attention_norm", Dims: []int{C}, Dst: g + "ln1/gain"},
			Piece{Src: s + "wq", Dims: []int{H * D, C}, Dst: g + "attn/wqkv", Transpose: true, Perm: ropePerm(H, D)},
			Piece{Src: s + "wk", Dims: []int{K * D, C}, Dst: g + "attn/wqkv", Col: H * D, Transpose: true, Perm: ropePerm(K, D)},
			Piece{Src: s + "wv", Dims: []int{K * D, C}, Dst: g + "attn/wqkv", Col: (H + K) * D, Transpose: true},
			Piece{Src: s + "wo", Dims: []int{C, H * D}, Dst: g + "attn/wo", Transpose: true},
			Piece{Src: s + "ffn_norm", Dims: []int{C}, Dst: g + "ln2/gain"},
			Piece{Src: s + "w1", Dims: []int{F, C}, Dst: g + "mlp/w_gate", Transpose: true},
			Piece{Src: s + "w3", Dims: []int{F, C}, Dst: g + "mlp/w_up", Transpose: true},
			Piece{Src: s + "w2", Dims: []int{C, F}, Dst: g + "mlp/w_down", Transpose: true},
		)
	}
	ps = append(ps, Piece{Src: "norm", Dims: []int{C}, Dst: "ln_f/gain"})
	if !h.Shared {
		ps = append(ps, Piece{Src: "output", Dims: []int{V, C}, Dst: "lm_head", Transpose: true})
	}
	return ps
}

// readLlama2CHeader decodes and checks the header against the file size.
func readLlama2CHeader(b []byte, path string) (llama2cHeader, int, error) {
	var h llama2cHeader
	if len(b) < llama2cV0Head {
		return h, 0, fmt.Errorf("%s: %d bytes, too short for a llama2.c header", path, len(b))
	}
	off := 0
	if binary.LittleEndian.Uint32(b) == llama2cMagic {
		if len(b) < llama2cV1Head {
			return h, 0, fmt.Errorf("%s: truncated version-1 header", path)
		}
		h.Version = int(int32(binary.LittleEndian.Uint32(b[4:])))
		if h.Version != 1 {
			return h, 0, fmt.Errorf("%s: llama2.c format version %d; golem reads version 0 (legacy) and 1 (float32), not int8-quantized version 2", path, h.Version)
		}
		off = 8
	}
	ints := make([]int, 7)
	for i := range ints {
		ints[i] = int(int32(binary.LittleEndian.Uint32(b[off+4*i:])))
	}
	h.Dim, h.Hidden, h.Layers, h.Heads, h.KVHeads, h.Vocab, h.SeqLen = ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6]
	head := llama2cV0Head
	if h.Version == 0 {
		h.Shared = h.Vocab > 0
		if h.Vocab < 0 {
			h.Vocab = -h.Vocab
		}
	} else {
		h.Shared = b[off+28] != 0
		head = llama2cV1Head
	}
	for i, v := range []int{h.Dim, h.Hidden, h.Layers, h.Heads, h.KVHeads, h.Vocab, h.SeqLen} {
		if v <= 0 || v > maxLlama2CDims {
			return h, 0, fmt.Errorf("%s: header field %d (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len) is %d; not a llama2.c checkpoint?", path, i, v)
		}
	}
	if h.Dim%h.Heads != 0 || h.Heads%h.KVHeads != 0 || (h.Dim/h.Heads)%2 != 0 {
		return h, 0, fmt.Errorf("%s: dim %d, n_heads %d, n_kv_heads %d do not make whole, even heads", path, h.Dim, h.Heads, h.KVHeads)
	}
	// Computed before any per-layer work, so a hostile header costs nothing.
	C, F, V, T, L := int64(h.Dim), int64(h.Hidden), int64(h.Vocab), int64(h.SeqLen), int64(h.Layers)
	D, H, K := C/int64(h.Heads), int64(h.Heads), int64(h.KVHeads)
	floats := V*C + C + L*(2*C+2*H*D*C+2*K*D*C+3*F*C)
	if h.Version == 0 {
		floats += T * D // freq_cis_real and freq_cis_imag, [T, D/2] each
	}
	if !h.Shared {
		floats += V * C
	}
	if want := int64(head) + 4*floats; int64(len(b)) != want {
		return h, 0, fmt.Errorf("%s: %d bytes, but header dim=%d hidden=%d layers=%d heads=%d kv_heads=%d vocab=%d seq_len=%d (shared classifier %v, version %d) needs %d; truncated, or not this format",
			path, len(b), h.Dim, h.Hidden, h.Layers, h.Heads, h.KVHeads, h.Vocab, h.SeqLen, h.Shared, h.Version, want)
	}
	return h, head, nil
}

// ImportLlama2C reads a llama2.c checkpoint and its tokenizer (tok: a tokenizer.bin or any
// format tokenizer.LoadAny reads; "" = tokenizer.bin next to the checkpoint).
func ImportLlama2C(path, tok string) (*Model, error) {
	return importLlama2C(path, ImportOptions{Tokenizer: tok})
}

func importLlama2C(path string, opts ImportOptions) (*Model, error) {
	tok := opts.Tokenizer
	data, closeFn, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	h, head, err := readLlama2CHeader(data, path)
	if err != nil {
		return nil, err
	}
	m, err := NewModel(h.config())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src := &source{file: path, tensors: map[string]safetensors.Tensor{}, allowNonfinite: opts.AllowNonfinite}
	off := head
	for _, t := range llama2cLayout(h) {
		n := 4
		for _, d := range t.dims {
			n *= d
		}
		src.tensors[t.name] = safetensors.Tensor{DType: "F32", Shape: t.dims, Data: data[off : off+n]}
		off += n
	}
	ignored := func(name string) bool { return name == "freq_cis_real" || name == "freq_cis_imag" }
	if err := fill(m, llama2cPieces(h), src, ignored, "the header does not match the weights"); err != nil {
		return nil, err
	}
	if tok == "" {
		tok = filepath.Join(filepath.Dir(path), "tokenizer.bin")
	}
	if m.Tokenizer, err = loadTokenizer(tok, m.Config.VocabSize); err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	m.Name, m.Source = base[:len(base)-len(filepath.Ext(base))], path
	return m, nil
}

// ExportLlama2C writes m as a legacy (version 0) llama2.c checkpoint, the format run.c
// reads. The model must be Llama-shaped with run.c's fixed RoPE base 10000 and RMSNorm eps 1e-5.
func ExportLlama2C(m *Model, path string) error {
	c := m.Config
	switch {
	case c.Positions != transformer.RoPE || c.Norm != transformer.RMSNorm || c.MLP != transformer.SwiGLU || c.Bias:
		return fmt.Errorf("llama2.c export needs rope, rmsnorm, swiglu and no biases; this model has %s, %s, %s, bias %v", c.Positions, c.Norm, c.MLP, c.Bias)
	case c.RopeTheta != llama2cTheta:
		return fmt.Errorf("llama2.c export: rope_theta %g, but run.c hard-codes 10000", c.RopeTheta)
	case math.Abs(c.NormEps-llama2cEps) > 1e-12:
		return fmt.Errorf("llama2.c export: norm_eps %g, but run.c hard-codes 1e-5", c.NormEps)
	}
	h := llama2cHeader{Dim: c.Width, Hidden: c.MLPHidden, Layers: c.Layers, Heads: c.Heads, KVHeads: c.KVHeads,
		Vocab: c.VocabSize, SeqLen: c.SeqLen, Shared: c.Tied}
	pieces := map[string]Piece{}
	for _, p := range llama2cPieces(h) {
		pieces[p.Src] = p
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		vocab := h.Vocab
		if !h.Shared {
			vocab = -vocab
		}
		for _, v := range []int{h.Dim, h.Hidden, h.Layers, h.Heads, h.KVHeads, vocab, h.SeqLen} {
			if err := binary.Write(w, binary.LittleEndian, int32(v)); err != nil {
				return err
			}
		}
		cos, sin := freqCis(h)
		var buf []float32
		for _, t := range llama2cLayout(h) {
			var b []byte
			switch t.name {
			case "freq_cis_real":
				b = f32bytes(cos)
			case "freq_cis_imag":
				b = f32bytes(sin)
			default:
				buf = extract(m, pieces[t.name], buf)
				b = leBytes(buf)
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// freqCis are the RoPE tables llama2.c's model.py precomputes in float32 ([T, D/2] each);
// run.c v0 skips them, but they keep the file byte-compatible with export.py's output.
func freqCis(h llama2cHeader) (cos, sin []float32) {
	D := h.Dim / h.Heads
	for t := 0; t < h.SeqLen; t++ {
		for i := 0; i < D/2; i++ {
			freq := float32(1 / math.Pow(llama2cTheta, float64(float32(2*i)/float32(D))))
			a := float64(float32(t) * freq)
			cos, sin = append(cos, float32(math.Cos(a))), append(sin, float32(math.Sin(a)))
		}
	}
	return cos, sin
}
