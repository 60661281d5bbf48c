package evaluate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// TestTrainHook scores tasks on a trainer's live weights and appends them to
// out_dir/benchmarks.jsonl with the step, as pretrain --eval-tasks does after each validation.
func TestTrainHook(t *testing.T) {
	cfg, err := train.LoadConfig(filepath.Join("..", "configs", "tiny.yaml"), []string{"out_dir=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenizer.NewByte()
	cfg.Model.VocabSize = tok.VocabSize()
	tr, err := train.New(cfg, backend(t))
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := LoadTasks(tasksDir, []string{"copa", "arc_easy"})
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	hook := TrainHook(tasks, Options{DataDir: dataDir, Limit: 3, BootstrapIters: -1}, 4, &log)
	if err := hook.OnStart(tr, tok); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int64{10, 20} {
		tr.Step = step
		if stop, err := hook.OnEval(tr, 0, false); stop || err != nil {
			t.Fatalf("OnEval at step %d: stop %v, %v", step, stop, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, "benchmarks.jsonl"))
	if err != nil {
		t.Fatal(err, log.String())
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2*3 { // copa acc, arc_easy acc and acc_norm, at two steps
		t.Fatalf("benchmarks.jsonl:\n%s\nlog:\n%s", b, log.String())
	}
	var last struct {
		Step   int64  `json:"step"`
		Task   string `json:"task"`
		Metric string `json:"metric"`
		Items  int    `json:"items"`
	}
	if err := json.Unmarshal([]byte(lines[5]), &last); err != nil || last.Step != 20 || last.Task != "arc_easy" || last.Items != 3 {
		t.Errorf("last line %s: %+v %v", lines[5], last, err)
	}
	if !strings.Contains(log.String(), "step 20 | copa acc") {
		t.Errorf("log:\n%s", log.String())
	}
}
