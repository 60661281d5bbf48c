package train

import "github.com/golem-ml/golem/tokenizer"

// Callbacks are the training loop's hooks: a live loss plot in a notebook, best-checkpoint
// tracking and early stopping in fine-tuning, and benchmark scoring during pretraining
// (cmd/pretrain's benchmarks) plug in here. Every method returns an error, which ends the run with that
// error wrapped with the step. Embed NoCallbacks to implement only some of the methods.
type Callbacks interface {
	// OnStart is called once before the loop's first step (in this process: after a resume too),
	// with the run's tokenizer.
	OnStart(t *Trainer, tok tokenizer.Tokenizer) error
	// OnStep is called after every training step; t.Step is the number of steps done.
	OnStep(t *Trainer, res StepResult) error
	// OnEval is called after every validation pass with the validation loss and whether it is
	// the run's best so far. stop = true ends the run after the pass, with a checkpoint (early
	// stopping); it is honoured on the evaluation schedule (train.eval_every), not after the
	// closing pass.
	OnEval(t *Trainer, valLoss float64, improved bool) (stop bool, err error)
	// CheckpointFiles returns files to add to the checkpoint being saved at t.Step (e.g. a
	// LoRA adapter); nil adds nothing.
	CheckpointFiles(t *Trainer) (map[string][]byte, error)
}

// NoCallbacks implements Callbacks with methods that do nothing; embed it in a struct that
// needs only some of the hooks.
type NoCallbacks struct{}

func (NoCallbacks) OnStart(*Trainer, tokenizer.Tokenizer) error         { return nil }
func (NoCallbacks) OnStep(*Trainer, StepResult) error                   { return nil }
func (NoCallbacks) OnEval(*Trainer, float64, bool) (bool, error)        { return false, nil }
func (NoCallbacks) CheckpointFiles(*Trainer) (map[string][]byte, error) { return nil, nil }
