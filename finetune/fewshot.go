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
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/tokenizer"
)

// ShotOptions control k-shot prompting and evaluation.
type ShotOptions struct {
	K         int    // examples shown before the query; 0 = zero-shot
	Seed      uint64 // the sample of shots is a pure function of (Seed, query)
	Separator string // between shots and before the query; "" = "\n\n"
	MaxTokens int    // generated tokens per query; 0 = 128
	Limit     int    // queries evaluated; 0 = all
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
	N           int
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
	m, err := Load(backend, cfg.Base, adapter)
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
		opts.K = k
		r, err := s.Evaluate(ds.Examples, shots, opts)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Scorer computes log-probabilities of continuations under a model.
type Scorer struct {
	m    *Model
	exec *model.Exec
	gen  *generate.Generator
}

// NewScorer compiles the scoring and generation graphs of m.
func NewScorer(m *Model) (*Scorer, error) {
	cfg := m.Cfg.Model
	w := m.Weights()
	exec, err := model.NewExec(m.Trainer.Backend, m.Trainer.Store, func(_ *model.Scope, tokens, targets *Node) *Node {
		tm := &transformer.Model{Cfg: cfg, W: w(tokens.Graph())}
		T := tokens.Shape().Dim(1)
		logits := tm.Head(tm.Hidden(tokens)) // [T, V]
		maxes := ReduceAndKeep(logits, ReduceMax, -1)
		lse := Add(Log(ReduceSum(Exp(Sub(logits, maxes)), -1)), Reshape(maxes, T))
		rows := Iota(tokens.Graph(), shapes.Make(dtypes.Int32, T), 0)
		picked := Gather(logits, Stack([]*Node{rows, Reshape(targets, T)}, -1))
		return Sub(picked, lse) // [T] log p(target)
	})
	if err != nil {
		return nil, err
	}
	gen, err := generate.New(m.Trainer.Backend, m.Trainer.Store, cfg, w)
	if err != nil {
		return nil, err
	}
	return &Scorer{m: m, exec: exec, gen: gen}, nil
}

// LogProbs returns log p(cont[i] | prompt, cont[:i]) for each continuation id. The prompt's
// oldest ids are cut when the whole does not fit the context.
func (s *Scorer) LogProbs(prompt, cont []int) ([]float64, error) {
	T := s.m.Cfg.Model.SeqLen
	if len(cont) == 0 {
		return nil, nil
	}
	if len(cont) > T {
		return nil, fmt.Errorf("continuation of %d tokens does not fit the context of %d", len(cont), T)
	}
	if len(prompt) == 0 {
		prompt = []int{max(s.m.Tok.EOT(), 0)}
	}
	all := append(append([]int{}, prompt...), cont...)
	if len(all) > T+1 {
		all = all[len(all)-(T+1):]
	}
	in, tg := make([]int32, T), make([]int32, T)
	for i := 0; i+1 < len(all); i++ {
		in[i], tg[i] = int32(all[i]), int32(all[i+1])
	}
	out, err := s.exec.Call(tensors.FromFlatDataAndDimensions(in, 1, T), tensors.FromFlatDataAndDimensions(tg, T))
	if err != nil {
		return nil, err
	}
	lp := tensors.MustCopyFlatData[float32](out[0])
	n := len(all) - 1
	res := make([]float64, len(cont))
	for i := range cont {
		res[i] = float64(lp[n-len(cont)+i])
	}
	return res, nil
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

// Evaluate runs k-shot prompts of the queries (shots drawn from pool) through the model:
// greedy generation for exact / final-answer match, the reference's NLL, and, for
// classification data, which label scores highest.
func (s *Scorer) Evaluate(queries, pool []Example, opts ShotOptions) (*EvalResult, error) {
	res := &EvalResult{K: opts.K, Accuracy: math.NaN()}
	if opts.MaxTokens == 0 {
		opts.MaxTokens = 128
	}
	if opts.Limit > 0 && len(queries) > opts.Limit {
		queries = queries[:opts.Limit]
	}
	tok := s.m.Tok
	labels := (&Dataset{Examples: pool}).Labels()
	var nll float64
	var nTok, exact, answer, correct, nLabel int
	for i := range queries {
		q := &queries[i]
		promptSegs := KShotSegments(pool, q, opts)
		prompt := encodeSegments(promptSegs, tok)
		ref := q.Answer()
		refIDs := encodeSegments(q.Segments[q.lastTrainedRun():], tok)
		if tok.EOT() >= 0 {
			refIDs = append(refIDs, tok.EOT())
		}
		lps, err := s.LogProbs(prompt, refIDs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Where, err)
		}
		smp := EvalSample{Where: q.Where, Prompt: (&Example{Segments: promptSegs}).Text(), Reference: ref}
		for _, lp := range lps {
			smp.NLL -= lp
		}
		nll += smp.NLL
		nTok += len(lps)
		smp.NLL /= float64(max(1, len(lps)))
		ids, err := s.gen.Generate(prompt, generate.Options{MaxTokens: opts.MaxTokens, StopAt: tok.EOT()})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Where, err)
		}
		if len(ids) > 0 && ids[len(ids)-1] == tok.EOT() {
			ids = ids[:len(ids)-1]
		}
		out := tok.Decode(ids)
		stops := []string{opts.sep()}
		for _, seg := range q.Segments[q.lastTrainedRun():] {
			if seg.Markup && strings.TrimSpace(seg.Text) != "" {
				stops = append(stops, seg.Text) // e.g. the template's end-of-turn
			}
		}
		for _, st := range stops {
			if j := strings.Index(out, st); j >= 0 {
				out = out[:j]
			}
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
			best, bestLP := "", math.Inf(-1)
			for _, l := range labels {
				lps, err := s.LogProbs(prompt, encodeSegments([]Segment{{Text: l, Train: true}}, tok))
				if err != nil {
					return nil, err
				}
				sum := 0.0
				for _, x := range lps {
					sum += x
				}
				if sum > bestLP {
					best, bestLP = l, sum
				}
			}
			nLabel++
			if best == q.Label {
				correct++
			}
		}
		res.Samples = append(res.Samples, smp)
	}
	res.N = len(queries)
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
