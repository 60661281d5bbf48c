package cmd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock returns the commands of the first ```sh block after heading in README.md.
func readmeBlock(t *testing.T, heading string) []string {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	block, _, _ := strings.Cut(rest, "```")
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// The README's fine-tuning example runs end to end as written (issue 10, item 14): the base
// it imports holds the data, fine-tuning trains (2 steps here instead of 3 epochs), the
// adapter merges and the merged model samples. checkpoints/ is redirected to a temp folder.
func TestReadmeFinetuneExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command and fine-tunes a few steps")
	}
	cmds := readmeBlock(t, "## Fine-tuning, end to end")
	if len(cmds) < 4 || cmds[0] != "make build" {
		t.Fatalf("unexpected block %q", cmds)
	}
	bin, ckpts := buildCommands(t), t.TempDir()
	for _, line := range cmds[1:] {
		args := strings.Fields(strings.ReplaceAll(line, "checkpoints/", ckpts+"/"))
		for i, a := range args {
			args[i] = strings.Trim(a, `"`)
		}
		if !strings.HasPrefix(args[0], "bin/") {
			t.Fatalf("README line %q does not run a bin/ command", line)
		}
		// Quoted prompts with spaces: rejoin what Fields split.
		args = rejoinQuoted(line, args)
		switch {
		case args[0] == "bin/finetune" && args[1] != "merge" && args[1] != "eval":
			args = append(args, "--set", "train.steps=2", "--set", "train.eval_every=1", "--set", "sample.tokens=4", "--quiet")
		case args[0] == "bin/sample":
			args = append(args, "--tokens", "4")
		}
		cmd := exec.Command(filepath.Join(bin, strings.TrimPrefix(args[0], "bin/")), args[1:]...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "GOMLX_BACKEND=go")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		if strings.Contains(line, "finetune --config") && !strings.Contains(string(out), " 0 dropped") {
			t.Errorf("%s: records dropped; the README's base must hold every record:\n%s", line, out)
		}
	}
}

// rejoinQuoted undoes strings.Fields inside one double-quoted argument of line.
func rejoinQuoted(line string, args []string) []string {
	i := strings.Index(line, `"`)
	j := strings.LastIndex(line, `"`)
	if i < 0 || j <= i || !strings.Contains(line[i:j], " ") {
		return args
	}
	quoted := line[i+1 : j]
	var out []string
	for k := 0; k < len(args); k++ {
		if strings.HasPrefix(quoted, args[k]) && args[k] != "" && strings.HasPrefix(line[i+1:], args[k]) {
			out = append(out, quoted)
			k += len(strings.Fields(quoted)) - 1
			continue
		}
		out = append(out, args[k])
	}
	return out
}

// The README tells a newcomer how to build the commands and open the notebook, and what it
// says matches the Makefile, .gitignore and the notebook (issue 10, items 16 and 21).
func TestReadmeBuildAndNotebookSteps(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readme := read("README.md")
	for _, want := range []string{
		"`make build` writes every command to `bin/`",
		"make jupyter",
		"scripts/notebook-setup.sh",
		"$(go env GOPATH)/bin:$PATH",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
	// What the README's one command runs: Debian's Jupyter, gonb from a throw-away module (the
	// proxy refuses `go install gonb@version`), goimports, the kernel, and PATH for gonb's tools.
	setup := read("scripts/notebook-setup.sh")
	for _, want := range []string{
		"apt-get install", "jupyter-notebook",
		`go get "github.com/janpfeifer/gonb@$GONB_VERSION"`, "go install github.com/janpfeifer/gonb",
		`go install "golang.org/x/tools/cmd/goimports@`,
		"gonb --install",
		`$(go env GOPATH)/bin:$PATH`,
	} {
		if !strings.Contains(setup, want) {
			t.Errorf("scripts/notebook-setup.sh lacks %q", want)
		}
	}
	if mk := read("Makefile"); !strings.Contains(mk, "scripts/notebook-setup.sh") || !strings.Contains(mk, "jupyter notebook --notebook-dir=notebooks") {
		t.Error("Makefile: make jupyter does not set up the tooling and open notebooks/")
	}
	if mk := read("Makefile"); !strings.Contains(mk, "go build -o bin/ ./cmd/...") {
		t.Error("Makefile: build does not write the commands to bin/")
	}
	if !strings.Contains(read(".gitignore"), "/bin/") {
		t.Error(".gitignore does not ignore bin/")
	}
	nbs, _ := filepath.Glob(filepath.Join("..", "notebooks", "*.ipynb"))
	for _, nb := range nbs {
		b, _ := os.ReadFile(nb)
		if strings.Contains(string(b), "os.TempDir()") || !strings.Contains(string(b), "GONB_TMP_DIR") {
			t.Errorf("%s: the run folder must be the kernel's own (GONB_TMP_DIR), not a fixed shared one", nb)
		}
	}
	if s := read("scripts/notebook-test.sh"); !strings.Contains(s, "mktemp -d") || !strings.Contains(s, `rm -rf "$work"`) {
		t.Error("scripts/notebook-test.sh: each notebook must run in its own temporary folder, removed when it passes")
	}
}
