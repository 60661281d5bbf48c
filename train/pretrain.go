package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"

	"github.com/gomlx/compute"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/atomicfile"
	"github.com/golem-ml/golem/tokenizer"
)

// Options are the knobs of a run that are not part of its config.
type Options struct {
	Backend compute.Backend
	Resume  bool // continue from the newest complete checkpoint in OutDir
	// Overwrite starts afresh in an OutDir that holds an earlier run, deleting its
	// checkpoints and metrics; without it (or Resume) such a folder is refused.
	Overwrite bool
	Log       io.Writer // progress and summary; nil = os.Stderr
	Quiet     bool      // no progress bar
	// StopAfter ends the run (with a checkpoint) after this many steps in this process; 0 = no limit.
	StopAfter int
	// Text reads the raw text (plain, JSONL, WARC/WET) that data.train and data.val may name,
	// and trains the tokenizer when tokenizer.path is empty: corpus.TextSource{} in the
	// commands. With nil, only token shards (made by prepare) can be trained on.
	Text data.TextSource
	// Callbacks are called in order at the start, each step, validation pass and checkpoint
	// (e.g. viz.LiveLoss; cmd/pretrain's benchmarks score zero-/few-shot tasks after each validation).
	Callbacks []Callbacks
}

// Summary is what a finished run reports.
type Summary struct {
	StartStep    int64 // the step the run started (or resumed) from
	Steps        int64 // the step it ended at; the figures below cover StartStep..Steps
	TokensPerSec float64
	GFlops       float64 // achieved model FLOP/s, in GFLOP/s
	PeakGFlops   float64 // the device's matmul peak for the compute dtype (train.Peak)
	PeakSource   string  // where PeakGFlops came from
	MFU          float64 // GFlops / PeakGFlops
	PeakRSS      int64   // bytes
	FirstLoss    float64
	FinalLoss    float64
	ValLoss      float64
	Sample       string
	Checkpoint   string
	// Data is what reading raw text met (records, drops, bad input); empty for token shards.
	Data *data.ReadReport
}

// Pretrain runs (or resumes) a pretraining run from cfg: tokenizer, data, model, loop,
// checkpoints, metrics and a closing sample.
func Pretrain(ctx context.Context, cfg Config, opts Options) (*Summary, error) {
	log := opts.Log
	if log == nil {
		log = os.Stderr
	}
	mgr := &checkpoint.Manager{Dir: cfg.OutDir, KeepLast: cfg.Ckpt.KeepLast, KeepEvery: cfg.Ckpt.KeepEvery}
	if err := prepareRunDir(mgr, opts, log); err != nil {
		return nil, err
	}
	resumeFrom := ""
	if opts.Resume {
		var err error
		if resumeFrom, err = mgr.Latest(); err != nil {
			return nil, err
		}
		if resumeFrom == "" {
			fmt.Fprintf(log, "resume: no complete checkpoint in %s; starting fresh\n", cfg.OutDir)
		} else if step, done, err := finished(cfg, resumeFrom, log); done || err != nil {
			return &Summary{StartStep: step, Steps: step, Checkpoint: resumeFrom, FirstLoss: math.NaN(), ValLoss: math.NaN()}, err
		}
	}
	tok, err := loadTokenizer(cfg, resumeFrom, opts.Text)
	if err != nil {
		return nil, err
	}
	if cfg.Model.VocabSize == 0 {
		cfg.Model.VocabSize = tok.VocabSize()
	}
	if cfg.Model.VocabSize < tok.VocabSize() {
		return nil, fmt.Errorf("model.vocab_size: %d is smaller than the tokenizer's %d ids", cfg.Model.VocabSize, tok.VocabSize())
	}
	if resumeFrom != "" {
		if err := checkSameRun(cfg, resumeFrom); err != nil {
			return nil, err
		}
	}
	trainToks, valToks, dataRep, err := data.OpenReport(cfg.Data, tok, opts.Text)
	if err != nil {
		return nil, err
	}
	if line := dataRep.Brief(); line != "" {
		fmt.Fprintln(log, line)
	}
	T, B := cfg.Model.SeqLen, cfg.Train.BatchSize
	trainLoader, err := data.NewLoader(trainToks, T, B, cfg.Train.Seed, true)
	if err != nil {
		return nil, fmt.Errorf("data.train: %w", err)
	}
	valLoader, err := data.NewLoader(valToks, T, B, 0, false)
	if err != nil {
		return nil, fmt.Errorf("validation split: %w", err)
	}
	t, err := New(cfg, opts.Backend)
	if err != nil {
		return nil, err
	}
	st := checkpoint.State{DataSeed: cfg.Train.Seed}
	if resumeFrom != "" {
		if st, err = t.Restore(resumeFrom, true); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "resumed from %s at step %d\n", resumeFrom, st.Step)
	} else if err := t.InitOptimizer(); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "backend %s | model %.2fM params, %d layers, width %d, ctx %d, vocab %d | data %d train / %d val tokens\n",
		opts.Backend.Name(), float64(cfg.Model.NumParams())/1e6, cfg.Model.Layers, cfg.Model.Width, T, cfg.Model.VocabSize,
		trainToks.Len(), valToks.Len())

	src := &LoaderSource{TrainLoader: trainLoader, ValLoader: valLoader, EvalBatches: cfg.Train.EvalBatches}
	sum, err := Loop(ctx, t, src, tok, mgr, st, opts)
	if err != nil {
		return nil, err
	}
	if sum.Data = dataRep; dataRep.Brief() != "" && len(dataRep.Problems) > 0 {
		fmt.Fprintln(log, dataRep.Brief()) // bad input stays in view at the end of a long log
	}
	return sum, nil
}

// finished reports (and says) that a checkpoint is already at or past train.steps: resuming it
// has nothing to do, and nothing in the run folder is touched.
func finished(cfg Config, dir string, log io.Writer) (step int64, done bool, err error) {
	if step, err = checkpoint.Step(dir); err != nil {
		return step, false, err
	}
	switch {
	case step == int64(cfg.Train.Steps):
		fmt.Fprintf(log, "already at step %d of %d; nothing to do (raise train.steps to train further)\n", step, cfg.Train.Steps)
	case step > int64(cfg.Train.Steps):
		fmt.Fprintf(log, "already at step %d, past train.steps %d; nothing to do\n", step, cfg.Train.Steps)
	default:
		return step, false, nil
	}
	return step, true, nil
}

// loadTokenizer picks the run's tokenizer: the checkpoint's when resuming, else the config's.
func loadTokenizer(cfg Config, resumeFrom string, text data.TextSource) (tokenizer.Tokenizer, error) {
	if resumeFrom != "" && checkpoint.Has(resumeFrom, checkpoint.TokenizerFile) {
		return checkpoint.ReadTokenizer(resumeFrom)
	}
	switch cfg.Tokenizer.Path {
	case "byte":
		return tokenizer.NewByte(), nil
	case "":
		return trainTokenizer(cfg, text)
	}
	t, err := tokenizer.LoadAny(cfg.Tokenizer.Path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.path: %w", err)
	}
	return t, nil
}

// checkSameRun refuses to resume a checkpoint whose model differs from the config.
func checkSameRun(cfg Config, dir string) error {
	saved, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(saved.Model, cfg.Model) {
		return fmt.Errorf("resume: the model in %s/%s differs from the config (%+v vs %+v); use a new out_dir or the same model settings", dir, checkpoint.ConfigFile, saved.Model, cfg.Model)
	}
	return nil
}

func writeRunConfig(cfg Config) error {
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return fmt.Errorf("creating run folder: %w", err)
	}
	b, err := config.Marshal(cfg)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(cfg.OutDir, checkpoint.ConfigFile), b)
}
