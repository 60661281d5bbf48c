package inference_test

import (
	"strings"
	"testing"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/internal/testmodel"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/tokenizer"
)

// eotAfterAnyByte saves a byte-level model built by hand to answer every byte with end-of-text
// and end-of-text with "a": attention and MLP add nothing (zero output projections, no
// positions), so the head sees the last token's embedding, and the untied head maps byte
// embeddings (pattern b) to id 256 and end-of-text's (pattern a, orthogonal to b) to 'a'.
func eotAfterAnyByte(t *testing.T) string {
	const C, eot = 16, 256
	m, err := convert.NewModel(transformer.Config{VocabSize: 257, SeqLen: 16, Layers: 1, Width: C, Heads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var a, b [C]float32 // zero mean, unit variance: layer norm leaves them as they are
	for i := range C {
		a[i], b[i] = float32(1-2*(i%2)), float32(1-2*(i/2%2))
	}
	for _, p := range m.Config.ParamShapes() {
		w := m.Params[p.Name]
		switch {
		case strings.HasSuffix(p.Name, "/gain"):
			for i := range w {
				w[i] = 1
			}
		case p.Name == "wte": // [V, C]
			for id := range 257 {
				e := b
				if id == eot {
					e = a
				}
				copy(w[id*C:], e[:])
			}
		case p.Name == "lm_head": // [C, V]
			for i := range C {
				w[i*257+eot], w[i*257+'a'] = b[i], a[i]
			}
		default:
			clear(w)
		}
	}
	m.Tokenizer = tokenizer.NewByte()
	dir := t.TempDir()
	if _, err := convert.Save(m, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Model.Generate runs the KV-cache engine: greedy, it is the full-recompute sampler's text; it
// stops at end-of-text unless told other stop ids; past the context it is a clear error.
func TestModelGenerate(t *testing.T) {
	backend := must(backends.New("go"))
	m := must(inference.Open(backend, testmodel.Checkpoint(t), "")) // aidreams260K: 128-token context
	got := must(m.Generate("Once upon a time", generate.Params{MaxTokens: 40}))
	g := must(generate.New(m.Backend, m.Store, m.Cfg, m.Weights))
	prompt := m.Tok.Encode("Once upon a time")
	var want strings.Builder
	if err := g.WriteSliding(m.Tok, prompt, generate.Options{MaxTokens: 40, StopAt: m.Tok.EOT()}, &want); err != nil {
		t.Fatal(err)
	}
	if w := strings.TrimPrefix(want.String(), m.Tok.Decode(prompt)); got != w {
		t.Errorf("greedy %q, full recompute %q", got, w)
	}
	if _, err := m.Generate("Once upon a time", generate.Params{MaxTokens: 125}); err == nil || !strings.Contains(err.Error(), "exceeds the model's context of 128 tokens") {
		t.Errorf("%d + 125 tokens in a 128-token context: %v", len(prompt), err)
	}

	m = must(inference.Open(backend, eotAfterAnyByte(t), ""))
	if got := must(m.Generate("x", generate.Params{MaxTokens: 6})); got != "" {
		t.Errorf("with the default stop ids: %q, want \"\" (end-of-text first)", got)
	}
	// Stopping at another id, the model goes on: end-of-text (no text), "a", end-of-text, ...
	if got := must(m.Generate("x", generate.Params{MaxTokens: 6, StopIDs: []int{'z'}})); got != "aaa" {
		t.Errorf("stopping only at 'z': %q, want \"aaa\"", got)
	}
}
