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

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/internal/cli"
	"github.com/golem-ml/golem/train"
)

const usage = `usage: finetune --base CKPT --data task.jsonl [flags]       fine-tune (flags below)
       finetune merge --base CKPT --adapter LORA_RUN --out DIR   fold a LoRA adapter in (finetune merge -h)
       finetune eval --base CKPT --data test.jsonl [flags]      zero-/few-shot scores (finetune eval -h)`

func main() { cli.Main("finetune", run) }

func run(args []string, stdout, stderr io.Writer) error {
	name := "train"
	if len(args) > 0 && (args[0] == "merge" || args[0] == "eval") {
		name, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("finetune "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	backendName := fs.String("backend", "", "compute backend: go, xla, xla:cuda (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	base := fs.String("base", "", "base checkpoint: a step-* folder or a run folder (its newest checkpoint)")
	switch name {
	case "merge":
		return mergeCmd(fs, args, base, backendName, stdout)
	case "eval":
		return evalCmd(fs, args, base, backendName, stdout, stderr)
	}
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	c := configFlagsOn(fs, base)
	var valFiles []string
	listFlag(fs, "val", "validation examples (default: hold out data.val_fraction of --data)", &valFiles)
	method := fs.String("method", "", "full or lora")
	out := fs.String("out", "", "run folder (default: checkpoints/<name>)")
	resume := fs.Bool("resume", false, "continue from the newest complete checkpoint in the run folder")
	quiet := fs.Bool("quiet", false, "no progress bar")
	stopAfter := fs.Int("stop-after", 0, "stop (with a checkpoint) after this many steps in this process")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load(map[string]string{"method": *method, "out_dir": *out}, map[string][]string{"data.val": valFiles})
	if err != nil {
		return err
	}
	backend, err := backends.New(*backendName)
	if err != nil {
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
