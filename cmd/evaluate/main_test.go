package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/evaluate"
)

// TestEvaluateCommand runs the command on a checkpoint imported from testdata (a tiny GPT-2 with
// random weights) over the first records of two tasks, and reads its JSON report back.
func TestEvaluateCommand(t *testing.T) {
	m, err := convert.ImportHF(filepath.Join("..", "..", "testdata", "models", "hf-gpt2-tiny"), "")
	if err != nil {
		t.Fatal(err)
	}
	ckpt, err := convert.Save(m, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr strings.Builder
	err = run([]string{"--model", ckpt, "--tasks", "copa,lambada_openai", "--limit", "4", "--num-fewshot", "1",
		"--tasks-dir", "../../tasks", "--data-dir", "../../testdata/evaldata", "--backend", "go", "--quiet", "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep evaluate.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 || rep.Results[0].Task != "copa" || rep.Results[0].K != 1 || rep.Model != ckpt {
		t.Errorf("report: %s", b)
	}
	if !strings.Contains(stdout.String(), "lambada_openai") || !strings.Contains(stdout.String(), "perplexity") {
		t.Errorf("table:\n%s", stdout.String())
	}
	// lambada's passages do not fit 32 tokens: cut, counted, and said.
	if !strings.Contains(stderr.String(), "lambada_openai: 4 of 4 items do not fit") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

func TestBadFlags(t *testing.T) {
	var stdout, stderr strings.Builder
	if err := run([]string{"--tasks", "piqa"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--model and --tasks are required") {
		t.Errorf("missing --model: %v", err)
	}
	err := run([]string{"--model", "x", "--tasks", "nosuch", "--tasks-dir", "../../tasks"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `task "nosuch"`) || !strings.Contains(err.Error(), "piqa") {
		t.Errorf("unknown task: %v", err)
	}
}
