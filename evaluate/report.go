package evaluate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/golem-ml/golem/data"
)

// Metric is one reported figure.
type Metric struct {
	Task         string   `json:"task"`
	Metric       string   `json:"metric"`
	Filter       string   `json:"filter,omitempty"` // generate_until: the answer extraction
	Value        Num      `json:"value"`            // null when no item could be scored
	Stderr       *float64 `json:"stderr"`           // null where lm-eval reports N/A
	K            int      `json:"k"`
	Seed         uint64   `json:"seed"`
	Items        int      `json:"items"`
	TokensPerSec float64  `json:"tokens_per_s"`
}

// Num is a float that is null in JSON when it is not a number.
type Num float64

// MarshalJSON writes NaN and infinities as null.
func (n Num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// TaskStats counts what happened to a task's items.
type TaskStats struct {
	Task      string  `json:"task"`
	Output    string  `json:"output"`
	K         int     `json:"k"`
	Items     int     `json:"items"`     // scored
	Skipped   int     `json:"skipped"`   // an answer longer than the context: not scored
	Truncated int     `json:"truncated"` // prompt's oldest tokens cut to fit the context
	ShotsCut  int     `json:"shots_cut"` // of those, items whose cut reached into the few-shot examples
	Requests  int     `json:"requests"`  // model requests (one per choice, window or generation)
	Tokens    int     `json:"tokens"`    // tokens in the model's rows after truncation (generation: prompt + generated)
	Seconds   float64 `json:"seconds"`
}

// Report is the JSON written by `evaluate --out`.
type Report struct {
	Model   string      `json:"model"`
	Adapter string      `json:"adapter,omitempty"`
	Seed    uint64      `json:"seed"`
	Limit   int         `json:"limit,omitempty"`
	Batch   int         `json:"batch_size"`
	Results []Metric    `json:"results"`
	Tasks   []TaskStats `json:"tasks"`
	Seconds float64     `json:"seconds"`
}

// aggregate turns per-item results into the task's metrics.
func aggregate(s *Scorer, t *Task, docs []Doc, reqs []Request, res []Result, outputs []string, st *TaskStats, opts Options) []Metric {
	per := map[string][]float64{} // metric -> per-item values
	var lls, words, bytesN []float64
	skipped := map[int]bool{}
	for i, r := range res {
		if r.Skipped {
			skipped[reqs[i].Item] = true
		}
	}
	st.Skipped = len(skipped)
	if st.Skipped > 0 {
		fmt.Fprintf(opts.Log, "evaluate: %s: %s skipped: an answer is longer than the %d-token context\n", t.Name, data.Plural(st.Skipped, "item"), s.LM.Cfg.SeqLen)
	}
	// Per item, in order; requests of one item are consecutive.
	for i := 0; i < len(reqs); {
		item := reqs[i].Item
		j := i
		for j < len(reqs) && reqs[j].Item == item {
			j++
		}
		d := &docs[item]
		if !skipped[item] {
			switch t.Output {
			case MultipleChoice:
				var l []float64
				for _, r := range res[i:j] {
					l = append(l, r.LogProb)
				}
				names := d.Choices
				if d.Contexts != nil {
					names = d.Contexts // lm-eval normalises by doc_to_choice, the contexts here
				}
				acc, norm, byByte, mc2 := ChoiceScores(l, names, d.Gold, d.TrueChoices)
				per["acc"], per["acc_norm"] = append(per["acc"], acc), append(per["acc_norm"], norm)
				per["acc_bytes"], per["mc2"] = append(per["acc_bytes"], byByte), append(per["mc2"], mc2)
			case Loglikelihood:
				g := 0.0
				if res[i].Greedy {
					g = 1
				}
				per["acc"] = append(per["acc"], g)
				lls = append(lls, res[i].LogProb)
			case LoglikelihoodRolling:
				lls = append(lls, res[i].LogProb)
				words = append(words, float64(CountWords(d.Target)))
				bytesN = append(bytesN, float64(len(d.Target)))
			case GenerateUntil:
				for _, x := range t.Extract {
					v := 0.0
					if t.ExactMatch.Match(x.Apply(outputs[i]), d.Target) {
						v = 1
					}
					per["exact_match/"+x.Name] = append(per["exact_match/"+x.Name], v)
				}
			}
			st.Items++
		}
		i = j
	}
	tps := float64(st.Tokens) / max(st.Seconds, 1e-9)
	var out []Metric
	add := func(name, filter string, v, se float64) {
		m := Metric{Task: t.Name, Metric: name, Filter: filter, Value: Num(v), K: st.K, Seed: opts.Seed, Items: st.Items, TokensPerSec: tps}
		if !math.IsNaN(se) {
			m.Stderr = &se
		}
		out = append(out, m)
	}
	for _, name := range t.Metrics {
		switch name {
		case "acc", "acc_norm", "acc_bytes":
			v, se := Mean(per[name])
			add(name, "", v, se)
		case "mc2":
			v, se := Mean(per["mc2"])
			add("acc", "", v, se) // lm-eval reports truthfulqa_mc2's MC2 as acc
		case "exact_match":
			for _, x := range t.Extract {
				v, se := Mean(per["exact_match/"+x.Name])
				add(name, x.Name, v, se)
			}
		case "perplexity":
			se := math.NaN()
			if opts.BootstrapIters > 0 {
				se = Bootstrap(Perplexity, lls, opts.BootstrapIters, opts.Seed)
			}
			add(name, "", Perplexity(lls), se)
		case "word_perplexity":
			add(name, "", math.Exp(-Weighted(lls, words)), math.NaN())
		case "byte_perplexity":
			add(name, "", math.Exp(-Weighted(lls, bytesN)), math.NaN())
		case "bits_per_byte":
			add(name, "", -Weighted(lls, bytesN)/math.Ln2, math.NaN())
		}
	}
	return out
}

// WriteTable prints the results as lm-eval's table: task, filter, n-shot, metric, value ± stderr.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "Task\tFilter\tn-shot\tMetric\tValue\tStderr\tItems\ttokens/s")
	for _, m := range r.Results {
		se := "N/A"
		if m.Stderr != nil {
			se = fmt.Sprintf("± %.4f", *m.Stderr)
		}
		f := m.Filter
		if f == "" {
			f = "none"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.4f\t%s\t%d\t%.0f\n", m.Task, f, m.K, m.Metric, float64(m.Value), se, m.Items, m.TokensPerSec)
	}
	tw.Flush()
	for _, s := range r.Tasks {
		if s.Skipped > 0 || s.Truncated > 0 {
			fmt.Fprintf(w, "%s: %s skipped (answer longer than the context), %s truncated (%d into the shots)\n", s.Task, data.Plural(s.Skipped, "item"), data.Plural(s.Truncated, "prompt"), s.ShotsCut)
		}
	}
}
