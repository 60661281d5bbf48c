package finetune

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomlx/compute"

	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/tokenizer"
)

// ShotOptions control k-shot prompting and evaluation.
type ShotOptions struct {
	K         int       // examples shown before the query; 0 = zero-shot
	Seed      uint64    // the sample of shots is a pure function of (Seed, query)
	Separator string    // between shots and before the query; "" = "\n\n"
	MaxTokens int       // generated tokens per query; 0 = 128
	Limit     int       // queries evaluated; 0 = all
	Log       io.Writer // warnings (shots cut to fit the context); nil = none
}

func (o *ShotOptions) sep() string {
	if o.Separator == "" {
		return "\n\n"
	}
	return o.Separator
}

// Shots picks k examples of pool for a query (never the query itself), seeded by (seed, query).
func Shots(pool []Example, k int, seed uint64, query *Example) []Example {
	h := fnv.New64a()
	h.Write([]byte(query.Where))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	var out []Example
	for _, i := range r.Perm(len(pool)) {
		if len(out) == k {
			break
		}
		if pool[i].Where != query.Where || query.Where == "" {
			out = append(out, pool[i])
		}
	}
	return out
}

// KShotSegments is the k-shot prompt of a query as segments: each shot in full (prompt and
// completion), the separator, then the query's prompt.
func KShotSegments(pool []Example, query *Example, opts ShotOptions) []Segment {
	var segs []Segment
	for _, s := range Shots(pool, opts.K, opts.Seed, query) {
		segs = append(segs, s.Segments...)
		segs = append(segs, Segment{Text: opts.sep()})
	}
	return append(segs, query.Segments[:query.lastTrainedRun()]...)
}

// KShotPrompt is KShotSegments as text.
func KShotPrompt(pool []Example, query *Example, opts ShotOptions) string {
	ex := Example{Segments: KShotSegments(pool, query, opts)}
	return ex.Text()
}

// Answer is the reference answer of an example: the last trained run without template markup.
func (e *Example) Answer() string {
	var b strings.Builder
	for _, s := range e.Segments[e.lastTrainedRun():] {
		if s.Train && !s.Markup {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// EvalSample is one evaluated query.
type EvalSample struct {
	Where, Prompt, Reference, Output string
	Exact, AnswerOK                  bool
	NLL                              float64 // mean negative log-likelihood per reference token
}

// EvalResult summarises a k-shot evaluation.
type EvalResult struct {
	K           int
	N           int     // queries scored
	Skipped     int     // references longer than the context: not scored
	Truncated   int     // prompts whose oldest ids were cut to fit with their reference
	ShotsCut    int     // of those, k-shot prompts that lost (part of) their shots
	ExactMatch  float64 // generated text == reference (trimmed)
	AnswerMatch float64 // final answers agree ("#### x" or the last number; else exact)
	Accuracy    float64 // classification: the highest-scoring label is the gold one (NaN for other data)
	NLL         float64 // mean per-token NLL of the references given the prompts
	Samples     []EvalSample
}

func (r *EvalResult) String() string {
	s := fmt.Sprintf("k=%d n=%d: exact %.3f | answer %.3f | nll/token %.4f (ppl %.2f)", r.K, r.N, r.ExactMatch, r.AnswerMatch, r.NLL, math.Exp(r.NLL))
	if !math.IsNaN(r.Accuracy) {
		s += fmt.Sprintf(" | label accuracy %.3f", r.Accuracy)
	}
	if r.Skipped+r.Truncated > 0 {
		s += fmt.Sprintf(" | %d skipped (answer longer than the context), %d prompts truncated (%d lost shots)", r.Skipped, r.Truncated, r.ShotsCut)
	}
	return s
}

// EvalFiles scores cfg.Data.Train's examples as k-shot queries on cfg.Base (with an unmerged
// adapter when given), for each k of a comma-separated list ("0,1,3"), shots drawn from pool
// files (default: the same examples, never the query itself).
func EvalFiles(backend compute.Backend, cfg Config, adapter string, pool []string, ks string, opts ShotOptions, log io.Writer) ([]*EvalResult, error) {
	var kList []int
	for _, f := range strings.Split(ks, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 0 {
			return nil, fmt.Errorf("--shots: %q is not a list of counts such as 0,1,3", ks)
		}
		kList = append(kList, k)
	}
	m, err := inference.Open(backend, cfg.Base, adapter)
	if err != nil {
		return nil, err
	}
	ds, err := ReadFiles(cfg.Data.Train, cfg.Data)
	if err != nil {
		return nil, err
	}
	ds.Report(log, "data", cfg.Data.ShowProblems)
	if err := ds.CheckBad(cfg.Data.MaxBadFraction, "data"); err != nil {
		return nil, err
	}
	shots := ds.Examples
	if len(pool) > 0 {
		p, err := ReadFiles(pool, cfg.Data)
		if err != nil {
			return nil, err
		}
		p.Report(log, "pool", cfg.Data.ShowProblems)
		shots = p.Examples
	}
	s, err := NewScorer(m)
	if err != nil {
		return nil, err
	}
	var out []*EvalResult
	for _, k := range kList {
		if k > 0 && len(shots) <= k {
			return out, fmt.Errorf("eval: %d examples to draw %d shots from", len(shots), k)
		}
		opts.K, opts.Log = k, log
		r, err := s.Evaluate(ds.Examples, shots, opts)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Scorer runs k-shot evaluations on the shared batched scorer of package evaluate.
type Scorer struct {
	m  *inference.Model
	ev *evaluate.Scorer
}

// NewScorer prepares the scoring and generation graphs of m.
func NewScorer(m *inference.Model) (*Scorer, error) {
	ev, err := evaluate.NewScorer(evaluate.LM{Backend: m.Backend, Store: m.Store, Cfg: m.Cfg, Weights: m.Weights, Tok: m.Tok}, 8)
	if err != nil {
		return nil, err
	}
	return &Scorer{m: m, ev: ev}, nil
}

// LogProb returns log p(cont | prompt) summed over cont's ids (the prompt's oldest ids are
// cut when the whole does not fit the context).
func (s *Scorer) LogProb(prompt, cont []int) (float64, error) {
	r, err := s.ev.LoglikelihoodTokens([]evaluate.TokenRequest{{Context: prompt, Continuation: cont}}, nil)
	if err != nil {
		return 0, err
	}
	if r[0].Skipped {
		return 0, fmt.Errorf("continuation of %d tokens does not fit the context of %d", len(cont), s.m.Cfg.SeqLen)
	}
	return r[0].LogProb, nil
}

// encodeSegments tokenizes segments as training does, without the closing end-of-text id.
func encodeSegments(segs []Segment, tok tokenizer.Tokenizer) []int {
	t := Tokenize(&Example{Segments: segs}, tok, false)
	ids := make([]int, 0, len(t.IDs))
	for _, id := range t.IDs {
		ids = append(ids, int(id))
	}
	if tok.EOT() >= 0 {
		ids = ids[:len(ids)-1]
	}
	return ids
}

// evalItem is one query's prompt and reference in ids.
type evalItem struct {
	q           *Example
	promptSegs  []Segment
	prompt, ref []int
	shotIDs     int // ids of the shots at the start of prompt
}

// Evaluate runs k-shot prompts of the queries (shots drawn from pool) through the model:
// greedy generation for exact / final-answer match, the reference's NLL, and, for
// classification data, which label scores highest. A reference longer than the context is
// skipped; a prompt that does not fit with its reference loses its oldest ids (the shots
// first); both are counted, and cut shots are reported on opts.Log.
func (s *Scorer) Evaluate(queries, pool []Example, opts ShotOptions) (*EvalResult, error) {
	res := &EvalResult{K: opts.K, Accuracy: math.NaN()}
	if opts.MaxTokens == 0 {
		opts.MaxTokens = 128
	}
	if opts.Limit > 0 && len(queries) > opts.Limit {
		queries = queries[:opts.Limit]
	}
	tok, T := s.m.Tok, s.m.Cfg.SeqLen
	labels := (&Dataset{Examples: pool}).Labels()
	var items []evalItem
	var reqs []evaluate.TokenRequest
	for i := range queries {
		q := &queries[i]
		it := evalItem{q: q, promptSegs: KShotSegments(pool, q, opts)}
		it.prompt = encodeSegments(it.promptSegs, tok)
		it.shotIDs = len(it.prompt) - len(encodeSegments(q.Segments[:q.lastTrainedRun()], tok))
		it.ref = encodeSegments(q.Segments[q.lastTrainedRun():], tok)
		if tok.EOT() >= 0 {
			it.ref = append(it.ref, tok.EOT())
		}
		if len(it.ref) > T {
			res.Skipped++
			continue
		}
		if over := len(it.prompt) + len(it.ref) - (T + 1); over > 0 {
			res.Truncated++
			if opts.K > 0 && it.shotIDs > 0 {
				res.ShotsCut++
			}
		}
		items = append(items, it)
		reqs = append(reqs, evaluate.TokenRequest{Context: it.prompt, Continuation: it.ref})
	}
	if res.ShotsCut > 0 && opts.Log != nil {
		fmt.Fprintf(opts.Log, "eval k=%d: %d of %d prompts do not fit the %d-token context with their answer: their shots were cut from the left, so they saw fewer than %d shots; use fewer shots or a base with a longer context\n",
			opts.K, res.ShotsCut, len(items), T, opts.K)
	}
	nlls, err := s.ev.LoglikelihoodTokens(reqs, nil)
	if err != nil {
		return nil, err
	}
	var nll float64
	var nTok, exact, answer, correct, nLabel int
	for i, it := range items {
		q := it.q
		ref := q.Answer()
		smp := EvalSample{Where: q.Where, Prompt: (&Example{Segments: it.promptSegs}).Text(), Reference: ref}
		smp.NLL = -nlls[i].LogProb
		nll += smp.NLL
		nTok += nlls[i].Tokens
		smp.NLL /= float64(max(1, nlls[i].Tokens))
		stops := []string{opts.sep()}
		for _, seg := range q.Segments[q.lastTrainedRun():] {
			if seg.Markup && strings.TrimSpace(seg.Text) != "" {
				stops = append(stops, seg.Text) // e.g. the template's end-of-turn
			}
		}
		out, err := s.ev.GenerateTokens(it.prompt, opts.MaxTokens, stops)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Where, err)
		}
		smp.Output = out
		smp.Exact = strings.TrimSpace(out) == strings.TrimSpace(ref)
		smp.AnswerOK = FinalAnswer(out) == FinalAnswer(ref)
		if smp.Exact {
			exact++
		}
		if smp.AnswerOK {
			answer++
		}
		if q.Format == "classification" && len(labels) > 0 {
			lreqs := make([]evaluate.TokenRequest, len(labels))
			for j, l := range labels {
				lreqs[j] = evaluate.TokenRequest{Context: it.prompt, Continuation: encodeSegments([]Segment{{Text: l, Train: true}}, tok)}
			}
			lr, err := s.ev.LoglikelihoodTokens(lreqs, nil)
			if err != nil {
				return nil, err
			}
			best := 0
			for j := range lr {
				if lr[j].LogProb > lr[best].LogProb {
					best = j
				}
			}
			nLabel++
			if labels[best] == q.Label {
				correct++
			}
		}
		res.Samples = append(res.Samples, smp)
	}
	res.N = len(items)
	if res.N > 0 {
		res.ExactMatch, res.AnswerMatch = float64(exact)/float64(res.N), float64(answer)/float64(res.N)
	}
	if nTok > 0 {
		res.NLL = nll / float64(nTok)
	}
	if nLabel > 0 {
		res.Accuracy = float64(correct) / float64(nLabel)
	}
	return res, nil
}

var numberRE = regexp.MustCompile(`-?[0-9][0-9,]*(\.[0-9]+)?`)

// FinalAnswer extracts the answer of a solution: the text after "####" (GSM8K), else the last
// number, else the trimmed text; commas in numbers are dropped.
func FinalAnswer(s string) string {
	if i := strings.LastIndex(s, "####"); i >= 0 {
		return strings.ReplaceAll(strings.TrimSpace(s[i+4:]), ",", "")
	}
	if m := numberRE.FindAllString(s, -1); len(m) > 0 {
		return strings.ReplaceAll(m[len(m)-1], ",", "")
	}
	return strings.TrimSpace(s)
}
