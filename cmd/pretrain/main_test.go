package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `make pretrain` (configs/small.yaml, 2 steps here) ends by printing its sample: the 300
// sample.tokens it asks for do not fit the 64-token context after the prompt, so the KV-cache
// engine writes the 57 that fit and the log says so.
func TestPretrainPrintsSample(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run([]string{"--config", filepath.Join("..", "..", "configs", "small.yaml"), "--backend", "go", "--quiet",
		"--set", "out_dir=" + t.TempDir(), "--set", "data.train=[" + filepath.Join("..", "..", "testdata", "tinyshakespeare.txt") + "]",
		"--set", "train.steps=2", "--set", "checkpoint.every=0"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if want := "sample.tokens 300 capped to 57"; !strings.Contains(stderr.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, stderr.String())
	}
	_, sample, ok := strings.Cut(stdout.String(), "--- sample ---\n")
	if !ok || !strings.HasPrefix(sample, "ROMEO:\n") || len(sample) > len("ROMEO:\n")+57+1 {
		t.Errorf("stdout does not end with the prompt and at most 57 sampled bytes:\n%s", stdout.String())
	}
}
