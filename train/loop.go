package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/memory"
	"github.com/golem-ml/golem/tokenizer"
)

// Batch is one batch of rows of T+1 tokens, [rows*(T+1)] int32, with the weight of each
// target position, [rows*T] float32 (nil = every target counts).
type Batch struct {
	Tokens  []int32
	Weights []float32
}

// Source feeds the loop. Train must be a pure function of the step (that is what makes resume
// exact); Eval is the fixed validation set.
type Source interface {
	Train(step int64) Batch
	Eval() []Batch
}

// LoaderSource serves pretraining batches from data loaders.
type LoaderSource struct {
	TrainLoader, ValLoader *data.Loader
	EvalBatches            int // validation batches (the first ones of the held-out split)
}

// Loop trains t from its current step to Cfg.Train.Steps: logging, evaluation, checkpoints,
// the NaN guard's abort rule, a final checkpoint, loss plot and sample. It is shared by
// pretraining and fine-tuning.
func Loop(ctx context.Context, t *Trainer, src Source, tok tokenizer.Tokenizer, mgr *checkpoint.Manager, st checkpoint.State, opts Options) (*Summary, error) {
	cfg := t.Cfg
	log := opts.Log
	if log == nil {
		log = os.Stderr
	}
	T, B := cfg.Model.SeqLen, cfg.Train.BatchSize
	evalBatches := src.Eval()
	if err := CheckMemory(cfg, t.trainableParams(), t.Backend.String() == "go"); err != nil { // the Go backend keeps activations in host memory
		return nil, err
	}
	// Every check is done by now (a rejected resume never gets here): the run folder's
	// config.yaml becomes this run's.
	if err := writeRunConfig(cfg); err != nil {
		return nil, err
	}
	metrics, err := OpenMetrics(filepath.Join(cfg.OutDir, "metrics.jsonl"), st.Step)
	if err != nil {
		return nil, err
	}
	defer metrics.Close()

	prog := newProgress(log, opts.Quiet, cfg.Train.Steps, cfg.Train.LogEvery, t.Step)
	sum := &Summary{StartStep: t.Step, FirstLoss: math.NaN()}
	save := func() error {
		st.Step, st.BadInRow, st.DataStep = t.Step, t.BadInRow, t.Step
		files, err := t.Files(st, tok)
		if err != nil {
			return err
		}
		for _, cb := range opts.Callbacks {
			extra, err := cb.CheckpointFiles(t)
			if err != nil {
				return fmt.Errorf("checkpoint files at step %d: %w", t.Step, err)
			}
			for name, b := range extra {
				files[name] = b
			}
		}
		if sum.Checkpoint, err = mgr.Save(t.Step, files); err == nil {
			prog.event("step %d: saved checkpoint %s", t.Step, sum.Checkpoint)
		}
		return err
	}
	lastEval := int64(-1)
	// evaluate runs a validation pass; stop says a callback asked to end the run.
	evaluate := func() (stop bool, err error) {
		if len(evalBatches) == 0 || lastEval == t.Step {
			return false, nil // nothing to evaluate, or this step's validation pass already ran
		}
		lastEval = t.Step
		vl, err := t.EvalLoss(evalBatches)
		if err != nil {
			return false, err
		}
		sum.ValLoss = vl
		prog.event("step %d: val loss %.4f (ppl %.2f)", t.Step, vl, math.Exp(vl))
		improved := st.BestValLoss == 0 || vl < st.BestValLoss
		if improved {
			st.BestValLoss = vl
		}
		for _, cb := range opts.Callbacks {
			s, err := cb.OnEval(t, vl, improved)
			if err != nil {
				return false, fmt.Errorf("validation callback at step %d: %w", t.Step, err)
			}
			stop = stop || s
		}
		return stop, metrics.Write(Metric{Step: t.Step, ValLoss: vl, ValPPL: math.Exp(vl)})
	}

	for _, cb := range opts.Callbacks {
		if err := cb.OnStart(t, tok); err != nil {
			return nil, fmt.Errorf("start callback at step %d: %w", t.Step, err)
		}
	}
	start, compute := time.Now(), time.Duration(0)
	ranSteps, timedTokens := 0, int64(0)
	// The next step's batch is read while the device runs this one (src.Train calls stay
	// sequential: each starts after the previous one was received).
	next := prefetch(src, t.Step)
	for t.Step < int64(cfg.Train.Steps) {
		if ctx.Err() != nil {
			fmt.Fprintf(log, "\ninterrupted at step %d; saving a checkpoint\n", t.Step)
			break
		}
		batch := <-next
		if t.Step+1 < int64(cfg.Train.Steps) {
			next = prefetch(src, t.Step+1)
		}
		stepStart := time.Now()
		res, err := t.TrainStep(batch.Tokens, batch.Weights)
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
		for _, cb := range opts.Callbacks {
			if err := cb.OnStep(t, res); err != nil {
				return nil, fmt.Errorf("step callback at step %d: %w", t.Step, err)
			}
		}
		if math.IsNaN(sum.FirstLoss) {
			sum.FirstLoss = res.Loss
		}
		if res.Skipped {
			fmt.Fprintf(log, "\nstep %d: loss %v, grad norm %v is not finite: update skipped (%d in a row)\n", t.Step-1, res.Loss, res.GradNorm, t.BadInRow)
			if err := metrics.Write(Metric{Step: t.Step, Loss: res.Loss, GradNorm: res.GradNorm, LR: res.LR, Skipped: true}); err != nil {
				return nil, err
			}
			if t.BadInRow >= cfg.Train.MaxBadSteps {
				return nil, fmt.Errorf("aborting: %d non-finite steps in a row (train.max_bad_steps = %d); the last good checkpoint is %q; lower optimizer.lr or check the data", t.BadInRow, cfg.Train.MaxBadSteps, sum.Checkpoint)
			}
		} else {
			sum.FinalLoss = res.Loss
			tps := float64(B*T) / dt.Seconds()
			prog.step(t.Step, res.Loss, tps)
			if t.Step%int64(cfg.Train.LogEvery) == 0 || t.Step == int64(cfg.Train.Steps) {
				if err := metrics.Write(Metric{Step: t.Step, Loss: res.Loss, GradNorm: res.GradNorm, LR: res.LR, TokensPerSec: tps, Elapsed: st.ElapsedSec}); err != nil {
					return nil, err
				}
			}
		}
		if cfg.Train.EvalEvery > 0 && t.Step%int64(cfg.Train.EvalEvery) == 0 && t.Step < int64(cfg.Train.Steps) {
			stop, err := evaluate()
			if err != nil {
				return nil, err
			}
			if stop {
				fmt.Fprintf(log, "\nstopping early at step %d\n", t.Step)
				break
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
	prog.finish()
	if _, err := evaluate(); err != nil {
		return nil, err
	}
	if err := save(); err != nil {
		return nil, err
	}
	if err := PlotLoss(filepath.Join(cfg.OutDir, "metrics.jsonl"), filepath.Join(cfg.OutDir, "loss.png"), cfg.Name); err != nil {
		fmt.Fprintf(log, "loss plot: %v\n", err)
	}
	sum.Steps = t.Step
	if compute > 0 {
		sum.TokensPerSec = float64(timedTokens) / compute.Seconds()
		sum.GFlops = sum.TokensPerSec * cfg.Model.FlopsPerToken() / 1e9
		peak := Peak(t.Backend, cfg.Train.DType, cfg.Train.PeakTFlops)
		sum.PeakGFlops, sum.PeakSource = peak.GFlops, cfg.Train.DType+"; "+peak.Source
		sum.MFU = sum.GFlops / sum.PeakGFlops
	}
	if cfg.Sample.Tokens > 0 && ctx.Err() == nil { // no sample after Ctrl-C
		if sum.Sample, err = closingSample(ctx, t, tok, sum.Checkpoint, log); err != nil {
			return nil, err
		}
	}
	sum.PeakRSS = memory.PeakRSS()
	fmt.Fprintln(log, sum.line(time.Since(start)))
	return sum, nil
}

// line is the run's closing summary. The figures are this process's steps only: a resumed
// run says where it started, and a run stopped before its first step has no figures.
func (s *Summary) line(elapsed time.Duration) string {
	steps := fmt.Sprintf("%d steps", s.Steps)
	if s.StartStep > 0 {
		steps = fmt.Sprintf("steps %d -> %d (%d in this run)", s.StartStep, s.Steps, s.Steps-s.StartStep)
	}
	if s.Steps == s.StartStep {
		return fmt.Sprintf("done: stopped at step %d before training a step | checkpoint %s", s.Steps, s.Checkpoint)
	}
	speed := "speed not measured (the one step run includes compilation)"
	if s.TokensPerSec > 0 {
		speed = fmt.Sprintf("%.0f tok/s, %.1f GFLOP/s, MFU %.1f%% of %.1f GFLOP/s matmul peak (%s)", s.TokensPerSec, s.GFlops, 100*s.MFU, s.PeakGFlops, s.PeakSource)
	}
	return fmt.Sprintf("done: %s in %s | train loss %.4f -> %.4f | val loss %.4f (ppl %.2f) | %s | peak RSS %d MiB | checkpoint %s",
		steps, elapsed.Round(time.Second), s.FirstLoss, s.FinalLoss, s.ValLoss, math.Exp(s.ValLoss), speed, s.PeakRSS>>20, s.Checkpoint)
}

// prefetch reads the batch of a step in the background.
func prefetch(src Source, step int64) <-chan Batch {
	ch := make(chan Batch, 1)
	go func() { ch <- src.Train(step) }()
	return ch
}

// Train is the batch for a step: every row of the loader's batch, all targets counted.
func (s *LoaderSource) Train(step int64) Batch {
	return Batch{Tokens: s.TrainLoader.Batch(step, 0, s.TrainLoader.BatchSize())}
}

// Eval is the first EvalBatches batches of the validation split, in order.
func (s *LoaderSource) Eval() []Batch {
	v, B := s.ValLoader, int64(s.ValLoader.BatchSize())
	var out []Batch
	for i := int64(0); i < int64(s.EvalBatches) && i < v.StepsPerEpoch(); i++ {
		out = append(out, Batch{Tokens: v.Batch(i, 0, int(min(B, v.NumWindows()-i*B)))})
	}
	return out
}
