package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/train"
	"github.com/janpfeifer/must"
)

// TestBenchmarksHook pretrains a tiny model with benchmarks among its callbacks, as pretrain
// --eval-tasks does: after each validation pass the tasks are scored on the live weights and
// appended to out_dir/benchmarks.jsonl with the step.
func TestBenchmarksHook(t *testing.T) {
	cfg, err := train.LoadConfig(filepath.Join("..", "..", "configs", "tiny.yaml"), []string{"out_dir=" + t.TempDir(),
		"data.train=[" + filepath.Join("..", "..", "testdata", "tinyshakespeare.txt") + "]", "train.steps=4",
		"train.eval_every=2", "train.eval_batches=1", "checkpoint.every=0", "sample.tokens=0"})
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := evaluate.LoadTasks(filepath.Join("..", "..", "tasks"), []string{"copa", "arc_easy"})
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	hook := benchmarks(tasks, evaluate.Options{DataDir: filepath.Join("..", "..", "testdata", "evaldata"), Limit: 3, BootstrapIters: -1}, 4, &log)
	opts := train.Options{Backend: must.M1(backends.New("go")), Text: corpus.TextSource{}, Quiet: true, Log: &log, Callbacks: []train.Callbacks{hook}}
	if _, err := train.Pretrain(context.Background(), cfg, opts); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, "benchmarks.jsonl"))
	if err != nil {
		t.Fatal(err, log.String())
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2*3 { // copa acc, arc_easy acc and acc_norm, after the passes at steps 2 and 4
		t.Fatalf("benchmarks.jsonl:\n%s\nlog:\n%s", b, log.String())
	}
	var last struct {
		Step   int64  `json:"step"`
		Task   string `json:"task"`
		Metric string `json:"metric"`
		Items  int    `json:"items"`
	}
	if err := json.Unmarshal([]byte(lines[5]), &last); err != nil || last.Step != 4 || last.Task != "arc_easy" || last.Items != 3 {
		t.Errorf("last line %s: %+v %v", lines[5], last, err)
	}
	if !strings.Contains(log.String(), "step 2 | copa acc") {
		t.Errorf("log:\n%s", log.String())
	}
}
