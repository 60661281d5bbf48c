package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/lora"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// StateFile is the fine-tuning state saved with every checkpoint (best validation loss and
// early-stopping counter), so a resumed run tracks the best checkpoint as an uninterrupted one.
const StateFile = "finetune_state.json"

// FinetuneFile is the resolved fine-tuning config, in out_dir and in every checkpoint.
const FinetuneFile = "finetune.yaml"

// BestDir is the folder (inside out_dir) holding the checkpoint with the lowest validation loss.
const BestDir = "best"

type ftState struct {
	BestValLoss float64 `json:"best_val_loss"` // 0 = no validation pass yet
	BestStep    int64   `json:"best_step"`
	BadEvals    int     `json:"bad_evals"` // validation passes since the last improvement
	LastEval    int64   `json:"last_eval"` // step of the last counted validation pass
}

// Result is what a fine-tuning run reports.
type Result struct {
	*train.Summary
	Best         string  // checkpoint with the lowest validation loss ("" without validation)
	BestValLoss  float64 // its loss
	StoppedEarly bool
	TrainRows    int
	ValRows      int
	Trainable    int // parameters the optimizer updates
}

// Data is a run's prepared data.
type Data struct {
	Train, Val         *Dataset
	TrainToks, ValToks []Tokens
	TrainEx, ValEx     []Example
}

// PrepareData reads, renders, tokenizes and splits the examples of a run, reporting problems
// to log, and fails when too many records are unusable.
func PrepareData(dc DataConfig, tok tokenizer.Tokenizer, T int, seed uint64, log io.Writer) (*Data, error) {
	d := &Data{}
	var err error
	if d.Train, err = ReadFiles(dc.Train, dc); err != nil {
		return nil, err
	}
	toks := Encode(d.Train, tok, T, dc)
	d.Train.Report(log, "data.train", dc.ShowProblems)
	if err := d.Train.CheckBad(dc.MaxBadFraction, "data.train"); err != nil {
		return nil, err
	}
	if len(dc.Val) > 0 {
		if d.Val, err = ReadFiles(dc.Val, dc); err != nil {
			return nil, err
		}
		d.ValToks = Encode(d.Val, tok, T, dc)
		d.Val.Report(log, "data.val", dc.ShowProblems)
		if err := d.Val.CheckBad(dc.MaxBadFraction, "data.val"); err != nil {
			return nil, err
		}
		d.TrainToks, d.TrainEx, d.ValEx = toks, d.Train.Examples, d.Val.Examples
		return d, nil
	}
	// Hold out a seeded fraction of the examples (all rows of a split example go together).
	n := len(d.Train.Examples)
	nVal := int(math.Round(dc.ValFraction * float64(n)))
	if dc.ValFraction > 0 && nVal == 0 && n >= 2 {
		nVal = 1
	}
	if nVal >= n {
		return nil, fmt.Errorf("data: %d usable examples cannot be split into training and validation (data.val_fraction = %g)", n, dc.ValFraction)
	}
	perm := rand.New(rand.NewPCG(seed, 0xfa1)).Perm(n)
	isVal := make([]bool, n)
	for _, i := range perm[:nVal] {
		isVal[i] = true
	}
	for i, e := range d.Train.Examples {
		if isVal[i] {
			d.ValEx = append(d.ValEx, e)
		} else {
			d.TrainEx = append(d.TrainEx, e)
		}
	}
	for _, t := range toks {
		if isVal[t.Example] {
			d.ValToks = append(d.ValToks, t)
		} else {
			d.TrainToks = append(d.TrainToks, t)
		}
	}
	return d, nil
}

// Run fine-tunes cfg.Base on cfg.Data (or resumes with opts.Resume): full or LoRA, on the
// pretraining loop, with best-checkpoint tracking and early stopping. opts.Callbacks, when
// set, are called after the run's own.
func Run(ctx context.Context, cfg Config, opts train.Options) (*Result, error) {
	log := opts.Log
	if log == nil {
		log = os.Stderr
		opts.Log = log
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Backend == nil {
		b, err := backends.New("")
		if err != nil {
			return nil, err
		}
		opts.Backend = b
	}
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join("checkpoints", cfg.Name)
	}
	baseDir, err := checkpoint.Resolve(cfg.Base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	if checkpoint.Has(baseDir, lora.AdapterFile) {
		return nil, fmt.Errorf("base %s is a LoRA checkpoint (it has %s); merge it first: finetune merge --base %s --out DIR", baseDir, lora.AdapterFile, baseDir)
	}
	baseCfg, tok, err := ReadBase(baseDir)
	if err != nil {
		return nil, err
	}
	mgr := &checkpoint.Manager{Dir: cfg.OutDir, KeepLast: cfg.Ckpt.KeepLast, KeepEvery: cfg.Ckpt.KeepEvery}
	resumeFrom := ""
	if opts.Resume {
		if resumeFrom, err = mgr.Latest(); err != nil {
			return nil, err
		}
		if resumeFrom == "" {
			fmt.Fprintf(log, "resume: no complete checkpoint in %s; starting fresh\n", cfg.OutDir)
		}
	}
	T := baseCfg.Model.SeqLen
	prep, err := PrepareData(cfg.Data, tok, T, cfg.Train.Seed, log)
	if err != nil {
		return nil, err
	}
	pad := int32(max(tok.EOT(), 0))
	trainRows, trainW := Rows(prep.TrainToks, T, cfg.Data.Pack, pad)
	valRows, valW := Rows(prep.ValToks, T, false, pad)
	tc := cfg.trainConfig(baseCfg, len(trainRows))
	nValBatches := (len(valRows) + tc.Train.BatchSize - 1) / tc.Train.BatchSize
	tc.Train.EvalBatches = max(1, min(tc.Train.EvalBatches, nValBatches))
	if tc.Sample.Prompt == "" {
		ex := prep.TrainEx
		if len(prep.ValEx) > 0 {
			ex = prep.ValEx
		}
		if tc.Sample.Prompt = ex[0].Prompt(); tc.Sample.Prompt == "" {
			tc.Sample.Prompt = "\n"
		}
	}
	// The run's data section records the fine-tuning files; train's own data checks (for
	// pretraining corpora) do not apply to them.
	tc.Data = data.Config{Train: cfg.Data.Train, Val: cfg.Data.Val, ValFraction: cfg.Data.ValFraction}
	chk := tc
	chk.Data = data.Config{Train: []string{"-"}, ValFraction: 0.5}
	if err := chk.Validate(); err != nil {
		return nil, err
	}
	if resumeFrom != "" {
		if err := sameModel(tc, resumeFrom); err != nil {
			return nil, err
		}
	}
	t, err := train.New(tc, opts.Backend)
	if err != nil {
		return nil, err
	}
	if _, err := t.Restore(baseDir, false); err != nil {
		return nil, fmt.Errorf("loading base weights: %w", err)
	}
	var ad *lora.Adapter
	if cfg.Method == "lora" {
		if ad, err = lora.NewAdapter(t.Store, tc.Model, cfg.LoRA, tc.Train.Seed); err != nil {
			return nil, err
		}
		t.Params = adapterParams(ad)
		t.Weights = ad.Wrap(t.Weights)
	}
	st := checkpoint.State{DataSeed: tc.Train.Seed}
	fs := ftState{}
	if resumeFrom != "" {
		if st, err = t.Restore(resumeFrom, true); err != nil {
			return nil, err
		}
		if checkpoint.Has(resumeFrom, StateFile) {
			b, err := checkpoint.Read(resumeFrom, StateFile)
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(b, &fs); err != nil {
				return nil, fmt.Errorf("%s/%s: %w", resumeFrom, StateFile, err)
			}
		}
		fmt.Fprintf(log, "resumed from %s at step %d\n", resumeFrom, st.Step)
	} else if err := t.InitOptimizer(); err != nil {
		return nil, err
	}
	src := NewSource(trainRows, trainW, valRows, valW, tc.Train.BatchSize, tc.Train.Seed, tc.Train.EvalBatches, pad)
	res := &Result{TrainRows: len(trainRows), ValRows: len(valRows)}
	for _, p := range t.Params {
		res.Trainable += t.Store.GetVariable(p.Path).Shape().Size()
	}
	targets := 0
	for _, w := range trainW {
		for _, x := range w {
			targets += int(x)
		}
	}
	fmt.Fprintf(log, "fine-tuning %s (%s) | %.2fM params, %d trainable | %d train examples in %d rows (%d trained targets of %d slots), %d val examples | %d steps of %d rows, lr %g\n",
		baseDir, cfg.Method, float64(tc.Model.NumParams())/1e6, res.Trainable, len(prep.TrainEx), len(trainRows), targets, len(trainRows)*T,
		len(prep.ValEx), tc.Train.Steps, tc.Train.BatchSize, tc.Optimizer.LR)
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, err
	}
	cfgYAML, err := config.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.OutDir, FinetuneFile), cfgYAML, 0o644); err != nil {
		return nil, err
	}

	hooks := &runHooks{cfg: cfg, tc: tc, tok: tok, ad: ad, baseDir: baseDir, cfgYAML: cfgYAML, fs: &fs, res: res, log: log,
		best: &checkpoint.Manager{Dir: filepath.Join(cfg.OutDir, BestDir), KeepLast: 1}}
	bestMgr := hooks.best
	// The run's own hooks go first, so the caller's see the best checkpoint already saved.
	opts.Callbacks = append([]train.Callbacks{hooks}, opts.Callbacks...)
	if resumeFrom != "" && cfg.EarlyStop.Patience > 0 && fs.BadEvals >= cfg.EarlyStop.Patience {
		fmt.Fprintf(log, "the run in %s stopped early at step %d (no improvement on %.4f since step %d); nothing to resume\n", cfg.OutDir, st.Step, fs.BestValLoss, fs.BestStep)
		res.Summary, res.BestValLoss, res.StoppedEarly = &train.Summary{Steps: st.Step, Checkpoint: resumeFrom, ValLoss: math.NaN()}, fs.BestValLoss, true
		res.Best, _ = bestMgr.Latest()
		return res, nil
	}
	sum, err := train.Loop(ctx, t, src, tok, mgr, st, opts)
	if err != nil {
		return nil, err
	}
	res.Summary, res.BestValLoss = sum, fs.BestValLoss
	if res.Best == "" && fs.BestStep > 0 {
		res.Best, _ = bestMgr.Latest()
	}
	if res.Best != "" {
		fmt.Fprintf(log, "best: val loss %.4f at step %d in %s\n", fs.BestValLoss, fs.BestStep, res.Best)
	}
	return res, nil
}

// sameModel refuses to resume a run folder whose checkpoints were fine-tuned from another base model.
func sameModel(tc train.Config, dir string) error {
	_, saved, err := inference.ReadModelConfig(dir)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(saved, tc.Model) {
		return fmt.Errorf("resume: %s was fine-tuned from a different model (%+v) than the base (%+v); use a new out_dir", dir, saved, tc.Model)
	}
	return nil
}

// adapterParams are the variables a LoRA run optimizes: every A and B, with weight decay.
func adapterParams(a *lora.Adapter) []train.Param {
	var ps []train.Param
	for _, p := range a.Paths() {
		ps = append(ps, train.Param{Path: p, Decay: true})
	}
	return ps
}

// runHooks are a fine-tuning run's training callbacks: fine-tuning state and the LoRA adapter
// in every checkpoint, the best checkpoint in out/best, early stopping.
type runHooks struct {
	train.NoCallbacks
	cfg     Config
	tc      train.Config
	tok     tokenizer.Tokenizer
	ad      *lora.Adapter // nil for full fine-tuning
	baseDir string
	cfgYAML []byte
	fs      *ftState
	res     *Result
	best    *checkpoint.Manager
	log     io.Writer
}

func (h *runHooks) CheckpointFiles(*train.Trainer) (map[string][]byte, error) {
	files := map[string][]byte{FinetuneFile: h.cfgYAML}
	var err error
	if files[StateFile], err = json.MarshalIndent(h.fs, "", "  "); err != nil {
		return nil, err
	}
	if h.ad != nil {
		af, err := h.ad.Files(h.baseDir)
		if err != nil {
			return nil, fmt.Errorf("adapter files: %w", err)
		}
		for k, v := range af {
			files[k] = v
		}
	}
	return files, nil
}

func (h *runHooks) OnEval(t *train.Trainer, vl float64, improved bool) (bool, error) {
	fs, tc := h.fs, h.tc
	onSchedule := t.Step == int64(tc.Train.Steps) || (tc.Train.EvalEvery > 0 && t.Step%int64(tc.Train.EvalEvery) == 0)
	if !onSchedule || t.Step == fs.LastEval {
		// train.Loop validates again when a process ends (StopAfter, interrupt, early stop):
		// off the schedule, or a repeat of the step's pass. Counting it would make a
		// resumed run track a different best than an uninterrupted one.
		return false, nil
	}
	fs.LastEval = t.Step
	if fs.BestValLoss == 0 || vl < fs.BestValLoss-h.cfg.EarlyStop.MinDelta {
		fs.BestValLoss, fs.BestStep, fs.BadEvals = vl, t.Step, 0
		files, err := t.Files(checkpoint.State{Step: t.Step, DataSeed: tc.Train.Seed, DataStep: t.Step, BestValLoss: vl}, h.tok)
		if err != nil {
			return false, fmt.Errorf("saving the best checkpoint: %w", err)
		}
		extra, err := h.CheckpointFiles(t)
		if err != nil {
			return false, fmt.Errorf("saving the best checkpoint: %w", err)
		}
		for k, v := range extra {
			files[k] = v
		}
		if h.res.Best, err = h.best.Save(t.Step, files); err != nil {
			return false, fmt.Errorf("saving the best checkpoint: %w", err)
		}
	} else {
		fs.BadEvals++
	}
	if p := h.cfg.EarlyStop.Patience; p > 0 && fs.BadEvals >= p {
		h.res.StoppedEarly = true
		fmt.Fprintf(h.log, "\nearly stop: validation loss has not improved on %.4f (step %d) for %d validation passes\n", fs.BestValLoss, fs.BestStep, fs.BadEvals)
		return true, nil
	}
	return false, nil
}
