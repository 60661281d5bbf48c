package evaluate

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// TrainHook returns a train.Options.Benchmarks hook: after each validation pass it scores tasks
// on the weights being trained, prints one line per metric to log and appends them, with the
// step, to out_dir/benchmarks.jsonl. An evaluation error is printed, never fatal to the run.
func TrainHook(tasks []*Task, opts Options, batchSize int, log io.Writer) func(t *train.Trainer, tok tokenizer.Tokenizer) {
	var s *Scorer
	return func(t *train.Trainer, tok tokenizer.Tokenizer) {
		if s == nil {
			var err error
			lm := LM{Backend: t.Backend, Store: t.Store, Cfg: t.Cfg.Model, Weights: t.InferenceWeights, Tok: tok}
			if s, err = NewScorer(lm, batchSize); err != nil {
				fmt.Fprintf(log, "\nbenchmarks: %v\n", err)
				return
			}
		}
		rep, err := Run(s, tasks, opts)
		if err != nil {
			fmt.Fprintf(log, "\nbenchmarks at step %d: %v\n", t.Step, err)
			return
		}
		f, err := os.OpenFile(filepath.Join(t.Cfg.OutDir, "benchmarks.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintf(log, "\nbenchmarks: %v\n", err)
			return
		}
		defer f.Close()
		for _, m := range rep.Results {
			name := m.Task + " " + m.Metric
			if m.Filter != "" {
				name += " (" + m.Filter + ")"
			}
			fmt.Fprintf(log, "\nstep %d | %s: %.4f", t.Step, name, float64(m.Value))
			line, _ := json.Marshal(struct {
				Step int64 `json:"step"`
				Metric
			}{t.Step, m})
			f.Write(append(line, '\n'))
		}
		fmt.Fprintln(log)
	}
}
