package data

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/golem-ml/golem/tokenizer"
)

// Config says where a run's text comes from. It is the `data:` section of a run config.
type Config struct {
	// Train lists files, folders or globs of training text.
	Train []string `yaml:"train"`
	// Val lists held-out files; when empty, the last ValFraction of the training tokens is held out.
	Val []string `yaml:"val"`
	// ValFraction is the share of tokens held out for validation when Val is empty.
	ValFraction float64 `yaml:"val_fraction"`
}

// Validate reports impossible settings, naming the key.
func (c *Config) Validate() error {
	if len(c.Train) == 0 {
		return fmt.Errorf("data.train: no training data given; list at least one file, folder or glob")
	}
	if len(c.Val) == 0 && (c.ValFraction <= 0 || c.ValFraction >= 1) {
		return fmt.Errorf("data.val_fraction: %g must be in (0, 1) when data.val is empty", c.ValFraction)
	}
	return nil
}

// Expand turns files, folders and globs into a sorted list of files.
func Expand(specs []string) ([]string, error) {
	var files []string
	for _, s := range specs {
		matches, err := filepath.Glob(s)
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %w", s, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s: no such file or folder", s)
		}
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				return nil, err
			}
			if !st.IsDir() {
				files = append(files, m)
				continue
			}
			err = filepath.WalkDir(m, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files = append(files, p)
				}
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", m, err)
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

// Open tokenizes the configured corpus: documents are encoded with tok and joined with its
// end-of-text token. It returns the training and validation streams.
func Open(cfg Config, tok tokenizer.Tokenizer) (train, val Tokens, err error) {
	trainToks, err := encodeFiles(cfg.Train, tok)
	if err != nil {
		return nil, nil, fmt.Errorf("data.train: %w", err)
	}
	if len(cfg.Val) > 0 {
		valToks, err := encodeFiles(cfg.Val, tok)
		if err != nil {
			return nil, nil, fmt.Errorf("data.val: %w", err)
		}
		return trainToks, valToks, nil
	}
	n := int(float64(len(trainToks)) * (1 - cfg.ValFraction))
	return trainToks[:n], trainToks[n:], nil
}

func encodeFiles(specs []string, tok tokenizer.Tokenizer) (Slice, error) {
	files, err := Expand(specs)
	if err != nil {
		return nil, err
	}
	var out Slice
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, id := range tok.Encode(string(b)) {
			out = append(out, int32(id))
		}
		if eot := tok.EOT(); eot >= 0 {
			out = append(out, int32(eot))
		}
	}
	return out, nil
}
