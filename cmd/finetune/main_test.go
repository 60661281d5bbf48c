package main

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/lora"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// randomBase saves a freshly initialised small byte-level model as a checkpoint.
func randomBase(t *testing.T) string {
	cfg := train.DefaultConfig()
	cfg.Model = transformer.Config{VocabSize: 257, SeqLen: 64, Layers: 1, Width: 32, Heads: 2, Bias: true, Tied: true}
	cfg.Model.Defaults()
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(cfg, backend)
	if err != nil {
		t.Fatal(err)
	}
	files, err := tr.Files(checkpoint.State{}, tokenizer.NewByte())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := (&checkpoint.Manager{Dir: dir}).Save(0, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCommand(t *testing.T) {
	root := repoRoot()
	base, run1, merged := randomBase(t), t.TempDir(), t.TempDir()
	data := filepath.Join(root, "testdata/sft/classify.jsonl")
	call := func(args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := run(append(args, "--backend", "go"), &out, &errs)
		return out.String() + errs.String(), err
	}
	// One LoRA step from the shipped config (a single step skips the loop's matmul-peak timing).
	out, err := call("--config", filepath.Join(root, "configs/finetune-lora.yaml"), "--base", base, "--data", data, "--out", run1,
		"--quiet", "--set", "train.steps=1", "--set", "train.batch_size=2", "--set", "sample.tokens=4", "--set", "data.val_fraction=0.34")
	if err != nil || !strings.Contains(out, "(lora)") || !strings.Contains(out, "--- sample ---") {
		t.Fatalf("train: %v\n%s", err, out)
	}
	last, err := checkpoint.Resolve(run1)
	if err != nil || !checkpoint.Has(last, lora.AdapterFile) {
		t.Fatalf("run folder %s has no adapter checkpoint: %v", run1, err)
	}
	out, err = call("merge", "--base", base, "--adapter", run1, "--out", merged)
	if err != nil || !strings.Contains(out, "merged") {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	out, err = call("eval", "--base", merged, "--data", data, "--shots", "0,2", "--n", "2", "--max-tokens", "4")
	if err != nil || !strings.Contains(out, "k=0 n=2") || !strings.Contains(out, "k=2 n=2") || !strings.Contains(out, "label accuracy") {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	if _, err := call("--data", data); err == nil || !strings.Contains(err.Error(), "--base") {
		t.Errorf("no base: %v", err)
	}
	if _, err := call("--base", base, "--data", data, "--set", "lora.rnak=4"); err == nil || !strings.Contains(err.Error(), "lora.rnak: unknown key") {
		t.Errorf("misspelt key: %v", err)
	}
	for _, c := range []string{"finetune-lora.yaml", "finetune-full.yaml", "finetune-alpaca-tiny.yaml"} {
		if _, err := finetune.LoadConfig(filepath.Join(root, "configs", c), []string{"base=x", "data.train=[y]"}); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
}
