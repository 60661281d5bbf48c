// Command finetune adapts a pretrained checkpoint to a task, merges LoRA adapters, and scores
// zero-/few-shot prompts built from the same data files.
//
//	finetune --base CKPT --data task.jsonl [--val val.jsonl] [--method full|lora] [--out DIR]
//	         [--config configs/finetune-lora.yaml] [--set key=value ...] [--resume] [--backend go|xla:cuda]
//	finetune merge --base CKPT --adapter LORA_RUN --out DIR
//	finetune eval --base CKPT [--adapter LORA_RUN] --data test.jsonl [--pool train.jsonl] [--shots 0,3] [--n 100]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/train"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "finetune:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "train"
	if len(args) > 0 && (args[0] == "merge" || args[0] == "eval") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("finetune "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sets, dataFiles, valFiles, poolFiles []string
	list := func(name, usage string, l *[]string) {
		fs.Func(name, usage, func(v string) error { *l = append(*l, v); return nil })
	}
	cfgPath := fs.String("config", "", "fine-tuning config (YAML); defaults: full fine-tuning, 3 epochs, completion-only loss")
	base := fs.String("base", "", "base checkpoint: a step-* folder or a run folder (its newest checkpoint)")
	list("data", "examples, JSONL or a JSON array (repeatable)", &dataFiles)
	list("set", "override a config key, e.g. --set lora.rank=16 (repeatable)", &sets)
	backendName := fs.String("backend", "", "compute backend: go, xla, xla:cuda (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	list("val", "validation examples (default: hold out data.val_fraction of --data)", &valFiles)
	method := fs.String("method", "", "full or lora")
	out := fs.String("out", "", "run folder (train) or output folder (merge)")
	resume := fs.Bool("resume", false, "continue from the newest complete checkpoint in the run folder")
	quiet := fs.Bool("quiet", false, "no progress bar")
	stopAfter := fs.Int("stop-after", 0, "stop (with a checkpoint) after this many steps in this process")
	adapter := fs.String("adapter", "", "LoRA run or checkpoint whose adapter goes on top of --base")
	list("pool", "eval: examples the shots are drawn from (default: --data, never the query itself)", &poolFiles)
	shots := fs.String("shots", "0", "eval: examples shown before each query, a comma-separated list to compare (0 = zero-shot)")
	seed := fs.Uint64("seed", 1, "eval: seed of the shot sample")
	n := fs.Int("n", 0, "eval: queries evaluated (0 = all)")
	maxTokens := fs.Int("max-tokens", 128, "eval: tokens generated per query")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; subcommands are merge and eval, and they come first", fs.Arg(0))
	}
	backend, err := train.NewBackend(*backendName)
	if err != nil {
		return err
	}
	if cmd == "merge" {
		if *base == "" || *adapter == "" || *out == "" {
			return fmt.Errorf("merge needs --base, --adapter and --out")
		}
		dir, err := finetune.Merge(backend, *base, *adapter, *out)
		if err == nil {
			fmt.Fprintf(stdout, "merged %s onto %s: %s\n", *adapter, *base, dir)
		}
		return err
	}
	over := finetune.Overrides(map[string]string{"base": *base, "method": *method, "out_dir": *out},
		map[string][]string{"data.train": dataFiles, "data.val": valFiles}) // before --set, which wins
	cfg, err := finetune.LoadConfig(*cfgPath, append(over, sets...))
	if err != nil {
		return err
	}
	if cmd == "eval" {
		res, err := finetune.EvalFiles(backend, cfg, *adapter, poolFiles, *shots, finetune.ShotOptions{Seed: *seed, Limit: *n, MaxTokens: *maxTokens}, stderr)
		for _, r := range res {
			fmt.Fprintln(stdout, r)
		}
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := finetune.Run(ctx, cfg, train.Options{Backend: backend, Resume: *resume, Quiet: *quiet, StopAfter: *stopAfter, Log: stderr})
	if err == nil && res.Sample != "" {
		fmt.Fprintf(stdout, "--- sample ---\n%s\n", res.Sample)
	}
	return err
}
