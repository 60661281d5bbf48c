// Package cmd_test checks what every command shares: -h prints that command's own flags and
// exits 0, for every command and subcommand.
package cmd_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Each call, and words its -h output must hold (its own flags, its subcommands).
var helpCases = []struct {
	args []string
	want []string
}{
	{[]string{"pretrain", "-h"}, []string{"-config", "-resume", "-set", "-eval-tasks"}},
	{[]string{"evaluate", "-h"}, []string{"-model", "-adapter", "-tasks", "-num-fewshot", "-limit", "-batch-size", "-out", "-write-prompts"}},
	{[]string{"sample", "-h"}, []string{"-ckpt", "-top-p"}},
	{[]string{"prepare", "-h"}, []string{"-out", "-filters", "-dedup"}},
	{[]string{"tokenizer", "-h"}, []string{"train", "encode", "decode", "info", "convert"}},
	{[]string{"tokenizer", "train", "-h"}, []string{"-vocab", "-pattern"}},
	{[]string{"tokenizer", "encode", "-h"}, []string{"-t"}},
	{[]string{"tokenizer", "decode", "-h"}, []string{"-t"}},
	{[]string{"tokenizer", "info", "-h"}, []string{"-t"}},
	{[]string{"tokenizer", "convert", "-h"}, []string{"-t", "-o"}},
	{[]string{"convert", "-h"}, []string{"convert import", "convert export"}},
	{[]string{"convert", "import", "-h"}, []string{"-out", "-tokenizer", "-seq-len", "-allow-nonfinite"}},
	{[]string{"convert", "export", "-h"}, []string{"-out", "-format", "-dtype", "-shard-mb"}},
	{[]string{"finetune", "-h"}, []string{"finetune merge", "finetune eval", "-method", "-resume", "-data"}},
	{[]string{"finetune", "eval", "-h"}, []string{"-shots", "-pool", "-adapter", "-data"}},
	{[]string{"finetune", "merge", "-h"}, []string{"-adapter", "-out", "-base"}},
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// buildCommands builds every command once per test binary, into a folder removed at the end.
func buildCommands(t *testing.T) string {
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "golem-cmd-test-"); buildErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "./...")
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func TestHelpEveryCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command (about a minute on 2 cores)")
	}
	bin := buildCommands(t)
	for _, c := range helpCases {
		name := strings.Join(c.args, " ")
		cmd := exec.Command(filepath.Join(bin, c.args[0]), c.args[1:]...)
		cmd.Env = append(os.Environ(), "GOMLX_BACKEND=go")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v (want exit 0)\n%s", name, err, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output lacks %q:\n%s", name, w, out)
			}
		}
		if strings.Contains(string(out), "GOEXPERIMENT=simd") {
			t.Errorf("%s: SIMD warning in a SIMD build:\n%s", name, out)
		}
	}
}
