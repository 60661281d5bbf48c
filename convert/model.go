// Package convert brings pretrained weights into golem and takes golem checkpoints out:
// Hugging Face folders (config.json, *.safetensors single or sharded, tokenizer.json) for
// the architectures in the registry (GPT2LMHeadModel, LlamaForCausalLM, ...), and llama2.c
// .bin checkpoints with their tokenizer.bin.
//
// Everything goes through Model: a transformer.Config, its parameters by golem name in
// golem's [in, out] float32 layout, and a tokenizer. Import fills a Model from foreign
// files and Save writes it as a golem checkpoint; Load reads a golem checkpoint back and
// ExportHF / ExportLlama2C write it in a foreign format. Files are untrusted: every shape
// is checked against the config before a byte is copied, and no code is ever executed.
package convert

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/golem-ml/golem/internal/memory"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
)

// Model is a transformer's configuration, parameters and tokenizer in golem's layout.
type Model struct {
	Config transformer.Config
	// Params holds every parameter of Config.ParamShapes by name, row-major in the shape
	// ParamShapes gives ([in, out] for matrices).
	Params    map[string][]float32
	Tokenizer tokenizer.Tokenizer
	// Name is the run name written to config.yaml; Source says where the weights came from.
	Name, Source string

	file  []byte               // model.safetensors bytes that Params alias (nil when Params own their memory)
	slots map[string][]float32 // the aliasing views, to notice a parameter replaced by another slice
}

// modelMetadata is what train writes into model.safetensors for a step-0 checkpoint.
var modelMetadata = map[string]string{"format": "golem", "step": "0"}

// NewModel allocates zeroed parameters for cfg inside one buffer that is, byte for byte,
// the model.safetensors file of a golem checkpoint, so saving copies nothing.
func NewModel(cfg transformer.Config) (*Model, error) {
	if !littleEndian {
		return nil, fmt.Errorf("convert: golem checkpoints are little-endian float32; this host is big-endian")
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := memory.CheckModel(cfg); err != nil {
		return nil, err
	}
	var infos []safetensors.Info
	for _, p := range cfg.ParamShapes() {
		infos = append(infos, safetensors.Info{Name: p.Name, DType: "F32", Shape: p.Dims})
	}
	buf, slots, err := safetensors.Allocate(infos, modelMetadata)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, Params: make(map[string][]float32, len(slots)), file: buf, slots: map[string][]float32{}}
	for name, b := range slots {
		m.Params[name] = floats(b)
		m.slots[name] = m.Params[name]
	}
	return m, nil
}

// ModelFile returns the model.safetensors bytes of m.
func (m *Model) ModelFile() ([]byte, error) {
	if m.file != nil && m.aliased() {
		return m.file, nil
	}
	fresh, err := NewModel(m.Config)
	if err != nil {
		return nil, err
	}
	for name, dst := range fresh.Params {
		src, ok := m.Params[name]
		if !ok || len(src) != len(dst) {
			return nil, fmt.Errorf("parameter %s: have %d values, the config wants %d", name, len(src), len(dst))
		}
		copy(dst, src)
	}
	return fresh.file, nil
}

// aliased says whether every parameter is still the view into m.file NewModel made.
func (m *Model) aliased() bool {
	if len(m.Params) != len(m.slots) {
		return false
	}
	for name, v := range m.Params {
		s := m.slots[name]
		if len(v) != len(s) || (len(v) > 0 && &v[0] != &s[0]) {
			return false
		}
	}
	return true
}

var littleEndian = func() bool {
	var x uint16 = 1
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// floats views little-endian float32 bytes as []float32 without copying when the host is
// little-endian and b is aligned; otherwise it decodes a copy (then writes do not reach b).
func floats(b []byte) []float32 {
	if len(b) == 0 {
		return []float32{}
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// WithSeqLen returns a copy of m whose context is T tokens, for models whose config claims
// a longer context than golem should compile for (golem's graphs are built for the whole
// window). RoPE models only change the config; learned positions keep their first T rows.
func (m *Model) WithSeqLen(T int) (*Model, error) {
	if T <= 0 || T > m.Config.SeqLen {
		return nil, fmt.Errorf("seq_len %d: want 1..%d (the model's context)", T, m.Config.SeqLen)
	}
	cfg := m.Config
	cfg.SeqLen = T
	out, err := NewModel(cfg)
	if err != nil {
		return nil, err
	}
	for name, dst := range out.Params {
		copy(dst, m.Params[name]) // wpe [T, C]: a prefix of the longer table
	}
	out.Tokenizer, out.Name, out.Source = m.Tokenizer, m.Name, m.Source
	return out, nil
}
