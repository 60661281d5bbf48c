package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/golem-ml/golem/internal/cli"
	"github.com/golem-ml/golem/internal/testmodel"
)

// sample prints the prompt and its greedy continuation, the same text every time, and a
// wrong call exits 2 naming the flag.
func TestSample(t *testing.T) {
	dir := testmodel.Checkpoint(t)
	args := []string{"--ckpt", dir, "--backend", "go", "--prompt", "I dream of", "--tokens", "12", "--temperature", "0"}
	var a, b bytes.Buffer
	if err := run(args, &a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(args, &b, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.String(), "I dream of") || len(a.String()) <= len("I dream of\n") || a.String() != b.String() {
		t.Errorf("greedy samples %q and %q: want the prompt, a continuation, and the same text twice", a.String(), b.String())
	}
	var errs bytes.Buffer
	err := run([]string{"--nosuch"}, io.Discard, &errs)
	if code := cli.Exit("sample", err, &errs); code != 2 || !strings.Contains(errs.String(), "-nosuch") {
		t.Errorf("unknown flag: exit %d, stderr %q; want 2 naming the flag", code, errs.String())
	}
	if err := run([]string{"--ckpt", t.TempDir(), "--backend", "go"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "holds no complete step-* checkpoint") {
		t.Errorf("an empty folder as --ckpt: %v", err)
	}
}
