// Command evaluate scores a checkpoint on benchmark tasks (tasks/*.yaml) the way EleutherAI's
// lm-evaluation-harness does, and writes a JSON report and a table.
//
//	evaluate --model CKPT [--adapter LORA] --tasks piqa,arc_easy [--num-fewshot k] [--limit n]
//	         [--batch-size b] [--out results.json] [--write-prompts DIR] [--data-dir DIR]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/internal/cli"
)

func main() { cli.Main("evaluate", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "checkpoint folder or run folder (its newest checkpoint)")
	adapter := fs.String("adapter", "", "LoRA run or checkpoint whose adapter goes on top of --model")
	taskList := fs.String("tasks", "", "comma-separated task names (files in --tasks-dir), or all")
	tasksDir := fs.String("tasks-dir", "tasks", "folder of task files")
	dataDir := fs.String("data-dir", defaultDataDir(), "folder the tasks' data paths are relative to ($GOLEM_DATA)")
	k := fs.Int("num-fewshot", -1, "examples before each query (default: each task's num_fewshot, else 0)")
	seed := fs.Uint64("seed", 1234, "seed of the few-shot draw (and the bootstrap)")
	limit := fs.Int("limit", 0, "score the first n items of each task (0 = all)")
	batch := fs.Int("batch-size", 8, "rows per forward pass")
	iters := fs.Int("bootstrap-iters", 100000, "resamples for bootstrap standard errors (perplexity); 0 = none")
	out := fs.String("out", "", "write the JSON report here")
	prompts := fs.String("write-prompts", "", "write every rendered request to DIR/<task>.jsonl")
	backendName := fs.String("backend", "", "compute backend: go, xla, xla:cuda (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *taskList == "" {
		return cli.UsageError{Err: fmt.Errorf("--model and --tasks are required (e.g. --model checkpoints/small --tasks piqa,arc_easy)")}
	}
	names, err := taskNames(*taskList, *tasksDir)
	if err != nil {
		return err
	}
	tasks, err := evaluate.LoadTasks(*tasksDir, names)
	if err != nil {
		return err
	}
	backend, err := backends.New(*backendName)
	if err != nil {
		return err
	}
	m, err := inference.Open(backend, *modelPath, *adapter)
	if err != nil {
		return err
	}
	s, err := evaluate.NewScorer(evaluate.LM{Backend: m.Backend, Store: m.Store, Cfg: m.Cfg, Weights: m.Weights, Tok: m.Tok}, *batch)
	if err != nil {
		return err
	}
	if *iters == 0 {
		*iters = -1
	}
	opts := evaluate.Options{DataDir: *dataDir, NumFewshot: *k, Seed: *seed, Limit: *limit, BootstrapIters: *iters, WritePrompts: *prompts, Log: stderr}
	if !*quiet {
		opts.Progress = newProgress(stderr)
	}
	rep, err := evaluate.Run(s, tasks, opts)
	if err != nil {
		return err
	}
	rep.Model, rep.Adapter = m.Dir, *adapter
	rep.WriteTable(stdout)
	fmt.Fprintf(stdout, "%d tasks in %.1f s\n", len(tasks), rep.Seconds)
	if *out == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}
