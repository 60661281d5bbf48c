package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command imports aidreams260K, exports it to HF and llama2.c, and re-imports both.
func TestConvertCommand(t *testing.T) {
	tmp := t.TempDir()
	var out bytes.Buffer
	models := filepath.Join("..", "..", "testdata")
	bin := filepath.Join(models, "models", "aidreams260K", "aidreams260K.bin")
	tok := filepath.Join(models, "tokenizer", "tok512.bin")
	run1 := filepath.Join(tmp, "run")
	if err := run([]string{"import", bin, "--tokenizer", tok, "--out", run1}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "4 layers, width 64, heads 4/4, vocab 512, ctx 128") {
		t.Errorf("report: %s", out.String())
	}
	hf, l2c := filepath.Join(tmp, "hf"), filepath.Join(tmp, "l2c")
	if err := run([]string{"export", run1, "--out", hf}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"export", run1, "--out", l2c, "--format", "llama2c"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hf/config.json", "hf/model.safetensors", "hf/tokenizer.json", "l2c/model.bin", "l2c/tokenizer.bin"} {
		if _, err := os.Stat(filepath.Join(tmp, f)); err != nil {
			t.Error(err)
		}
	}
	if err := run([]string{"import", hf, "--out", filepath.Join(tmp, "run2")}, &out, &out); err != nil {
		t.Fatal(err)
	}
	gpt2 := filepath.Join(models, "models", "hf-gpt2-tiny")
	if err := run([]string{"import", gpt2, "--seq-len", "16", "--out", filepath.Join(tmp, "short")}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "vocab 257, ctx 16") {
		t.Errorf("--seq-len 16: %s", out.String())
	}
	if err := run([]string{"import", filepath.Join(l2c, "model.bin"), "--out", filepath.Join(tmp, "run3")}, &out, &out); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(run1, "step-00000000", "model.safetensors"))
	if b, _ := os.ReadFile(filepath.Join(l2c, "tokenizer.bin")); !bytes.Equal(b, mustRead(t, tok)) {
		t.Error("exported tokenizer.bin differs from tok512.bin")
	}
	for _, r := range []string{"run2", "run3"} {
		b, _ := os.ReadFile(filepath.Join(tmp, r, "step-00000000", "model.safetensors"))
		if !bytes.Equal(a, b) {
			t.Errorf("%s/model.safetensors differs from the first import", r)
		}
	}
	if err := run([]string{"export", run1, "--out", hf, "--format", "onnx"}, &out, &out); err == nil {
		t.Error("unknown format accepted")
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
