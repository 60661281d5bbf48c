// Package evaluate scores language models on benchmark tasks the way EleutherAI's
// lm-evaluation-harness does: multiple-choice and continuation log-likelihoods, rolling
// log-likelihoods of long documents (perplexity, bits per byte) and generation with stop
// strings, driven by declarative task files (tasks/*.yaml).
//
// Shape letters: B batch rows, P padded row length (<= T, the model's context), V vocabulary.
package evaluate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/tokenizer"
)

// LM is what the scorer needs of a model: its weights (in a store, read through Weights, which
// may add a LoRA adapter), its shape and its tokenizer.
type LM struct {
	Backend compute.Backend
	Store   *model.Store
	Cfg     transformer.Config
	Weights func(g *Graph) transformer.Weights
	Tok     tokenizer.Tokenizer
}

// Scorer answers the three request types of lm-evaluation-harness in batches.
type Scorer struct {
	LM        LM
	BatchSize int // rows per forward pass; every pass has this many rows (padding fills the last)

	// exec: tokens [B, P], rows [B*S] (flat positions to score), targets [B*S] ->
	// log p(target) [B*S], target is the argmax [B*S]. S (scored positions per row) is padded
	// like P, so the vocabulary projection runs only where a continuation is scored.
	exec *model.Exec
	gen  *generate.Engine
}

// NewScorer compiles nothing yet: graphs are built per padded length on first use.
func NewScorer(lm LM, batchSize int) (*Scorer, error) {
	if batchSize <= 0 {
		batchSize = 8
	}
	s := &Scorer{LM: lm, BatchSize: batchSize}
	cfg, w := lm.Cfg, lm.Weights
	exec, err := model.NewExec(lm.Backend, lm.Store, func(_ *model.Scope, tokens, rows, targets *Node) []*Node {
		g := tokens.Graph()
		N := rows.Shape().Dim(0)
		tm := &transformer.Model{Cfg: cfg, W: w(g)}
		h := Gather(tm.Hidden(tokens), Reshape(rows, N, 1)) // [N, C]: only the scored positions
		logits := tm.Head(h)                                // [N, V]
		maxes := ReduceAndKeep(logits, ReduceMax, -1)       // [N, 1]
		lse := Add(Log(ReduceSum(Exp(Sub(logits, maxes)), -1)), Reshape(maxes, N))
		idx := Iota(g, shapes.Make(dtypes.Int32, N), 0) // [N]
		picked := Gather(logits, Stack([]*Node{idx, targets}, -1))
		greedy := ConvertDType(GreaterOrEqual(picked, Reshape(maxes, N)), dtypes.Int32)
		return []*Node{Sub(picked, lse), greedy}
	})
	if err != nil {
		return nil, fmt.Errorf("compiling the scoring graph: %w", err)
	}
	exec.SetMaxCache(64) // one graph per padded length; lengths are powers of two
	s.exec = exec
	return s, nil
}

// TokenRequest asks for log p(Continuation | Context) in token ids.
type TokenRequest struct {
	Context, Continuation []int
}

// Result is the answer to one log-likelihood request.
type Result struct {
	LogProb   float64 // sum of log p over the continuation's tokens
	Greedy    bool    // every continuation token is the model's argmax (lm-eval's is_greedy)
	Tokens    int     // continuation tokens scored
	Truncated bool    // the context's oldest tokens were cut to fit the window
	Skipped   bool    // the continuation alone does not fit the window: not scored
}

// Encode splits (context, continuation) into ids as lm-eval does: trailing spaces of the
// context move to the continuation, the pair is encoded whole and the context's ids are cut
// off its front, so the continuation's first token is the one the model would write. An empty
// context is the end-of-text id.
func (s *Scorer) Encode(context, continuation string) TokenRequest {
	tok := s.LM.Tok
	if context == "" {
		return TokenRequest{Context: []int{s.prefixToken()}, Continuation: tok.Encode(continuation)}
	}
	if n := len(context) - len(strings.TrimRight(context, " ")); n > 0 {
		continuation = context[len(context)-n:] + continuation
		context = context[:len(context)-n]
	}
	whole := tok.Encode(context + continuation)
	ctx := tok.Encode(context)
	if len(ctx) > len(whole) {
		ctx = ctx[:len(whole)]
	}
	return TokenRequest{Context: whole[:len(ctx)], Continuation: whole[len(ctx):]}
}

// prefixToken is the id that stands in for an empty context (lm-eval: the end-of-text id).
func (s *Scorer) prefixToken() int { return max(s.LM.Tok.EOT(), 0) }

// Loglikelihood scores text requests (context, continuation) pairs.
func (s *Scorer) Loglikelihood(pairs [][2]string, progress func(int)) ([]Result, error) {
	reqs := make([]TokenRequest, len(pairs))
	for i, p := range pairs {
		reqs[i] = s.Encode(p[0], p[1])
	}
	return s.LoglikelihoodTokens(reqs, progress)
}

// LoglikelihoodTokens scores token requests in batches, longest first. Each row is placed at
// position 0 and padded on the right, so a causal model sees exactly what it would see alone:
// a score does not depend on its batch neighbours, the padding or the batch size.
// progress, when not nil, is called with the number of requests finished by each batch.
func (s *Scorer) LoglikelihoodTokens(reqs []TokenRequest, progress func(int)) ([]Result, error) {
	T := s.LM.Cfg.SeqLen
	type row struct {
		i        int
		in, tg   []int32
		contLen  int
		truncate bool
	}
	res := make([]Result, len(reqs))
	var rows []row
	for i, r := range reqs {
		if len(r.Continuation) == 0 {
			continue // nothing to score: log p = 0, greedy
		}
		if len(r.Continuation) > T {
			res[i].Skipped = true
			continue
		}
		ctx := r.Context
		if len(ctx) == 0 {
			ctx = []int{s.prefixToken()}
		}
		all := append(append([]int{}, ctx...), r.Continuation...)
		trunc := len(all) > T+1
		if trunc {
			all = all[len(all)-(T+1):]
		}
		rw := row{i: i, contLen: len(r.Continuation), truncate: trunc}
		for j := 0; j+1 < len(all); j++ {
			if all[j] < 0 || all[j] >= s.LM.Cfg.VocabSize || all[j+1] < 0 || all[j+1] >= s.LM.Cfg.VocabSize {
				return nil, fmt.Errorf("token id outside the vocabulary [0, %d) in request %d", s.LM.Cfg.VocabSize, i)
			}
			rw.in = append(rw.in, int32(all[j]))
			rw.tg = append(rw.tg, int32(all[j+1]))
		}
		rows = append(rows, rw)
	}
	sort.SliceStable(rows, func(a, b int) bool { return len(rows[a].in) > len(rows[b].in) })
	B := s.BatchSize
	for start := 0; start < len(rows); start += B {
		batch := rows[start:min(start+B, len(rows))]
		P := paddedLen(len(batch[0].in), T)
		S := 0
		for _, r := range batch {
			S = max(S, r.contLen)
		}
		S = paddedLen(S, P)
		in, rows, tg := make([]int32, B*P), make([]int32, B*S), make([]int32, B*S)
		for b, r := range batch {
			copy(in[b*P:], r.in)
			n := len(r.in)
			for k := 0; k < S; k++ {
				rows[b*S+k] = int32(b * P) // padding: any valid position
				if k < r.contLen {
					j := n - r.contLen + k
					rows[b*S+k], tg[b*S+k] = int32(b*P+j), r.tg[j]
				}
			}
		}
		out, err := s.exec.Call(tensors.FromFlatDataAndDimensions(in, B, P), tensors.FromFlatDataAndDimensions(rows, B*S), tensors.FromFlatDataAndDimensions(tg, B*S))
		if err != nil {
			return nil, fmt.Errorf("scoring a batch of %d rows of %d tokens: %w", B, P, err)
		}
		lp := tensors.MustCopyFlatData[float32](out[0])
		greedy := tensors.MustCopyFlatData[int32](out[1])
		for b, r := range batch {
			x := Result{Greedy: true, Tokens: r.contLen, Truncated: r.truncate}
			for k := 0; k < r.contLen; k++ {
				x.LogProb += float64(lp[b*S+k])
				x.Greedy = x.Greedy && greedy[b*S+k] != 0
			}
			res[r.i] = x
		}
		if progress != nil {
			progress(len(batch))
		}
	}
	for i, r := range reqs {
		if len(r.Continuation) == 0 {
			res[i] = Result{Greedy: true}
		}
	}
	return res, nil
}

// paddedLen rounds n up to a power of two (at least 16, at most T) so few graphs are compiled.
func paddedLen(n, T int) int {
	p := 16
	for p < n {
		p *= 2
	}
	return min(p, T)
}

// RollingWindows cuts a document's ids into the disjoint scoring windows of lm-eval's
// get_rolling_token_windows (context_len 1) + make_disjoint_window: the first window predicts
// the first T ids after the prefix id; each next one predicts up to T new ids, conditioned on
// the ids just before them, so every id is predicted exactly once with the longest context
// the window allows.
func RollingWindows(ids []int, prefix, T int) []TokenRequest {
	var out []TokenRequest
	if len(ids) == 0 {
		return nil
	}
	first := min(T, len(ids))
	out = append(out, TokenRequest{Context: []int{prefix}, Continuation: ids[:first]})
	for done := first; done < len(ids); {
		n := min(len(ids)-done, T)
		end := done + n
		// input window ids[end-T-1 : end-1], predicting ids[end-n : end]; disjoint: context is
		// the window minus its overlap with the prediction.
		win := ids[end-T-1 : end-1]
		out = append(out, TokenRequest{Context: win[:len(win)-(n-1)], Continuation: ids[end-n : end]})
		done = end
	}
	return out
}

// LoglikelihoodRolling returns each document's total log-likelihood (every token predicted
// once, with rolling windows of the model's context) and its token count.
func (s *Scorer) LoglikelihoodRolling(docs []string, progress func(int)) ([]Result, error) {
	var reqs []TokenRequest
	owner := []int{}
	for i, d := range docs {
		for _, w := range RollingWindows(s.LM.Tok.Encode(d), s.prefixToken(), s.LM.Cfg.SeqLen) {
			reqs = append(reqs, w)
			owner = append(owner, i)
		}
	}
	win, err := s.LoglikelihoodTokens(reqs, progress)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(docs))
	for i := range out {
		out[i].Greedy = true
	}
	for j, r := range win {
		o := &out[owner[j]]
		o.LogProb += r.LogProb
		o.Tokens += r.Tokens
		o.Greedy = o.Greedy && r.Greedy
	}
	return out, nil
}

// GenRequest asks for a greedy continuation of Context, cut before the first of Until.
type GenRequest struct {
	Context   string
	Until     []string
	MaxTokens int
}

// GenerateUntil answers generation requests greedily on the KV-cache engine, BatchSize
// requests at a time (a row's output does not depend on its neighbours).
func (s *Scorer) GenerateUntil(reqs []GenRequest, progress func(int)) ([]string, error) {
	out := make([]string, len(reqs))
	for lo := 0; lo < len(reqs); lo += s.BatchSize {
		hi := min(lo+s.BatchSize, len(reqs))
		batch := make([]*generate.Request, 0, hi-lo)
		for _, r := range reqs[lo:hi] {
			batch = append(batch, s.untilRequest(s.LM.Tok.Encode(r.Context), r.MaxTokens, r.Until))
		}
		res, err := s.generate(batch)
		if err != nil {
			return nil, fmt.Errorf("generating for requests %d-%d: %w", lo, hi-1, err)
		}
		for i, r := range res {
			out[lo+i] = r.Text
		}
		if progress != nil {
			progress(hi - lo)
		}
	}
	return out, nil
}

// GenerateTokens continues prompt ids greedily by up to maxTokens (0 = 256) tokens, stopping
// at end-of-text or before the first of until in the decoded text.
func (s *Scorer) GenerateTokens(prompt []int, maxTokens int, until []string) (string, error) {
	res, err := s.generate([]*generate.Request{s.untilRequest(prompt, maxTokens, until)})
	if err != nil {
		return "", err
	}
	return res[0].Text, nil
}

// untilRequest is one greedy generate-until request. A prompt longer than the context minus
// maxTokens loses its oldest ids first (lm-eval's left truncation). When the context is not
// longer than maxTokens, the prompt keeps its newest half-context and the answer gets the rest.
func (s *Scorer) untilRequest(prompt []int, maxTokens int, until []string) *generate.Request {
	ids := prompt
	if len(ids) == 0 {
		ids = []int{s.prefixToken()}
	}
	if maxTokens <= 0 {
		maxTokens = 256
	}
	T := s.LM.Cfg.SeqLen
	keep := T - maxTokens // as lm-eval: the prompt keeps room for the answer
	if keep < 1 {
		keep = max(T/2, 1)
	}
	if len(ids) > keep {
		ids = ids[len(ids)-keep:]
	}
	maxTokens = min(maxTokens, T-len(ids))
	p := generate.Params{MaxTokens: maxTokens, Stop: slices.DeleteFunc(slices.Clone(until), func(u string) bool { return u == "" })}
	if eot := s.LM.Tok.EOT(); eot >= 0 {
		p.StopIDs = []int{eot}
	}
	return &generate.Request{Prompt: ids, Params: p}
}

func (s *Scorer) generate(reqs []*generate.Request) ([]generate.Result, error) {
	if s.gen == nil {
		e, err := generate.NewEngine(generate.Model{Backend: s.LM.Backend, Store: s.LM.Store, Cfg: s.LM.Cfg, Weights: s.LM.Weights, Tok: s.LM.Tok})
		if err != nil {
			return nil, err
		}
		s.gen = e
	}
	return s.gen.Run(context.Background(), reqs)
}

// cutAtStop cuts text before the earliest stop string, if any occurs.
func cutAtStop(text string, until []string) (string, bool) {
	best := -1
	for _, u := range until {
		if u == "" {
			continue
		}
		if j := strings.Index(text, u); j >= 0 && (best < 0 || j < best) {
			best = j
		}
	}
	if best < 0 {
		return text, false
	}
	return text[:best], true
}
