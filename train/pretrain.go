package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/gomlx/compute"
	"github.com/schollz/progressbar/v3"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/tokenizer"
)

// Options are the knobs of a run that are not part of its config.
type Options struct {
	Backend compute.Backend
	Resume  bool      // continue from the newest complete checkpoint in OutDir
	Log     io.Writer // progress and summary; nil = os.Stderr
	Quiet   bool      // no progress bar
	// StopAfter ends the run (with a checkpoint) after this many steps in this process; 0 = no limit.
	StopAfter int
	// Poison makes the loss NaN at the given step (fault-injection tests of the guard).
	Poison func(step int64) bool
}

// Summary is what a finished run reports.
type Summary struct {
	Steps        int64
	TokensPerSec float64
	GFlops       float64 // achieved model FLOP/s, in GFLOP/s
	PeakGFlops   float64 // measured matmul peak of the backend
	MFU          float64 // GFlops / PeakGFlops
	FirstLoss    float64
	FinalLoss    float64
	ValLoss      float64
	Sample       string
	Checkpoint   string
}

// Pretrain runs (or resumes) a pretraining run from cfg: tokenizer, data, model, loop,
// checkpoints, metrics and a closing sample.
func Pretrain(ctx context.Context, cfg Config, opts Options) (*Summary, error) {
	log := opts.Log
	if log == nil {
		log = os.Stderr
	}
	mgr := &checkpoint.Manager{Dir: filepath.Join(cfg.OutDir), KeepLast: cfg.Ckpt.KeepLast, KeepEvery: cfg.Ckpt.KeepEvery}
	resumeFrom := ""
	if opts.Resume {
		var err error
		if resumeFrom, err = mgr.Latest(); err != nil {
			return nil, err
		}
		if resumeFrom == "" {
			fmt.Fprintf(log, "resume: no complete checkpoint in %s; starting fresh\n", cfg.OutDir)
		}
	}
	tok, err := loadTokenizer(cfg, resumeFrom)
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
	trainToks, valToks, err := data.Open(cfg.Data, tok)
	if err != nil {
		return nil, err
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
	st := State{DataSeed: cfg.Train.Seed}
	if resumeFrom != "" {
		if st, err = t.Restore(resumeFrom, true); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "resumed from %s at step %d\n", resumeFrom, st.Step)
	} else if err := t.InitOptimizer(); err != nil {
		return nil, err
	}
	if err := writeRunConfig(cfg); err != nil {
		return nil, err
	}
	metrics, err := OpenMetrics(filepath.Join(cfg.OutDir, "metrics.jsonl"), st.Step)
	if err != nil {
		return nil, err
	}
	defer metrics.Close()

	fmt.Fprintf(log, "backend %s | model %.2fM params, %d layers, width %d, ctx %d, vocab %d | data %d train / %d val tokens\n",
		opts.Backend.Name(), float64(cfg.Model.NumParams())/1e6, cfg.Model.Layers, cfg.Model.Width, T, cfg.Model.VocabSize,
		trainToks.Len(), valToks.Len())

	evalBatches := make([][]int32, 0, cfg.Train.EvalBatches)
	for i := int64(0); i < int64(cfg.Train.EvalBatches) && i < valLoader.StepsPerEpoch(); i++ {
		evalBatches = append(evalBatches, valLoader.Batch(i, 0, int(min(int64(B), valLoader.NumWindows()-i*int64(B)))))
	}
	var bar *progressbar.ProgressBar
	if !opts.Quiet {
		bar = progressbar.NewOptions64(int64(cfg.Train.Steps), progressbar.OptionSetWriter(log),
			progressbar.OptionSetWidth(25), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowDescriptionAtLineEnd())
		_ = bar.Set64(t.Step)
	}
	sum := &Summary{FirstLoss: math.NaN()}
	save := func() error {
		st.Step, st.BadInRow, st.DataStep = t.Step, t.BadInRow, t.Step
		files, err := t.Files(st, tok)
		if err != nil {
			return err
		}
		sum.Checkpoint, err = mgr.Save(t.Step, files)
		return err
	}
	evaluate := func() error {
		if len(evalBatches) == 0 {
			return nil
		}
		vl, err := t.EvalLoss(evalBatches)
		if err != nil {
			return err
		}
		sum.ValLoss = vl
		if st.BestValLoss == 0 || vl < st.BestValLoss {
			st.BestValLoss = vl
		}
		return metrics.Write(Metric{Step: t.Step, ValLoss: vl, ValPPL: math.Exp(vl)})
	}

	start, compute := time.Now(), time.Duration(0)
	ranSteps, timedTokens := 0, int64(0)
	for t.Step < int64(cfg.Train.Steps) {
		if ctx.Err() != nil {
			fmt.Fprintf(log, "\ninterrupted at step %d; saving a checkpoint\n", t.Step)
			break
		}
		batch := trainLoader.Batch(t.Step, 0, B)
		stepStart := time.Now()
		res, err := t.TrainStep(batch, nil, opts.Poison != nil && opts.Poison(t.Step))
		if err != nil {
			return nil, err
		}
		dt := time.Since(stepStart)
		if ranSteps > 0 { // the first step includes compilation
			compute += dt
			timedTokens += int64(B * T)
		}
		ranSteps++
		st.TokensSeen += int64(B * T)
		st.ElapsedSec += dt.Seconds()
		if math.IsNaN(sum.FirstLoss) {
			sum.FirstLoss = res.Loss
		}
		if res.Skipped {
			fmt.Fprintf(log, "\nstep %d: loss %v, grad norm %v is not finite: update skipped (%d in a row)\n", t.Step-1, res.Loss, res.GradNorm, t.BadInRow)
			if err := metrics.Write(Metric{Step: t.Step, Loss: res.Loss, GradNorm: res.GradNorm, LR: res.LR, Skipped: true}); err != nil {
				return nil, err
			}
			if t.BadInRow >= cfg.Train.MaxBadSteps {
				return nil, fmt.Errorf("aborting: %d non-finite steps in a row (train.max_bad_steps = %d); the last good checkpoint is %s; lower optimizer.lr or check the data", t.BadInRow, cfg.Train.MaxBadSteps, sum.Checkpoint)
			}
			continue
		}
		sum.FinalLoss = res.Loss
		tps := float64(B*T) / dt.Seconds()
		if bar != nil {
			bar.Describe(fmt.Sprintf("loss %.4f | %.0f tok/s", res.Loss, tps))
			_ = bar.Set64(t.Step)
		}
		if t.Step%int64(cfg.Train.LogEvery) == 0 || t.Step == int64(cfg.Train.Steps) {
			if err := metrics.Write(Metric{Step: t.Step, Loss: res.Loss, GradNorm: res.GradNorm, LR: res.LR, TokensPerSec: tps, Elapsed: st.ElapsedSec}); err != nil {
				return nil, err
			}
		}
		if cfg.Train.EvalEvery > 0 && t.Step%int64(cfg.Train.EvalEvery) == 0 && t.Step < int64(cfg.Train.Steps) {
			if err := evaluate(); err != nil {
				return nil, err
			}
		}
		if cfg.Ckpt.Every > 0 && t.Step%int64(cfg.Ckpt.Every) == 0 && t.Step < int64(cfg.Train.Steps) {
			if err := save(); err != nil {
				return nil, err
			}
		}
		if opts.StopAfter > 0 && ranSteps >= opts.StopAfter {
			break
		}
	}
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(log)
	}
	if err := evaluate(); err != nil {
		return nil, err
	}
	if err := save(); err != nil {
		return nil, err
	}
	if err := PlotLoss(filepath.Join(cfg.OutDir, "metrics.jsonl"), filepath.Join(cfg.OutDir, "loss.png")); err != nil {
		fmt.Fprintf(log, "loss plot: %v\n", err)
	}
	sum.Steps = t.Step
	if compute > 0 {
		sum.TokensPerSec = float64(timedTokens) / compute.Seconds()
		sum.GFlops = sum.TokensPerSec * cfg.Model.FlopsPerToken() / 1e9
		sum.PeakGFlops = MatmulPeak(opts.Backend)
		sum.MFU = sum.GFlops / sum.PeakGFlops
	}
	if cfg.Sample.Tokens > 0 {
		gen, err := generate.New(opts.Backend, t.Store, cfg.Model, t.Weights)
		if err != nil {
			return nil, err
		}
		ids, err := gen.Generate(tok.Encode(cfg.Sample.Prompt), generate.Options{MaxTokens: cfg.Sample.Tokens,
			Temperature: cfg.Sample.Temperature, TopK: cfg.Sample.TopK, Seed: cfg.Train.Seed, StopAt: -1})
		if err != nil {
			return nil, err
		}
		sum.Sample = cfg.Sample.Prompt + tok.Decode(ids)
	}
	fmt.Fprintf(log, "done: %d steps in %s | train loss %.4f -> %.4f | val loss %.4f (ppl %.2f) | %.0f tok/s, %.1f GFLOP/s, MFU %.1f%% of %.1f GFLOP/s matmul peak | checkpoint %s\n",
		sum.Steps, time.Since(start).Round(time.Second), sum.FirstLoss, sum.FinalLoss, sum.ValLoss, math.Exp(sum.ValLoss),
		sum.TokensPerSec, sum.GFlops, 100*sum.MFU, sum.PeakGFlops, sum.Checkpoint)
	return sum, nil
}

// loadTokenizer picks the run's tokenizer: the checkpoint's when resuming, else the config's.
func loadTokenizer(cfg Config, resumeFrom string) (tokenizer.Tokenizer, error) {
	if resumeFrom != "" && checkpoint.Has(resumeFrom, TokenizerFile) {
		b, err := checkpoint.Read(resumeFrom, TokenizerFile)
		if err != nil {
			return nil, err
		}
		return tokenizer.Parse(b)
	}
	switch cfg.Tokenizer.Path {
	case "byte":
		return tokenizer.NewByte(), nil
	case "":
		return trainTokenizer(cfg)
	}
	t, err := tokenizer.Load(cfg.Tokenizer.Path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.path: %w", err)
	}
	return t, nil
}

// checkSameRun refuses to resume a checkpoint whose model differs from the config.
func checkSameRun(cfg Config, dir string) error {
	b, err := checkpoint.Read(dir, ConfigFile)
	if err != nil {
		return err
	}
	var saved Config
	if err := config.Decode(b, dir+"/"+ConfigFile, &saved); err != nil {
		return err
	}
	if !reflect.DeepEqual(saved.Model, cfg.Model) {
		return fmt.Errorf("resume: the model in %s/%s differs from the config (%+v vs %+v); use a new out_dir or the same model settings", dir, ConfigFile, saved.Model, cfg.Model)
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
	tmp := filepath.Join(cfg.OutDir, ".config.yaml.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(cfg.OutDir, ConfigFile))
}
