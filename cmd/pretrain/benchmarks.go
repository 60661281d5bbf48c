package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// benchmarks returns training callbacks (for train.Options.Callbacks) that score tasks on the
// weights being trained after each validation pass, print one line per metric to log and append
// them, with the step, to out_dir/benchmarks.jsonl. An evaluation error is printed, never fatal
// to the run.
func benchmarks(tasks []*evaluate.Task, opts evaluate.Options, batchSize int, log io.Writer) train.Callbacks {
	return &trainHook{tasks: tasks, opts: opts, batchSize: batchSize, log: log}
}

type trainHook struct {
	train.NoCallbacks
	tasks     []*evaluate.Task
	opts      evaluate.Options
	batchSize int
	log       io.Writer
	tok       tokenizer.Tokenizer // the run's, from OnStart
	s         *evaluate.Scorer    // made at the first validation pass
}

func (h *trainHook) OnStart(_ *train.Trainer, tok tokenizer.Tokenizer) error {
	h.tok = tok
	return nil
}

func (h *trainHook) OnEval(t *train.Trainer, _ float64, _ bool) (bool, error) {
	if h.tok == nil {
		return false, fmt.Errorf("benchmarks: no tokenizer (train.Loop passes it to OnStart, which was not called)")
	}
	h.score(t)
	return false, nil
}

func (h *trainHook) score(t *train.Trainer) {
	if h.s == nil {
		var err error
		lm := evaluate.LM{Backend: t.Backend, Store: t.Store, Cfg: t.Cfg.Model, Weights: t.InferenceWeights, Tok: h.tok}
		if h.s, err = evaluate.NewScorer(lm, h.batchSize); err != nil {
			fmt.Fprintf(h.log, "\nbenchmarks: %v\n", err)
			return
		}
	}
	rep, err := evaluate.Run(h.s, h.tasks, h.opts)
	if err != nil {
		fmt.Fprintf(h.log, "\nbenchmarks at step %d: %v\n", t.Step, err)
		return
	}
	f, err := os.OpenFile(filepath.Join(t.Cfg.OutDir, "benchmarks.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintf(h.log, "\nbenchmarks: %v\n", err)
		return
	}
	defer f.Close()
	for _, m := range rep.Results {
		name := m.Task + " " + m.Metric
		if m.Filter != "" {
			name += " (" + m.Filter + ")"
		}
		fmt.Fprintf(h.log, "\nstep %d | %s: %.4f", t.Step, name, float64(m.Value))
		line, _ := json.Marshal(struct {
			Step int64 `json:"step"`
			evaluate.Metric
		}{t.Step, m})
		f.Write(append(line, '\n'))
	}
	fmt.Fprintln(h.log)
}
