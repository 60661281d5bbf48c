package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/finetune"
)

// evalCmd is `finetune eval`: zero-, few-shot and fine-tuned scores on the same task.
func evalCmd(fs *flag.FlagSet, args []string, base, backendName *string, stdout, stderr io.Writer) error {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: finetune eval --base CKPT [--adapter LORA_RUN] --data test.jsonl [--pool train.jsonl] [--shots 0,1,3]")
		fs.PrintDefaults()
	}
	c := configFlagsOn(fs, base)
	adapter := fs.String("adapter", "", "LoRA run or checkpoint whose adapter goes on top of --base")
	var poolFiles []string
	listFlag(fs, "pool", "examples the shots are drawn from (default: --data, never the query itself)", &poolFiles)
	shots := fs.String("shots", "0", "examples shown before each query, a comma-separated list to compare (0 = zero-shot)")
	seed := fs.Uint64("seed", 1, "seed of the shot sample")
	n := fs.Int("n", 0, "queries evaluated (0 = all)")
	maxTokens := fs.Int("max-tokens", 128, "tokens generated per query")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load(map[string]string{}, map[string][]string{})
	if err != nil {
		return err
	}
	backend, err := backends.New(*backendName)
	if err != nil {
		return err
	}
	res, err := finetune.EvalFiles(backend, cfg, *adapter, poolFiles, *shots, finetune.ShotOptions{Seed: *seed, Limit: *n, MaxTokens: *maxTokens}, stderr)
	for _, r := range res {
		fmt.Fprintln(stdout, r)
	}
	return err
}
