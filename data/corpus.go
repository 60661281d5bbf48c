package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

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
	// Format of the Train and Val files: "auto" (default: token shards for *.bin, a
	// manifest.json or a folder holding one; otherwise by file name, see DetectFormat),
	// "warc" (WARC/WET), "jsonl", "text" (a file is a document), "lines" (a line is a
	// document) or "tokens" (llm.c shards made by prepare, memory-mapped, never tokenized).
	Format string `yaml:"format"`
	// TextField is the JSONL field holding the text (dotted paths reach into objects);
	// default "text".
	TextField string `yaml:"text_field"`
	// Filters is the cleaning preset applied to raw text read on the fly: "none" (default),
	// "minimal", "gopher", "fineweb" or "c4" (see FilterPreset).
	Filters string `yaml:"filters"`
	// Languages keeps only raw documents identified as one of these ISO 639 codes.
	Languages []string `yaml:"languages"`
	// Dedup removes duplicate raw documents while reading, in memory (first seen is kept):
	// "none" (default), "exact", "minhash" or "exact,minhash". Prepare does it on disk for
	// large corpora.
	Dedup string `yaml:"dedup"`
	// MaxBadFraction fails when a raw file's bad records (malformed lines, broken
	// headers, truncated gzip members, empty documents) exceed this share of its
	// records; default 0.1 (as prepare --max-bad-fraction).
	MaxBadFraction *float64 `yaml:"max_bad_fraction"`
	// VerifyShards checks each token shard's CRC32C against its manifest at start-up
	// (reads every byte); headers and sizes are always checked.
	VerifyShards bool `yaml:"verify_shards"`
}

// Validate reports impossible settings, naming the key.
func (c *Config) Validate() error {
	if len(c.Train) == 0 {
		return fmt.Errorf("data.train: no training data given; list at least one file, folder or glob")
	}
	if len(c.Val) == 0 && (c.ValFraction <= 0 || c.ValFraction >= 1) {
		return fmt.Errorf("data.val_fraction: %g must be in (0, 1) when data.val is empty", c.ValFraction)
	}
	if !slices.Contains(Formats, c.Format) && c.Format != "" {
		return fmt.Errorf("data.format: %q; use one of %s", c.Format, strings.Join(Formats, ", "))
	}
	if strings.TrimSpace(c.TextField) != c.TextField || strings.HasPrefix(c.TextField, ".") || strings.HasSuffix(c.TextField, ".") {
		return fmt.Errorf("data.text_field: %q is not a field name or dotted path such as text or metadata.content", c.TextField)
	}
	if _, err := FilterPreset(c.Filters); err != nil {
		return fmt.Errorf("data.filters: %q; use none, minimal, gopher, fineweb or c4", c.Filters)
	}
	if _, err := ParseDedup(c.Dedup); err != nil {
		return fmt.Errorf("data.dedup: %q; use none, exact, minhash or exact,minhash", c.Dedup)
	}
	for _, l := range c.Languages {
		if len(l) < 2 || len(l) > 3 {
			return fmt.Errorf("data.languages: %q is not an ISO 639 code such as en or eng", l)
		}
	}
	if c.MaxBadFraction != nil && (*c.MaxBadFraction < 0 || *c.MaxBadFraction > 1) {
		return fmt.Errorf("data.max_bad_fraction: %g must be in [0, 1]", *c.MaxBadFraction)
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

// Open returns the training and validation token streams of the configured corpus.
// Token shards (see Config.Format) are memory-mapped after checking every header; raw
// text (plain, JSONL, WARC/WET; plain, .gz or .zst) is cleaned as configured and
// tokenized on the fly, each document followed by the end-of-text token. Without
// data.val, the last ValFraction of the training tokens is held out.
func Open(cfg Config, tok tokenizer.Tokenizer) (train, val Tokens, err error) {
	train, val, _, err = OpenReport(cfg, tok)
	return train, val, err
}

// OpenReport is Open that also returns what reading raw text met, counted as prepare
// counts it: records, documents kept and dropped, and bad input (malformed lines and
// records, truncated files) per kind with the first samples as file:line. Token shards add
// nothing to it. On an error the report says what was read up to it.
func OpenReport(cfg Config, tok tokenizer.Tokenizer) (train, val Tokens, rep *Report, err error) {
	rep = &Report{Stage: "read", Dropped: map[string]int64{}, Problems: map[string]int64{}}
	open := func(key string, specs []string) (Tokens, error) {
		shards, err := cfg.tokenSpecs(key, specs)
		if err != nil {
			return nil, err
		}
		if shards {
			return cfg.openTokenShards(key, specs, tok)
		}
		return cfg.encodeRaw(key, specs, tok, rep)
	}
	if train, err = open("data.train", cfg.Train); err != nil {
		return nil, nil, rep, err
	}
	if len(cfg.Val) > 0 {
		if val, err = open("data.val", cfg.Val); err != nil {
			return nil, nil, rep, err
		}
		return train, val, rep, nil
	}
	n := int64(float64(train.Len()) * (1 - cfg.ValFraction))
	if s, ok := train.(Slice); ok {
		return s[:n], s[n:], rep, nil
	}
	return Span{T: train, N: n}, Span{T: train, Off: n, N: train.Len() - n}, rep, nil
}
