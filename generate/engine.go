package generate

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/models/transformer"
)

// Model is what the engine runs: a backend, the store holding the weights, the model's shape,
// its weights function (plain, or with a LoRA adapter on top) and, for stop strings and text,
// its tokenizer. inference.Open gives all of them (Model.Generation).
type Model struct {
	Backend compute.Backend
	Store   *model.Store
	Cfg     transformer.Config
	Weights func(g *Graph) transformer.Weights
	Tok     Decoder // may be nil: then Result.Text is empty and Stop strings are refused
}

// Engine generates with a key/value cache: each prompt runs through the model once (prefill),
// then every step runs only the newest token of each row against the cached keys and values
// (decode). Rows of a batch keep their own positions, so prompts of different lengths share a
// batch without padding inside the cache, and a row's result does not depend on its neighbours.
//
// Safe for concurrent use: calls are serialised (Scheduler batches concurrent requests).
type Engine struct {
	m              Model
	prefill, score *model.Exec
	decode         [2]*model.Exec // [0] returns logits, [1] greedy ids
	mu             sync.Mutex
}

// NewEngine compiles nothing yet: graphs are built on first use, one per batch and cache size bucket.
func NewEngine(m Model) (*Engine, error) {
	cfg := m.Cfg
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	e := &Engine{m: m}
	var err error
	// prefill: tokens [B, P] (right-padded), last [B] (each row's last real column)
	//   -> logits [B, V] at last, keys then values [2L, B, K, P, D].
	e.prefill, err = model.NewExec(m.Backend, m.Store, func(_ *model.Scope, tokens, last *Node) []*Node {
		B, P := tokens.Shape().Dim(0), tokens.Shape().Dim(1)
		tm := &transformer.Model{Cfg: cfg, W: m.Weights(tokens.Graph())}
		pos := BroadcastToDims(Iota(tokens.Graph(), shapes.Make(dtypes.Int32, 1, P), 1), B, P)
		h, ks, vs := tm.Incremental(tokens, pos, nil)                                        // h [B*P, C]
		rows := MulScalar(Iota(tokens.Graph(), shapes.Make(dtypes.Int32, B), 0), float64(P)) // row starts in h
		hLast := Gather(h, ExpandAxes(Add(rows, last), -1))                                  // [B, C]
		return []*Node{tm.Head(hLast), stackF32(append(ks, vs...))}
	})
	if err != nil {
		return nil, err
	}
	// decode: tokens [B, 1], pos [B, 1], mask [B, S], then K_l, V_l [B, K, S, D] for each layer
	//   -> logits [B, V] (or, for greedy rows, their argmax ids [B] int32: only ids come back),
	//   the new keys then values [2L, B, K, 1, D].
	for i, greedy := range []bool{false, true} {
		e.decode[i], err = model.NewExec(m.Backend, m.Store, func(_ *model.Scope, in []*Node) []*Node {
			L := cfg.Layers
			tm := &transformer.Model{Cfg: cfg, W: m.Weights(in[0].Graph())}
			past := &transformer.Past{Mask: in[2], K: in[3 : 3+L], V: in[3+L : 3+2*L]}
			h, ks, vs := tm.Incremental(in[0], in[1], past)
			out := tm.Head(h)
			if greedy {
				out = ConvertDType(ArgMax(out, -1), dtypes.Int32)
			}
			return []*Node{out, stackF32(append(ks, vs...))}
		})
		if err != nil {
			return nil, err
		}
		e.decode[i].SetMaxCache(64)
	}
	// score: tokens [B, P] -> logits [B, P, V], the training forward pass (finetune's scorer's).
	e.score, err = model.NewExec(m.Backend, m.Store, func(_ *model.Scope, tokens *Node) *Node {
		tm := &transformer.Model{Cfg: cfg, W: m.Weights(tokens.Graph())}
		return tm.Logits(tokens)
	})
	if err != nil {
		return nil, err
	}
	e.score.SetMaxCache(16)
	e.prefill.SetMaxCache(64)
	return e, nil
}

// Config is the model's shape.
func (e *Engine) Config() transformer.Config { return e.m.Cfg }

func stackF32(xs []*Node) *Node {
	for i := range xs {
		xs[i] = ConvertDType(xs[i], dtypes.Float32)
	}
	return Stack(xs, 0)
}

// Score returns the log-probability of each prompt id after the ones before it (the first id
// has none: lps[0] is 0) and, with nTop > 0, the nTop most likely ids at each position: how
// OpenAI's echo + logprobs + max_tokens 0 scores a text (lm-evaluation-harness does this).
func (e *Engine) Score(prompt []int, nTop int) (lps []float64, top [][]TokenLogProb, err error) {
	cfg := e.m.Cfg
	if len(prompt) > cfg.SeqLen {
		return nil, nil, fmt.Errorf("prompt of %d tokens exceeds the model's context of %d tokens (model.seq_len)", len(prompt), cfg.SeqLen)
	}
	P := cacheBucket(len(prompt), cfg.SeqLen)
	tokens := make([]int32, P)
	for i, id := range prompt {
		if id < 0 || id >= cfg.VocabSize {
			return nil, nil, fmt.Errorf("prompt token %d: id %d outside the vocabulary [0, %d)", i, id, cfg.VocabSize)
		}
		tokens[i] = int32(id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out, err := e.score.Call(tensors.FromFlatDataAndDimensions(tokens, 1, P))
	if err != nil {
		return nil, nil, fmt.Errorf("scoring: %w", err)
	}
	defer finalize(out)
	V := cfg.VocabSize
	lps = make([]float64, len(prompt))
	top = make([][]TokenLogProb, len(prompt))
	tensors.MustConstFlatData[float32](out[0], func(logits []float32) {
		for i := 1; i < len(prompt); i++ {
			row := logits[(i-1)*V : i*V]
			lse := logSumExp(row)
			lps[i] = float64(row[prompt[i]]) - lse
			if nTop > 0 {
				top[i] = topN(row, nTop, lse)
			}
		}
	})
	return lps, top, nil
}

// Token is one generated token, as a stream sees it.
type Token struct {
	ID      int
	Text    string // the text this token completes (may be "", or several characters)
	LogProb float64
	Top     []TokenLogProb
}

// Result is one prompt's generation.
type Result struct {
	IDs      []int // generated ids, without the stop id
	Text     string
	LogProbs []float64        // with Params.LogProbs or TopLogProbs
	Top      [][]TokenLogProb // with Params.TopLogProbs
	Finish   string           // "stop" (stop id or string) or "length" (max tokens)
	Prompt   int              // prompt tokens
}

// Request is one prompt for a batch: its params and, for streaming, a callback that receives
// each token as it is produced (return false to cancel the request).
type Request struct {
	Prompt  []int
	Params  Params
	Stream  uint64 // RNG stream: choice i of a request with n > 1 uses i
	OnToken func(Token) bool
}

// Generate runs prompts in one batch with the same params; row i draws from RNG stream i.
func (e *Engine) Generate(ctx context.Context, prompts [][]int, p Params) ([]Result, error) {
	reqs := make([]*Request, len(prompts))
	for i, pr := range prompts {
		reqs[i] = &Request{Prompt: pr, Params: p, Stream: uint64(i)}
	}
	return e.Run(ctx, reqs)
}

// Run generates every request in one batch and returns their results in order.
func (e *Engine) Run(ctx context.Context, reqs []*Request) ([]Result, error) {
	b := &Batch{e: e}
	rows := make([]*Row, len(reqs))
	for i, r := range reqs {
		row, err := e.NewRow(r)
		if err != nil {
			return nil, fmt.Errorf("prompt %d: %w", i, err)
		}
		rows[i] = row
	}
	if err := b.Admit(rows); err != nil {
		return nil, err
	}
	for b.Active() > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := b.Step(); err != nil {
			return nil, err
		}
	}
	out := make([]Result, len(rows))
	for i, r := range rows {
		out[i] = r.Result
	}
	return out, nil
}

// Row is one sequence being generated.
type Row struct {
	Result
	req     *Request
	ids     []int // prompt + generated
	s       *sampler
	detok   *Detokenizer
	held    string // text held back while it could be the start of a stop string
	done    bool
	maxStop int
}

// NewRow checks a request against the model (ids in the vocabulary, prompt + max tokens within
// the context) and prepares its sampler.
func (e *Engine) NewRow(r *Request) (*Row, error) {
	cfg := e.m.Cfg
	if err := r.Params.Validate(); err != nil {
		return nil, err
	}
	if len(r.Prompt) == 0 {
		return nil, fmt.Errorf("empty prompt; give at least one token (e.g. a BOS or end-of-text id)")
	}
	for i, id := range r.Prompt {
		if id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("prompt token %d: id %d outside the vocabulary [0, %d)", i, id, cfg.VocabSize)
		}
	}
	if n := len(r.Prompt) + r.Params.MaxTokens; n > cfg.SeqLen {
		return nil, fmt.Errorf("prompt of %d tokens + max_tokens %d = %d exceeds the model's context of %d tokens (model.seq_len); shorten the prompt or lower max_tokens",
			len(r.Prompt), r.Params.MaxTokens, n, cfg.SeqLen)
	}
	if len(r.Params.Stop) > 0 && e.m.Tok == nil {
		return nil, fmt.Errorf("stop strings need a tokenizer; give stop ids instead")
	}
	row := &Row{req: r, ids: append([]int{}, r.Prompt...), s: newSampler(r.Params, r.Prompt, r.Stream)}
	row.Prompt = len(r.Prompt)
	if e.m.Tok != nil {
		row.detok = NewDetokenizer(e.m.Tok, r.Prompt)
	}
	for _, s := range r.Params.Stop {
		row.maxStop = max(row.maxStop, len(s))
	}
	if r.Params.MaxTokens == 0 {
		row.finish("length")
	}
	return row, nil
}

// Done reports whether the row has finished.
func (r *Row) Done() bool { return r.done }

// greedyOnly reports whether the row's next token is the argmax of the logits and nothing else
// about them is wanted (no penalties, no log-probabilities): then the graph can pick it.
func (r *Row) greedyOnly() bool {
	p := &r.req.Params
	return p.Temperature <= 0 && r.s.counts == nil && r.s.seen == nil && !p.LogProbs && p.TopLogProbs == 0
}

// accept takes the next token chosen from logits [V]; it finishes the row on a stop id, a stop
// string, max tokens, or when the stream callback cancels.
func (r *Row) accept(logits []float32) {
	id, lp, top := r.s.pick(logits)
	r.take(id, lp, top)
}

// take appends the chosen id (see accept).
func (r *Row) take(id int, lp float64, top []TokenLogProb) {
	p := &r.req.Params
	for _, s := range p.StopIDs {
		if id == s {
			r.finish("stop")
			return
		}
	}
	r.ids = append(r.ids, id)
	r.IDs = append(r.IDs, id)
	if p.LogProbs || p.TopLogProbs > 0 {
		r.LogProbs = append(r.LogProbs, lp)
	}
	if p.TopLogProbs > 0 {
		r.Top = append(r.Top, top)
	}
	tok := Token{ID: id, LogProb: lp, Top: top}
	stopped := false
	if r.detok != nil {
		text := r.held + r.detok.Add(id)
		if len(r.IDs) == p.MaxTokens {
			text += r.detok.Flush()
		}
		if cut := firstStop(text, p.Stop); cut >= 0 {
			text, stopped = text[:cut], true
		}
		r.held = ""
		if !stopped && r.maxStop > 0 && len(r.IDs) < p.MaxTokens { // hold back a possible stop's start
			keep := partialStop(text, p.Stop)
			text, r.held = text[:len(text)-keep], text[len(text)-keep:]
		}
		tok.Text = text
		r.Text += text
	}
	if r.req.OnToken != nil && !r.req.OnToken(tok) {
		r.finish("cancelled")
		return
	}
	switch {
	case stopped:
		r.finish("stop")
	case len(r.IDs) >= p.MaxTokens:
		r.finish("length")
	}
}

func (r *Row) finish(reason string) {
	if r.done {
		return
	}
	r.done, r.Finish = true, reason
	if r.held != "" {
		r.Text += r.held
		if r.req.OnToken != nil {
			r.req.OnToken(Token{ID: -1, Text: r.held})
		}
		r.held = ""
	}
}

// firstStop is the index of the earliest stop string in text, or -1.
func firstStop(text string, stops []string) int {
	cut := -1
	for _, s := range stops {
		if i := strings.Index(text, s); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	return cut
}

// partialStop is the length of the longest suffix of text that begins some stop string.
func partialStop(text string, stops []string) int {
	keep := 0
	for _, s := range stops {
		for n := min(len(s)-1, len(text)); n > keep; n-- {
			if strings.HasSuffix(text, s[:n]) {
				keep = n
				break
			}
		}
	}
	return keep
}

// cacheBucket rounds n up to a power of two (at least 16), at most limit.
func cacheBucket(n, limit int) int {
	b := 16
	for b < n {
		b *= 2
	}
	return min(b, limit)
}

// hostTensor makes a zeroed tensor that the backend reads in place when it can (shared buffers
// on the Go backend), so writing it from the host costs no copy (the key/value cache, a decode
// step's inputs).
func hostTensor(backend compute.Backend, dtype dtypes.DType, dims ...int) (*tensors.Tensor, error) {
	t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtype, dims...)) // zeroed; local without shared buffers
	if err != nil {
		return nil, fmt.Errorf("allocating a %s tensor on the backend: %w", shapes.Make(dtype, dims...), err)
	}
	return t, nil
}
