// Command pretrain trains a GPT/Llama-style model from a YAML config.
//
//	pretrain --config configs/small.yaml [--set optimizer.lr=3e-4 ...] [--resume | --overwrite] [--backend go|xla:cuda]
//	         [--eval-tasks piqa,arc_easy --eval-limit 100]
//
// Ctrl-C (SIGINT) or SIGTERM stops after the current step with a checkpoint and exits 130 or 143.
package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/internal/cli"
	"github.com/golem-ml/golem/train"
)

func main() { cli.Main("pretrain", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pretrain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sets []string
	cfgPath := fs.String("config", "configs/small.yaml", "run config (YAML)")
	fs.Func("set", "override a config key, e.g. --set optimizer.lr=3e-4 (repeatable)", func(v string) error { sets = append(sets, v); return nil })
	resume := fs.Bool("resume", false, "continue from the newest complete checkpoint in out_dir")
	overwrite := fs.Bool("overwrite", false, "start afresh in an out_dir that holds a run, deleting its checkpoints and metrics")
	backendName := fs.String("backend", "", "compute backend: go, xla, xla:cuda, xla:/path/plugin.so (default: $GOMLX_BACKEND, else XLA if a plugin is installed, else go)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	stopAfter := fs.Int("stop-after", 0, "stop (with a checkpoint) after this many steps in this process")
	evalTasks := fs.String("eval-tasks", "", "benchmark tasks (tasks/*.yaml) to score after each validation pass, e.g. piqa,arc_easy")
	evalLimit := fs.Int("eval-limit", 100, "items per benchmark task in training (0 = all)")
	dataDir := fs.String("eval-data-dir", "../shared/data", "folder the tasks' data paths are relative to")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := train.LoadConfig(*cfgPath, sets)
	if err != nil {
		return err
	}
	backend, err := backends.New(*backendName)
	if err != nil {
		return err
	}
	ctx, interrupted := train.InterruptContext()
	opts := train.Options{Backend: backend, Text: corpus.TextSource{}, Resume: *resume, Overwrite: *overwrite, Quiet: *quiet, StopAfter: *stopAfter, Log: stderr}
	if *evalTasks != "" {
		tasks, err := evaluate.LoadTasks("tasks", strings.Split(*evalTasks, ","))
		if err != nil {
			return err
		}
		opts.Callbacks = append(opts.Callbacks, benchmarks(tasks, evaluate.Options{DataDir: *dataDir, NumFewshot: -1, Seed: 1234, Limit: *evalLimit, BootstrapIters: -1}, 8, stderr))
	}
	sum, err := train.Pretrain(ctx, cfg, opts)
	if err != nil {
		return err
	}
	if sum.Sample != "" {
		fmt.Fprintf(stdout, "--- sample ---\n%s\n", sum.Sample)
	}
	if code := interrupted(); code != 0 {
		return cli.ExitCode(code) // 130 after SIGINT, 143 after SIGTERM
	}
	return nil
}
