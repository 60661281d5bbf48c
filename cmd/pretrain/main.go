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
	"os"
	"strings"
	"syscall"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/train"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var sets listFlag
	cfgPath := flag.String("config", "configs/small.yaml", "run config (YAML)")
	flag.Var(&sets, "set", "override a config key, e.g. --set optimizer.lr=3e-4 (repeatable)")
	resume := flag.Bool("resume", false, "continue from the newest complete checkpoint in out_dir")
	overwrite := flag.Bool("overwrite", false, "start afresh in an out_dir that holds a run, deleting its checkpoints and metrics")
	backendName := flag.String("backend", "", "compute backend: go, xla, xla:cuda, xla:/path/plugin.so (default: $GOMLX_BACKEND, else XLA if a plugin is installed, else go)")
	quiet := flag.Bool("quiet", false, "no progress bar")
	stopAfter := flag.Int("stop-after", 0, "stop (with a checkpoint) after this many steps in this process")
	evalTasks := flag.String("eval-tasks", "", "benchmark tasks (tasks/*.yaml) to score after each validation pass, e.g. piqa,arc_easy")
	evalLimit := flag.Int("eval-limit", 100, "items per benchmark task in training (0 = all)")
	dataDir := flag.String("eval-data-dir", "../shared/data", "folder the tasks' data paths are relative to")
	flag.Parse()

	// Fault injection for crash tests: GOLEM_FAULT=STAGE@N kills the process with SIGKILL the
	// N-th time a checkpoint save reaches STAGE (file:model.safetensors, before-marker, before-rename).
	if fault := os.Getenv("GOLEM_FAULT"); fault != "" {
		stage, nth := fault, 1
		if i := strings.LastIndex(fault, "@"); i >= 0 {
			stage = fault[:i]
			fmt.Sscan(fault[i+1:], &nth)
		}
		checkpoint.FaultHook = func(s string) {
			if s == stage {
				if nth--; nth == 0 {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
		}
	}

	cfg, err := train.LoadConfig(*cfgPath, sets)
	if err != nil {
		fail(err)
	}
	backend, err := train.NewBackend(*backendName)
	if err != nil {
		fail(err)
	}
	ctx, interrupted := train.InterruptContext()
	opts := train.Options{Backend: backend, Text: corpus.TextSource{}, Resume: *resume, Overwrite: *overwrite, Quiet: *quiet, StopAfter: *stopAfter}
	if *evalTasks != "" {
		tasks, err := evaluate.LoadTasks("tasks", strings.Split(*evalTasks, ","))
		if err != nil {
			fail(err)
		}
		opts.Callbacks = append(opts.Callbacks, evaluate.TrainHook(tasks, evaluate.Options{DataDir: *dataDir, NumFewshot: -1, Seed: 1234, Limit: *evalLimit, BootstrapIters: -1}, 8, os.Stderr))
	}
	sum, err := train.Pretrain(ctx, cfg, opts)
	if err != nil {
		fail(err)
	}
	if sum.Sample != "" {
		fmt.Printf("--- sample ---\n%s\n", sum.Sample)
	}
	os.Exit(interrupted())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pretrain:", err)
	os.Exit(1)
}
