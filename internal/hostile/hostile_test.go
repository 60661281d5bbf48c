// Package hostile runs the hostile-input corpus in testdata/hostile: broken, absurd or
// malicious inputs of every kind golem reads (run configs, fine-tuning configs, Hugging Face
// folders, llama2.c files, tokenizers, token shards, JSONL, WARC, fine-tuning data). Each
// case must either fail with an error that names the file, line or key and contains the text
// cases.tsv gives, or be handled (read, with the problem reported), and none may panic.
package hostile

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/golem-ml/golem/convert"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/finetune"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// readers runs one kind of input; it returns what the user would see (an error, or the
// report of a run that went through).
var readers = map[string]func(t *testing.T, path string) (string, error){
	"config": func(t *testing.T, path string) (string, error) {
		_, err := train.LoadConfig(path, nil)
		return "", err
	},
	"finetune-config": func(t *testing.T, path string) (string, error) {
		_, err := finetune.LoadConfig(path, []string{"base=x", "data.train=[y]"})
		return "", err
	},
	"convert": func(t *testing.T, path string) (string, error) {
		_, err := convert.Import(path, "")
		return "", err
	},
	"tokenizer": func(t *testing.T, path string) (string, error) {
		_, err := tokenizer.LoadAny(path)
		return "", err
	},
	"shard": func(t *testing.T, path string) (string, error) {
		set, err := data.OpenShards([]string{path}, true)
		if err == nil {
			set.Close()
		}
		return "", err
	},
	"prepare": func(t *testing.T, path string) (string, error) {
		cfg := corpus.PrepareConfig{Inputs: []string{path}, Out: t.TempDir(), Workers: 1, MaxBadFraction: 0.5, Tokenizer: tokenizer.NewByte(), OptionNames: corpus.PrepareFlags}
		var err error
		if cfg.Filters, err = corpus.FilterPreset("none"); err != nil {
			t.Fatal(err)
		}
		if cfg.Dedup, err = corpus.ParseDedup("none"); err != nil {
			t.Fatal(err)
		}
		rep, err := corpus.Prepare(context.Background(), cfg)
		if rep != nil {
			return rep.String(), err
		}
		return "", err
	},
	"eval-task": func(t *testing.T, path string) (string, error) {
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			path = filepath.Join(path, "task.yaml") // a task with its data.jsonl
		}
		task, err := evaluate.LoadTask(path)
		if err != nil {
			return "", err
		}
		_, _, err = evaluate.Requests(task, 0, evaluate.Options{DataDir: filepath.Dir(path)})
		return "", err
	},
	"finetune-data": func(t *testing.T, path string) (string, error) {
		dc := finetune.DefaultConfig().Data
		ds, err := finetune.ReadFiles([]string{path}, dc)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		ds.Report(&b, path, 0)
		return b.String(), ds.CheckBad(dc.MaxBadFraction, path)
	},
}

type hostileCase struct {
	line                int
	file, kind, outcome string
	want                []string
}

func readCases(t *testing.T, root string) []hostileCase {
	f, err := os.Open(filepath.Join(root, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []hostileCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("cases.tsv:%d: want 4 tab-separated columns (file, kind, error|handled, text), got %d", n, len(cols))
		}
		cases = append(cases, hostileCase{n, cols[0], cols[1], cols[2], strings.Split(cols[3], " && ")})
	}
	return cases
}

func TestHostileInputs(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..", "testdata", "hostile")
	cases := readCases(t, root)
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			run, ok := readers[c.kind]
			if !ok {
				t.Fatalf("cases.tsv:%d: unknown kind %q", c.line, c.kind)
			}
			path := filepath.Join(root, c.file)
			var out string
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				out, err = run(t, path)
			}()
			text := out
			if err != nil {
				text = err.Error() + "\n" + out
			}
			if os.Getenv("HOSTILE_SHOW") != "" {
				fmt.Printf("%s\t%v\n%s\n\n", c.file, err != nil, text)
			}
			switch c.outcome {
			case "error":
				if err == nil {
					t.Fatalf("accepted; want an error containing %q\n%s", c.want, out)
				}
			case "handled":
				if err != nil {
					t.Fatalf("want it handled, got %v", err)
				}
			default:
				t.Fatalf("cases.tsv:%d: outcome %q is not error or handled", c.line, c.outcome)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
		})
	}
	// Every file in the corpus has a row, so no case is silently left out.
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		if err != nil || rel == "." || rel == "cases.tsv" || rel == "make.py" {
			return err
		}
		if d.IsDir() {
			if seen[rel] {
				return filepath.SkipDir // a case that is a folder
			}
			return nil
		}
		if !seen[rel] && !seen[filepath.Dir(rel)] {
			t.Errorf("%s has no row in cases.tsv", rel)
		}
		return nil
	})
}
