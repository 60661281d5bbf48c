package train

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/janpfeifer/must"

	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/tokenizer"
)

// TestClosingSample: the run's closing sample comes from the KV-cache engine, capped to the
// context; greedy, it is the full-recompute sampler's greedy text (the reference the engine is
// tested against), and a prompt that fills the context is skipped with a log line.
func TestClosingSample(t *testing.T) {
	tok := tokenizer.NewByte()
	// Untrained weights, drawn wide (init_std 0.3) so that the greedy text is not one repeated
	// byte: noise, but a model's noise, and fast.
	cfg := tinyConfig(t, "model.init_std=0.3")
	cfg.Model.VocabSize = tok.VocabSize()
	cfg.Sample = SampleConfig{Prompt: "ROMEO:", Tokens: 100, Temperature: 0}
	tr := must.M1(New(cfg, backend(t)))
	var log bytes.Buffer
	got := must.M1(closingSample(context.Background(), tr, tok, "CKPT", &log))
	room := cfg.Model.SeqLen - len("ROMEO:")
	if want := "sample.tokens 100 capped to 58"; !strings.Contains(log.String(), want) {
		t.Errorf("log %q lacks %q", log.String(), want)
	}

	g := must.M1(generate.New(tr.Backend, tr.Store, cfg.Model, tr.InferenceWeights))
	var want strings.Builder
	must.M(g.WriteSliding(tok, tok.Encode("ROMEO:"), generate.Options{MaxTokens: room, StopAt: tok.EOT()}, &want))
	if got != want.String() {
		t.Errorf("greedy closing sample %q, full recompute %q", got, want.String())
	}
	if len(got) != len("ROMEO:")+room { // a byte per token
		t.Errorf("closing sample of %d bytes, want the prompt and the %d tokens that fit the context", len(got), room)
	}

	log.Reset()
	tr.Cfg.Sample.Prompt = strings.Repeat("x", cfg.Model.SeqLen)
	if got := must.M1(closingSample(context.Background(), tr, tok, "CKPT", &log)); got != "" {
		t.Errorf("a prompt that fills the context gave the sample %q", got)
	}
	if !strings.Contains(log.String(), "sample: skipped: sample.prompt is 64 tokens") {
		t.Errorf("log %q does not say the sample was skipped", log.String())
	}
}
