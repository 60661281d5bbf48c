package train

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/tokenizer"
)

// recorder is a Callbacks that records what the loop told it and can fail or stop on cue.
type recorder struct {
	starts    int
	vocab     int // the vocabulary size of the tokenizer OnStart got
	steps     []int64
	losses    []float64
	evals     []int64
	failAt    int64 // OnStep returns an error at this step (0 = never)
	stopAfter int   // OnEval asks to stop after this many passes (0 = never)
}

func (r *recorder) OnStart(t *Trainer, tok tokenizer.Tokenizer) error {
	r.starts, r.vocab = r.starts+1, tok.VocabSize()
	return nil
}

func (r *recorder) OnStep(t *Trainer, res StepResult) error {
	r.steps, r.losses = append(r.steps, t.Step), append(r.losses, res.Loss)
	if t.Step == r.failAt {
		return errors.New("plot window closed")
	}
	return nil
}

func (r *recorder) OnEval(t *Trainer, valLoss float64, improved bool) (bool, error) {
	r.evals = append(r.evals, t.Step)
	return r.stopAfter > 0 && len(r.evals) >= r.stopAfter, nil
}

func (r *recorder) CheckpointFiles(t *Trainer) (map[string][]byte, error) {
	return map[string][]byte{"note.txt": []byte("from a callback")}, nil
}

func TestCallbacksSeeEveryStepAndEval(t *testing.T) {
	cfg := tinyConfig(t, "train.steps=6", "train.eval_every=2", "train.eval_batches=1", "checkpoint.every=0")
	r := &recorder{}
	if _, err := Pretrain(context.Background(), cfg, Options{Backend: backend(t), Text: corpus.TextSource{}, Quiet: true, Log: &bytes.Buffer{}, Callbacks: []Callbacks{r, NoCallbacks{}}}); err != nil {
		t.Fatal(err)
	}
	if want := tokenizer.NewByte().VocabSize(); r.starts != 1 || r.vocab != want {
		t.Errorf("OnStart called %d times with a tokenizer of %d ids, want once with the byte tokenizer's %d", r.starts, r.vocab, want)
	}
	if len(r.steps) != 6 || r.steps[0] != 1 || r.steps[5] != 6 || r.losses[0] <= 0 {
		t.Errorf("OnStep saw steps %v losses %v, want 1..6 with losses", r.steps, r.losses)
	}
	if want := []int64{2, 4, 6}; len(r.evals) != 3 || r.evals[0] != want[0] || r.evals[2] != want[2] {
		t.Errorf("OnEval saw steps %v, want %v", r.evals, want)
	}
	last, err := (&checkpoint.Manager{Dir: cfg.OutDir}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := checkpoint.Read(last, "note.txt"); err != nil || string(b) != "from a callback" {
		t.Errorf("checkpoint %s: callback file %q, %v", last, b, err)
	}
}

func TestCallbackErrorEndsRunAndStopEndsEarly(t *testing.T) {
	cfg := tinyConfig(t, "train.steps=20", "train.eval_every=0", "checkpoint.every=0")
	_, err := Pretrain(context.Background(), cfg, Options{Backend: backend(t), Text: corpus.TextSource{}, Quiet: true, Log: &bytes.Buffer{}, Callbacks: []Callbacks{&recorder{failAt: 3}}})
	if err == nil || !strings.Contains(err.Error(), "step callback at step 3: plot window closed") {
		t.Fatalf("want the callback's error with its step, got %v", err)
	}
	cfg = tinyConfig(t, "train.steps=20", "train.eval_every=2", "train.eval_batches=1", "checkpoint.every=0")
	sum, err := Pretrain(context.Background(), cfg, Options{Backend: backend(t), Text: corpus.TextSource{}, Quiet: true, Log: &bytes.Buffer{}, Callbacks: []Callbacks{&recorder{stopAfter: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Steps != 4 {
		t.Errorf("a callback asked to stop at the 2nd validation pass (step 4); the run ended at step %d", sum.Steps)
	}
}
