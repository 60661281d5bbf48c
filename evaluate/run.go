package evaluate

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options of an evaluation run.
type Options struct {
	DataDir        string // task data paths are relative to it
	NumFewshot     int    // shots before each query; -1 = each task's num_fewshot (else 0)
	Seed           uint64 // the shots of item i are a pure function of (Seed, i)
	Limit          int    // first n items per task; 0 = all
	BootstrapIters int    // for perplexity's standard error; 0 = 100000 (lm-eval's default), <0 = none
	WritePrompts   string // folder: write every request of each task as <task>.jsonl
	Progress       func(task string, done, total int)
	Log            io.Writer // warnings (shots that do not fit, skipped items); nil = discard
}

// Run evaluates tasks with a scorer and returns the report (Model and Adapter left for the
// caller to fill).
func Run(s *Scorer, tasks []*Task, opts Options) (*Report, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.BootstrapIters == 0 {
		opts.BootstrapIters = 100000
	}
	rep := &Report{Seed: opts.Seed, Limit: opts.Limit, Batch: s.BatchSize}
	start := time.Now()
	for _, t := range tasks {
		ms, st, err := runTask(s, t, opts)
		if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, ms...)
		rep.Tasks = append(rep.Tasks, st)
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// Request is one model request of an item: a scored (context, continuation) pair, a
// document (continuation only) or a generation prompt (context only).
type Request struct {
	Item         int    `json:"item"`
	Where        string `json:"where"` // the record's file:line
	Context      string `json:"context"`
	Continuation string `json:"continuation"`
	ShotsLen     int    `json:"-"` // bytes of few-shot text at the start of Context
}

// Requests renders a task's items (the first opts.Limit) and their model requests with k
// shots: one per choice (or per context), one continuation, one document or one prompt.
func Requests(t *Task, k int, opts Options) ([]Doc, []Request, error) {
	docs, err := t.ReadDocs(filepath.Join(opts.DataDir, t.Data))
	if err != nil {
		return nil, nil, err
	}
	all := docs
	if opts.Limit > 0 && len(docs) > opts.Limit {
		docs = docs[:opts.Limit]
	}
	pool, samePool := all, true
	if t.FewshotData != "" && k > 0 {
		if pool, err = t.ReadDocs(filepath.Join(opts.DataDir, t.FewshotData)); err != nil {
			return nil, nil, err
		}
		samePool = false
	}
	if k > 0 && len(pool) <= k {
		return nil, nil, fmt.Errorf("task %s: %d-shot needs more than %d examples in its few-shot pool", t.Name, k, len(pool))
	}
	var reqs []Request
	for i := range docs {
		d := &docs[i]
		shots := ""
		for _, j := range fewshotIndices(len(pool), k, opts.Seed, i, samePool) {
			shots += pool[j].shotText(t) + t.fewshotSeparator()
		}
		r := Request{Item: i, Where: d.Where, ShotsLen: len(shots)}
		switch {
		case t.Output == MultipleChoice && d.Contexts != nil:
			for _, c := range d.Contexts {
				r.Context, r.Continuation = shots+c, t.targetDelimiter()+d.Target
				reqs = append(reqs, r)
			}
		case t.Output == MultipleChoice:
			for _, c := range d.Choices {
				r.Context, r.Continuation = shots+d.Query, t.targetDelimiter()+c
				reqs = append(reqs, r)
			}
		case t.Output == Loglikelihood:
			r.Context, r.Continuation = shots+d.Query, d.Target
			reqs = append(reqs, r)
		case t.Output == LoglikelihoodRolling:
			r.Continuation = d.Target
			reqs = append(reqs, r)
		case t.Output == GenerateUntil:
			r.Context = shots + d.Query
			reqs = append(reqs, r)
		}
	}
	return docs, reqs, nil
}

func runTask(s *Scorer, t *Task, opts Options) ([]Metric, TaskStats, error) {
	st := TaskStats{Task: t.Name, Output: t.Output, K: opts.NumFewshot}
	if st.K < 0 {
		st.K = 0
		if t.NumFewshot != nil {
			st.K = *t.NumFewshot
		}
	}
	docs, reqs, err := Requests(t, st.K, opts)
	if err != nil {
		return nil, st, err
	}
	if opts.WritePrompts != "" {
		if err := writePrompts(opts.WritePrompts, t, reqs); err != nil {
			return nil, st, err
		}
	}
	progress := func(n int) {}
	done := 0
	if opts.Progress != nil {
		opts.Progress(t.Name, 0, len(reqs))
		progress = func(n int) { done += n; opts.Progress(t.Name, done, len(reqs)) }
	}
	start := time.Now()
	st.Requests = len(reqs)
	var results []Result
	var outputs []string
	switch t.Output {
	case LoglikelihoodRolling:
		texts := make([]string, len(reqs))
		for i, r := range reqs {
			texts[i] = r.Continuation
		}
		results, err = s.LoglikelihoodRolling(texts, nil)
		progress(len(reqs))
	case GenerateUntil:
		g := make([]GenRequest, len(reqs))
		for i, r := range reqs {
			g[i] = GenRequest{Context: r.Context, Until: t.Until, MaxTokens: t.MaxGenTokens}
			if g[i].MaxTokens <= 0 {
				g[i].MaxTokens = 256
			}
			ids := len(s.LM.Tok.Encode(r.Context))
			st.Tokens += min(ids, s.LM.Cfg.SeqLen)
			if ids+g[i].MaxTokens > s.LM.Cfg.SeqLen { // the generator keeps the last T ids
				st.Truncated++
				if r.ShotsLen > 0 {
					st.ShotsCut++
				}
			}
		}
		if st.ShotsCut > 0 {
			warnShotsCut(opts.Log, t.Name, st.ShotsCut, len(reqs), s.LM.Cfg.SeqLen, st.K)
		}
		outputs, err = s.GenerateUntil(g, progress)
		for _, o := range outputs {
			st.Tokens += len(s.LM.Tok.Encode(o)) // generated (re-encoded; stop strings cut)
		}
	default:
		tr := make([]TokenRequest, len(reqs))
		for i, r := range reqs {
			tr[i] = s.Encode(r.Context, r.Continuation)
			if n := len(tr[i].Continuation); n > 0 && n <= s.LM.Cfg.SeqLen {
				st.Tokens += min(len(tr[i].Context)+n, s.LM.Cfg.SeqLen+1) - 1 // the row the model runs
			}
		}
		results, err = s.LoglikelihoodTokens(tr, progress)
		if err == nil {
			countCuts(s, t, reqs, tr, results, &st, opts.Log)
		}
	}
	if err != nil {
		return nil, st, fmt.Errorf("task %s: %w", t.Name, err)
	}
	st.Seconds = time.Since(start).Seconds()
	if t.Output == LoglikelihoodRolling {
		for _, r := range results {
			st.Tokens += r.Tokens
		}
	}
	ms := aggregate(s, t, docs, reqs, results, outputs, &st, opts)
	return ms, st, nil
}

// countCuts counts items whose prompt was cut to fit the context, and warns when the cut
// reaches into the few-shot examples (then k shots did not all reach the model).
func countCuts(s *Scorer, t *Task, reqs []Request, tr []TokenRequest, res []Result, st *TaskStats, log io.Writer) {
	T := s.LM.Cfg.SeqLen
	trunc, shots := map[int]bool{}, map[int]bool{}
	for i, r := range res {
		if !r.Truncated {
			continue
		}
		trunc[reqs[i].Item] = true
		if reqs[i].ShotsLen > 0 {
			shots[reqs[i].Item] = true
		}
	}
	st.Truncated, st.ShotsCut = len(trunc), len(shots)
	if len(shots) > 0 {
		warnShotsCut(log, t.Name, len(shots), countItems(reqs), T, st.K)
	}
}

func warnShotsCut(log io.Writer, task string, cut, items, T, k int) {
	fmt.Fprintf(log, "evaluate: %s: %d of %d items do not fit the %d-token context with %d shots: their oldest tokens (the shots first) were cut, so they saw fewer than %d shots; use fewer shots or a model with a longer context\n",
		task, cut, items, T, k, k)
}

func countItems(reqs []Request) int {
	if len(reqs) == 0 {
		return 0
	}
	return reqs[len(reqs)-1].Item + 1
}

// fewshotIndices draws k distinct pool indices for item i, a pure function of (seed, i); when
// the pool is the evaluated set, item i itself is never drawn.
func fewshotIndices(n, k int, seed uint64, item int, samePool bool) []int {
	r := rand.New(rand.NewPCG(seed, uint64(item)))
	perm := r.Perm(n)
	out := make([]int, 0, k)
	for _, j := range perm {
		if len(out) == k {
			break
		}
		if samePool && j == item {
			continue
		}
		out = append(out, j)
	}
	return out
}

// writePrompts writes each request of a task as a JSON line: the item's record location, the
// context and the continuation scored (or, for generation, the prompt).
func writePrompts(dir string, t *Task, reqs []Request) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--write-prompts: %w", err)
	}
	p := filepath.Join(dir, t.Name+".jsonl")
	var b strings.Builder
	for _, r := range reqs {
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("--write-prompts: %w", err)
	}
	return nil
}
