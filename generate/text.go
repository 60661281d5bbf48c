package generate

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
)

// Tokenizer is what text generation needs of golem's tokenizers.
type Tokenizer interface {
	Encode(text string) []int
	Decode(ids []int) string
	EOT() int
}

// PromptIDs encodes text the way the model saw text in training: SentencePiece (Llama,
// llama2.c) tokenizers put their BOS id first, as run.c and Hugging Face do. An empty prompt
// without a BOS starts from the end-of-text id.
func PromptIDs(tok Tokenizer, text string) []int {
	ids := tok.Encode(text)
	if b, ok := tok.(interface{ BOS() int }); ok && b.BOS() >= 0 {
		ids = append([]int{b.BOS()}, ids...)
	}
	if len(ids) == 0 && tok.EOT() >= 0 {
		ids = []int{tok.EOT()}
	}
	return ids
}

// StopIDs are the ids that end a generation: end-of-text, and BOS where the tokenizer has one
// (run.c stops there: a BOS starts a new document).
func StopIDs(tok Tokenizer) []int {
	var ids []int
	if tok.EOT() >= 0 {
		ids = append(ids, tok.EOT())
	}
	if b, ok := tok.(interface{ BOS() int }); ok && b.BOS() >= 0 {
		ids = append(ids, b.BOS())
	}
	return ids
}

// WriteSample generates a continuation of prompt and writes the prompt's text and then each
// piece of text as it is produced to w: what is written is exactly tok.Decode(prompt + output).
func (e *Engine) WriteSample(ctx context.Context, prompt []int, p Params, w io.Writer) (Result, error) {
	tok := e.m.Tok
	if tok == nil {
		return Result{}, fmt.Errorf("generate: WriteSample needs the model's tokenizer (Model.Tok)")
	}
	if _, err := e.NewRow(&Request{Prompt: prompt, Params: p}); err != nil {
		return Result{}, err // before anything is written
	}
	if _, err := io.WriteString(w, tok.Decode(prompt)); err != nil {
		return Result{}, err
	}
	var werr error
	req := &Request{Prompt: prompt, Params: p, OnToken: func(t Token) bool {
		_, werr = io.WriteString(w, t.Text)
		return werr == nil
	}}
	res, err := e.Run(ctx, []*Request{req})
	if err != nil {
		return Result{}, err
	}
	return res[0], werr
}

// WriteSliding is WriteSample past the context, with the full-recompute sampler: once the
// sequence is longer than the context, the model sees only its last seq_len tokens (greedy,
// temperature, top-k and top-p only).
func (g *Generator) WriteSliding(tok Tokenizer, prompt []int, opts Options, w io.Writer) error {
	if _, err := io.WriteString(w, tok.Decode(prompt)); err != nil {
		return err
	}
	d := NewDetokenizer(tok, prompt)
	r := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	ids := append([]int{}, prompt...)
	for n := 0; n < opts.MaxTokens; n++ {
		logits, err := g.Logits(ids)
		if err != nil {
			return err
		}
		next := Pick(logits, opts, r)
		if next == opts.StopAt {
			break
		}
		ids = append(ids, next)
		if _, err := io.WriteString(w, d.Add(next)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, d.Flush())
	return err
}
