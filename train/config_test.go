package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/tokenizer"
)

func TestEveryShippedConfigLoads(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot(), "configs", "*.yaml"))
	if len(files) < 4 {
		t.Fatalf("want at least tiny, small, gpt2-124m and a Llama config in configs/, found %v", files)
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "finetune") {
			continue // fine-tuning configs are checked by package finetune
		}
		cfg, err := LoadConfig(f, nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if cfg.Model.Layers == 0 || cfg.Model.Width == 0 || cfg.Train.Steps == 0 {
			t.Errorf("%s: model or train section left empty: %+v", f, cfg)
		}
		if p := cfg.Tokenizer.Path; p != "" && p != "byte" {
			tok, err := tokenizer.LoadAny(filepath.Join(repoRoot(), p))
			if err != nil {
				t.Errorf("%s: tokenizer.path: %v", f, err)
			} else if cfg.Model.VocabSize != 0 && tok.VocabSize() > cfg.Model.VocabSize {
				t.Errorf("%s: tokenizer has %d ids, model.vocab_size %d", f, tok.VocabSize(), cfg.Model.VocabSize)
			}
		}
	}
}

func TestBadConfigsNameFileAndKey(t *testing.T) {
	dir := t.TempDir()
	base := "model:\n  seq_len: 32\n  layers: 1\n  width: 32\n  heads: 4\ndata:\n  train: [x.txt]\n"
	cases := []struct {
		name, yaml string
		sets       []string
		want       []string
	}{
		{"unknown key", base + "optimizer:\n  lrr: 0.1\n", nil, []string{"bad.yaml:9", "optimizer.lrr: unknown key", "lr"}},
		{"wrong type", base + "optimizer:\n  lr: fast\n", nil, []string{"bad.yaml:9", "optimizer.lr", `"fast" is not a valid number`}},
		{"heads do not divide width", strings.Replace(base, "heads: 4", "heads: 5", 1), nil, []string{"bad.yaml", "model.heads: 5 does not divide model.width 32"}},
		{"micro-batch does not divide batch", base + "train:\n  batch_size: 10\n  micro_batch_size: 4\n", nil, []string{"bad.yaml", "train.micro_batch_size: 4 does not divide train.batch_size 10"}},
		{"kv heads", base, []string{"model.kv_heads=3"}, []string{"model.kv_heads: 3 must divide model.heads 4"}},
		{"unknown override", base, []string{"optimizer.learning_rate=1"}, []string{"--set optimizer.learning_rate=1", "unknown key"}},
		{"override type", base, []string{"train.steps=many"}, []string{"--set train.steps=many", "train.steps", "whole number"}},
		{"section given a value", base + "optimizer: 3\n", nil, []string{"bad.yaml:8", "optimizer: want a mapping"}},
		{"no data", "model:\n  seq_len: 8\n  layers: 1\n  width: 8\n  heads: 1\n", nil, []string{"data.train: no training data"}},
		{"positions", base, []string{"model.positions=alibi"}, []string{`model.positions: "alibi" is not one of learned, rope`}},
	}
	for _, c := range cases {
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(path, c.sets)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
}
