package train

import (
	"fmt"
	"math"

	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/models/transformer"
)

// Config is a whole pretraining run: the YAML files in configs/ are its serialized form.
type Config struct {
	Name      string             `yaml:"name"`
	OutDir    string             `yaml:"out_dir"` // run folder: config, metrics, plots and checkpoints
	Model     transformer.Config `yaml:"model"`
	Tokenizer TokenizerConfig    `yaml:"tokenizer"`
	Data      data.Config        `yaml:"data"`
	Optimizer OptimizerConfig    `yaml:"optimizer"`
	Train     LoopConfig         `yaml:"train"`
	Ckpt      CheckpointConfig   `yaml:"checkpoint"`
	Sample    SampleConfig       `yaml:"sample"`
}

// TokenizerConfig says which tokenizer the run uses.
type TokenizerConfig struct {
	// Path is "byte" (byte-level, 257 ids) or a tokenizer.json; empty with VocabSize > 0 trains a
	// byte-level BPE of that size on the training data before the run.
	Path      string `yaml:"path"`
	VocabSize int    `yaml:"vocab_size"`
}

// OptimizerConfig is AdamW with a warmup-cosine schedule and global-norm clipping.
type OptimizerConfig struct {
	LR          float64 `yaml:"lr"`           // peak learning rate
	MinLR       float64 `yaml:"min_lr"`       // floor of the cosine decay
	WarmupSteps int     `yaml:"warmup_steps"` // linear warmup from 0
	Beta1       float64 `yaml:"beta1"`        //
	Beta2       float64 `yaml:"beta2"`        //
	Eps         float64 `yaml:"eps"`          //
	WeightDecay float64 `yaml:"weight_decay"` // decoupled; matrices only by default
	DecayEmbed  bool    `yaml:"decay_embeddings"`
	GradClip    float64 `yaml:"grad_clip"` // global L2 norm; 0 = off
}

// LoopConfig is the training loop.
type LoopConfig struct {
	Steps          int    `yaml:"steps"`            // optimizer steps
	BatchSize      int    `yaml:"batch_size"`       // sequences per optimizer step
	MicroBatchSize int    `yaml:"micro_batch_size"` // sequences per forward/backward; 0 = batch_size
	Seed           uint64 `yaml:"seed"`             // initialisation, data order and dropout
	DType          string `yaml:"dtype"`            // compute dtype: float32 or bfloat16 (float32 master weights)
	EvalEvery      int    `yaml:"eval_every"`       // steps between validation passes; 0 = only at the end
	EvalBatches    int    `yaml:"eval_batches"`     // batches per validation pass
	LogEvery       int    `yaml:"log_every"`        // steps between metrics.jsonl lines
	MaxBadSteps    int    `yaml:"max_bad_steps"`    // abort after this many non-finite steps in a row
	// CheckpointActivations recomputes each block's activations in the backward pass instead of
	// keeping them (less memory, about a third more compute).
	CheckpointActivations bool `yaml:"checkpoint_activations"`
	// PeakTFlops is the device's dense matmul peak in TFLOP/s for the MFU figure; 0 = the table of
	// known accelerators, else measured once per machine and cached (see train.Peak).
	PeakTFlops float64 `yaml:"peak_tflops"`
	// DataParallel splits each (micro-)batch over the backend's local devices: "auto" (when it has
	// more than one), "on" (also with one device: the same sharded graphs), or "off".
	DataParallel string `yaml:"data_parallel"`
}

// CheckpointConfig says when checkpoints are written and which are kept.
type CheckpointConfig struct {
	Every     int `yaml:"every"`      // steps between checkpoints; 0 = only at the end
	KeepLast  int `yaml:"keep_last"`  // newest checkpoints kept
	KeepEvery int `yaml:"keep_every"` // steps whose checkpoint is never deleted; 0 = none
}

// SampleConfig is the sample printed at the end of a run.
type SampleConfig struct {
	Prompt      string  `yaml:"prompt"`
	Tokens      int     `yaml:"tokens"`
	Temperature float64 `yaml:"temperature"`
	TopK        int     `yaml:"top_k"`
}

// DefaultConfig holds the defaults every config file starts from.
func DefaultConfig() Config {
	return Config{
		Name:      "run",
		Tokenizer: TokenizerConfig{Path: "byte"},
		Data:      data.Config{ValFraction: 0.1},
		Model:     transformer.Config{Positions: transformer.Learned, Norm: transformer.LayerNorm, MLP: transformer.GELU, Bias: true, Tied: true},
		Optimizer: OptimizerConfig{LR: 1e-3, MinLR: 1e-4, WarmupSteps: 100, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1, GradClip: 1.0},
		Train:     LoopConfig{Steps: 1000, BatchSize: 16, Seed: 1337, DType: "float32", EvalEvery: 250, EvalBatches: 8, LogEvery: 10, MaxBadSteps: 5, DataParallel: "auto"},
		Ckpt:      CheckpointConfig{Every: 500, KeepLast: 3},
		Sample:    SampleConfig{Prompt: "\n", Tokens: 200, Temperature: 0.8, TopK: 40},
	}
}

// LoadConfig reads a YAML config over the defaults, applies --set overrides, fills derived
// values and validates. Errors name the file and key.
func LoadConfig(path string, overrides []string) (Config, error) {
	cfg := DefaultConfig()
	if err := config.Load(path, overrides, &cfg); err != nil {
		return cfg, err
	}
	if cfg.OutDir == "" {
		cfg.OutDir = "checkpoints/" + cfg.Name
	}
	cfg.Model.Defaults()
	if err := cfg.Validate(); err != nil {
		if path != "" {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
		return cfg, err
	}
	return cfg, nil
}

// Validate checks every section. The vocabulary size may still be 0 here (taken from the tokenizer).
func (c *Config) Validate() error {
	m := c.Model
	if m.VocabSize == 0 {
		m.VocabSize = 1 // checked again once the tokenizer is known
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := c.Data.Validate(); err != nil {
		return err
	}
	o, t := c.Optimizer, c.Train
	switch {
	case c.Tokenizer.Path == "" && c.Tokenizer.VocabSize <= 256:
		return fmt.Errorf("tokenizer.path: empty, and tokenizer.vocab_size %d is not above 256; give a tokenizer.json, \"byte\", or a vocabulary size to train", c.Tokenizer.VocabSize)
	case !(o.LR > 0): // written so that NaN fails too
		return fmt.Errorf("optimizer.lr: %g must be positive", o.LR)
	case !(o.MinLR >= 0 && o.MinLR <= o.LR):
		return fmt.Errorf("optimizer.min_lr: %g must be in [0, optimizer.lr = %g]", o.MinLR, o.LR)
	case !(o.Beta1 >= 0 && o.Beta1 < 1):
		return fmt.Errorf("optimizer.beta1: %g must be in [0, 1)", o.Beta1)
	case !(o.Beta2 >= 0 && o.Beta2 < 1):
		return fmt.Errorf("optimizer.beta2: %g must be in [0, 1)", o.Beta2)
	case !(o.Eps > 0 && o.Eps < 1):
		return fmt.Errorf("optimizer.eps: %g must be in (0, 1), e.g. 1e-8", o.Eps)
	case !(o.WeightDecay >= 0 && o.WeightDecay < 1e3):
		return fmt.Errorf("optimizer.weight_decay: %g must be >= 0 (0 turns decay off)", o.WeightDecay)
	case !(o.GradClip >= 0) || math.IsInf(o.GradClip, 0):
		return fmt.Errorf("optimizer.grad_clip: %g must be >= 0 (0 turns clipping off)", o.GradClip)
	case o.WarmupSteps < 0:
		return fmt.Errorf("optimizer.warmup_steps: %d must be >= 0", o.WarmupSteps)
	case t.Steps <= 0:
		return fmt.Errorf("train.steps: %d must be positive", t.Steps)
	case t.BatchSize <= 0:
		return fmt.Errorf("train.batch_size: %d must be positive", t.BatchSize)
	case t.MicroBatchSize < 0 || (t.MicroBatchSize > 0 && t.BatchSize%t.MicroBatchSize != 0):
		return fmt.Errorf("train.micro_batch_size: %d does not divide train.batch_size %d; gradient accumulation needs whole micro-batches", t.MicroBatchSize, t.BatchSize)
	case t.DType != "float32" && t.DType != "bfloat16":
		return fmt.Errorf("train.dtype: %q is not one of float32, bfloat16", t.DType)
	case t.EvalBatches <= 0:
		return fmt.Errorf("train.eval_batches: %d must be positive", t.EvalBatches)
	case t.LogEvery <= 0:
		return fmt.Errorf("train.log_every: %d must be positive", t.LogEvery)
	case t.PeakTFlops < 0 || math.IsNaN(t.PeakTFlops) || math.IsInf(t.PeakTFlops, 0):
		return fmt.Errorf("train.peak_tflops: %g must be >= 0 (0 = known table or measured)", t.PeakTFlops)
	case t.DataParallel != "" && t.DataParallel != "auto" && t.DataParallel != "on" && t.DataParallel != "off":
		return fmt.Errorf("train.data_parallel: %q is not one of auto, on, off", t.DataParallel)
	case t.MaxBadSteps <= 0:
		return fmt.Errorf("train.max_bad_steps: %d must be positive", t.MaxBadSteps)
	case c.Ckpt.Every < 0 || c.Ckpt.KeepLast < 0 || c.Ckpt.KeepEvery < 0:
		return fmt.Errorf("checkpoint: every, keep_last and keep_every must be >= 0")
	case !(c.Sample.Temperature >= 0) || math.IsInf(c.Sample.Temperature, 0):
		return fmt.Errorf("sample.temperature: %g must be >= 0 (0 = greedy)", c.Sample.Temperature)
	}
	// Weights and batches live on the host at least while saving and loading; optimizer state
	// and activations are checked once the trainable parameters and the backend are known
	// (Loop), since LoRA optimizes far fewer parameters than the model has.
	return CheckMemory(*c, 0, false)
}

// MicroBatch is the number of sequences per forward/backward pass.
func (c *Config) MicroBatch() int {
	if c.Train.MicroBatchSize == 0 {
		return c.Train.BatchSize
	}
	return c.Train.MicroBatchSize
}
