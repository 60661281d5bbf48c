// Package finetune adapts a pretrained golem checkpoint to a task.
//
// Data (Config.Data): JSONL files, one example a line, or JSON arrays of objects. The format is
// declared (data.format) or detected per record from its keys:
//
//	{"text": ...}                               continued pretraining: every token trains
//	{"prompt": ..., "completion": ...}          only the completion trains
//	{"messages": [{"role", "content"}, ...]}    rendered by a chat template (chatml by default,
//	                                            llama2, zephyr, alpaca, plain, or a YAML file);
//	                                            only assistant turns (and their end marker) train
//	{"text": ..., "label": ...}                 classification as "text\nLabel: " -> label
//	{"instruction", "input", "output"}          Alpaca's prompt -> output
//	{"question", "answer"}                      "Question: ...\nAnswer: " -> answer (GSM8K)
//
// data.fields maps other shapes onto these keys, by name or with {key} templates. Every
// tokenized example ends with the end-of-text id, trained, so the model learns to stop.
// data.train_on_all trains on every token instead. Examples are padded one per row of
// seq_len+1 tokens, or packed (data.pack); longer ones are dropped, truncated or split
// into rows (data.overflow). Every unusable record (malformed JSON, missing field, unknown role, empty
// completion, too long) is reported as file:line: problem; the run stops only when more than
// data.max_bad_fraction of the records are unusable.
//
// Methods: full fine-tuning, or LoRA (Adapter): target matrices are read as W + (alpha/r)·A·B,
// the base stays frozen, only A and B are optimized and saved (adapter.safetensors, next to
// adapter_config.json, in every checkpoint). Merge folds an adapter into a plain checkpoint;
// Load puts an unmerged adapter on its base for generation, scoring and evaluation.
//
// Training (Run) is train.Loop, as in pretraining: warmup-cosine AdamW, gradient accumulation,
// NaN guard, progress bar, metrics.jsonl, atomic checkpoints and bit-exact resume; plus a
// validation split (data.val or a seeded data.val_fraction) evaluated every train.eval_every
// steps, the best checkpoint kept in out_dir/best, and early stopping (early_stop.patience).
// The model config and tokenizer come from the base checkpoint.
//
// Few-shot (KShotPrompt, Scorer.Evaluate, EvalFiles): the same files become k-shot prompts (k
// seeded examples, then the query) scored by greedy exact / final-answer match, reference
// NLL, and label accuracy, so zero-shot, few-shot and fine-tuned models compare on one task.
package finetune

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/lora"
	"github.com/golem-ml/golem/train"
)

// Config is a fine-tuning run. Its YAML form is configs/finetune-*.yaml; every key can be
// overridden with --set. The model and tokenizer are not here: they come from the base.
type Config struct {
	Name   string `yaml:"name"`
	OutDir string `yaml:"out_dir"` // run folder; default checkpoints/<name>
	// Base is the pretrained checkpoint: a checkpoint folder (step-NNNNNNNN) or a run folder
	// (its newest complete checkpoint is used).
	Base   string `yaml:"base"`
	Method string `yaml:"method"` // "full" or "lora"
	// Epochs sets train.steps when that is 0: ceil(epochs · training rows / batch_size).
	Epochs    float64                `yaml:"epochs"`
	Data      DataConfig             `yaml:"data"`
	LoRA      lora.Config            `yaml:"lora"`
	EarlyStop EarlyStopConfig        `yaml:"early_stop"`
	Optimizer train.OptimizerConfig  `yaml:"optimizer"`
	Train     train.LoopConfig       `yaml:"train"`
	Ckpt      train.CheckpointConfig `yaml:"checkpoint"`
	Sample    train.SampleConfig     `yaml:"sample"`
	// Dropout overrides the base model's dropout during fine-tuning; negative = keep the base's.
	Dropout float64 `yaml:"dropout"`
}

// DataConfig says where the examples are, how they are read, and how they become rows.
type DataConfig struct {
	Train []string `yaml:"train"` // JSONL files (or JSON arrays of objects)
	Val   []string `yaml:"val"`   // validation files; empty = hold out val_fraction of train
	// ValFraction of the training examples (seeded) is held out when val is empty.
	ValFraction float64 `yaml:"val_fraction"`
	// Format is auto (detected per record from its keys), text, prompt_completion, chat,
	// classification, alpaca or qa (question/answer, e.g. GSM8K): see formatTable.
	Format string `yaml:"format"`
	// Fields maps other JSON shapes onto the canonical keys text, prompt, completion,
	// messages and label. A value is a source key ("question") or a template with {key}
	// placeholders ("Question: {question}\nAnswer: ").
	Fields map[string]string `yaml:"fields"`
	// Template renders chat messages: a built-in name (chatml, llama2, zephyr, alpaca, plain)
	// or a YAML/JSON file with system, user, assistant_prefix, assistant_suffix and bos keys.
	Template string `yaml:"template"`
	// TrainOnAll counts every token in the loss; by default only completion / assistant tokens count.
	TrainOnAll bool `yaml:"train_on_all"`
	// Pack puts several examples into one row of seq_len+1 tokens (no cross-example attention
	// mask: the model has none); otherwise each example gets its own padded row.
	Pack bool `yaml:"pack"`
	// Overflow is what happens to an example longer than seq_len+1 tokens: drop (default),
	// truncate (keep the first seq_len+1 tokens) or split (consecutive rows, each target in
	// exactly one; for continued pretraining on long texts). Each is reported and counted.
	Overflow string `yaml:"overflow"`
	// MaxBadFraction stops the run when more than this fraction of records are unusable
	// (malformed, missing fields, unknown roles, empty completions, dropped for length);
	// each is reported as file:line: problem either way. 1 = never stop.
	MaxBadFraction float64 `yaml:"max_bad_fraction"`
	// ShowProblems caps how many problem lines are printed (all are counted); 0 = all.
	ShowProblems int `yaml:"show_problems"`
}

// EarlyStopConfig stops a run whose validation loss has stopped improving.
type EarlyStopConfig struct {
	Patience int     `yaml:"patience"`  // validation passes without improvement; 0 = never stop early
	MinDelta float64 `yaml:"min_delta"` // an improvement must lower the best loss by more than this
}

// DefaultConfig holds the defaults: what TRL/torchtune users expect (3 epochs, cosine
// schedule with warmup, completion-only loss, LoRA r=8 alpha=16 dropout 0.05 on attention).
func DefaultConfig() Config {
	return Config{
		Name:      "finetune",
		Method:    "full",
		Epochs:    3,
		Data:      DataConfig{ValFraction: 0.1, Format: "auto", Template: "chatml", Overflow: "drop", MaxBadFraction: 0.01, ShowProblems: 20},
		LoRA:      lora.Config{Rank: 8, Alpha: 16, Dropout: 0.05, Targets: []string{"attn"}},
		Optimizer: train.OptimizerConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0, GradClip: 1.0, WarmupSteps: -1, MinLR: -1},
		Train:     train.LoopConfig{BatchSize: 8, Seed: 1337, DType: "float32", EvalEvery: 50, EvalBatches: 100, LogEvery: 5, MaxBadSteps: 5},
		Ckpt:      train.CheckpointConfig{Every: 100, KeepLast: 2},
		Sample:    train.SampleConfig{Tokens: 64, Temperature: 0, TopK: 0},
		Dropout:   -1,
	}
}

// LoadConfig reads a YAML config over the defaults and applies --set overrides; Resolve
// (called by Run) fills the values that depend on the data.
func LoadConfig(path string, overrides []string) (Config, error) {
	cfg := DefaultConfig()
	if err := config.Load(path, overrides, &cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		if path != "" {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
		return cfg, err
	}
	return cfg, nil
}

// Overrides turns command-line values into --set style overrides (quoted for YAML), skipping
// empty ones: scalars by key, and lists of strings by key.
func Overrides(scalars map[string]string, lists map[string][]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(scalars)) {
		if v := scalars[k]; v != "" {
			out = append(out, k+"="+strconv.Quote(v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(lists)) {
		if l := lists[k]; len(l) > 0 {
			q := make([]string, len(l))
			for i, v := range l {
				q[i] = strconv.Quote(v)
			}
			out = append(out, k+"=["+strings.Join(q, ", ")+"]")
		}
	}
	return out
}

// Validate checks the fine-tuning specific keys (train.Config.Validate checks the rest once
// the base is known).
func (c *Config) Validate() error {
	switch {
	case c.Base == "":
		return fmt.Errorf("base: no base checkpoint; give --base CKPT (a checkpoint or run folder)")
	case c.Method != "full" && c.Method != "lora":
		return fmt.Errorf("method: %q is not one of full, lora", c.Method)
	case len(c.Data.Train) == 0:
		return fmt.Errorf("data.train: no training files; give --data task.jsonl")
	case c.Data.ValFraction < 0 || c.Data.ValFraction >= 1:
		return fmt.Errorf("data.val_fraction: %g must be in [0, 1)", c.Data.ValFraction)
	case !slices.Contains(formatNames(), c.Data.Format):
		return fmt.Errorf("data.format: %q is not one of %s", c.Data.Format, strings.Join(formatNames(), ", "))
	case c.Data.Overflow != "drop" && c.Data.Overflow != "truncate" && c.Data.Overflow != "split":
		return fmt.Errorf("data.overflow: %q is not one of drop, truncate, split", c.Data.Overflow)
	case c.Data.MaxBadFraction < 0 || c.Data.MaxBadFraction > 1:
		return fmt.Errorf("data.max_bad_fraction: %g must be in [0, 1]", c.Data.MaxBadFraction)
	case c.Epochs <= 0 && c.Train.Steps <= 0:
		return fmt.Errorf("epochs: %g and train.steps: %d; set one of them", c.Epochs, c.Train.Steps)
	case c.EarlyStop.Patience < 0:
		return fmt.Errorf("early_stop.patience: %d must be >= 0", c.EarlyStop.Patience)
	case c.Dropout >= 1:
		return fmt.Errorf("dropout: %g must be below 1 (negative keeps the base model's)", c.Dropout)
	}
	for k := range c.Data.Fields {
		if !slices.Contains([]string{"text", "prompt", "completion", "messages", "label"}, k) {
			return fmt.Errorf("data.fields: %q is not one of text, prompt, completion, messages, label", k)
		}
	}
	if c.Method == "lora" {
		return c.LoRA.Validate()
	}
	return nil
}

// trainConfig is the train.Config of the run: the base's model, this config's loop.
func (c *Config) trainConfig(base train.Config, trainRows int) train.Config {
	tc := base
	tc.Name, tc.OutDir = c.Name, c.OutDir
	tc.Optimizer, tc.Train, tc.Ckpt, tc.Sample = c.Optimizer, c.Train, c.Ckpt, c.Sample
	if c.Dropout >= 0 {
		tc.Model.Dropout = c.Dropout
	}
	o := &tc.Optimizer
	if o.LR == 0 {
		o.LR = 2e-5 // full fine-tuning
		if c.Method == "lora" {
			o.LR = 2e-4
		}
	}
	if tc.Train.Steps == 0 {
		tc.Train.Steps = max(1, int(math.Ceil(c.Epochs*float64(trainRows)/float64(tc.Train.BatchSize))))
	}
	if o.MinLR < 0 {
		o.MinLR = o.LR / 10
	}
	if o.WarmupSteps < 0 {
		o.WarmupSteps = int(math.Ceil(0.03 * float64(tc.Train.Steps))) // 3%, as in TRL/axolotl recipes
	}
	return tc
}
