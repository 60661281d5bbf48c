package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/internal/cli"
)

// call runs the command as main would and returns its exit status, stdout and stderr.
func call(args ...string) (int, string, string) {
	var stdout, stderr strings.Builder
	code := cli.Exit("tokenizer", run(args, &stdout, &stderr), &stderr)
	return code, stdout.String(), stderr.String()
}

// TestTrainEncodeDecode trains a small BPE on 200 kB of Shakespeare, then encodes and decodes
// with it, converts it and reads its info: every subcommand through run, as the CLI calls it.
func TestTrainEncodeDecode(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "tok.json")
	code, _, stderr := call("train", "-vocab", "300", "-max-bytes", "200000", "-q", "-o", tok, "../../testdata/tinyshakespeare.txt")
	if code != 0 || !strings.Contains(stderr, "wrote "+tok+": 300 tokens") {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	text := "ROMEO: But, soft! what light through yonder window breaks?"
	code, ids, stderr := call("encode", "-t", tok, text)
	if code != 0 || len(strings.Fields(ids)) >= len(text) {
		t.Fatalf("encode: exit %d, %d ids for %d bytes\n%s", code, len(strings.Fields(ids)), len(text), stderr)
	}
	code, back, stderr := call(append([]string{"decode", "-t", tok}, strings.Fields(ids)...)...)
	if code != 0 || back != text {
		t.Errorf("decode: exit %d, %q; want %q\n%s", code, back, text, stderr)
	}
	conv := filepath.Join(dir, "conv.json")
	if code, _, stderr := call("convert", "-t", tok, "-o", conv); code != 0 {
		t.Fatalf("convert: exit %d\n%s", code, stderr)
	}
	if code, info, stderr := call("info", "-t", conv); code != 0 || !strings.Contains(info, "vocab size: 300") {
		t.Errorf("info: exit %d\n%s%s", code, info, stderr)
	}
}

// Wrong calls exit 2 with the usage, -h exits 0, and a bad value exits 1 naming what to fix.
func TestWrongCalls(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: tokenizer"},
		{[]string{"nosuch"}, 2, "usage: tokenizer"},
		{[]string{"-h"}, 0, "usage: tokenizer"},
		{[]string{"train", "-h"}, 0, "-vocab"},
		{[]string{"encode", "--nosuch"}, 2, "-nosuch"},
		{[]string{"train", "-q"}, 1, "give corpus files"},
		{[]string{"info"}, 1, "info: -t TOKENIZER is required"},
		{[]string{"decode", "-t", "../../testdata/tokenizer/nosuch.json", "1"}, 1, "nosuch.json"},
	} {
		code, stdout, stderr := call(c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%q: exit %d, output %q; want exit %d and %q", c.args, code, stdout+stderr, c.code, c.want)
		}
	}
}
