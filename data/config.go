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

// Formats of data files. FormatAuto picks one from the file name (see corpus.DetectFormat).
const (
	FormatAuto   = ""
	FormatWARC   = "warc"   // WARC or WET (WET is WARC with conversion records)
	FormatJSONL  = "jsonl"  // one JSON object per line
	FormatText   = "text"   // the whole file is one document
	FormatLines  = "lines"  // each non-blank line is a document
	FormatTokens = "tokens" // llm.c token shards (.bin), no tokenization
)

// Formats lists the valid values of data.format / prepare --format.
var Formats = []string{"auto", FormatWARC, FormatJSONL, FormatText, FormatLines, FormatTokens}

// FilterPresets are the cleaning presets data.filters and prepare --filters name ("default"
// and "" mean gopher); corpus.FilterPreset says what each does.
var FilterPresets = []string{"gopher", "fineweb", "c4", "minimal", "none"}

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
	if c.Filters != "" && c.Filters != "default" && !slices.Contains(FilterPresets, c.Filters) {
		return fmt.Errorf("data.filters: %q; use none, minimal, gopher, fineweb or c4", c.Filters)
	}
	if _, _, err := ParseDedupKinds(c.Dedup); err != nil {
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

// ParseDedupKinds reads a dedup list such as "exact,minhash", "exact" or "none" (data.dedup,
// prepare --dedup); "near" is another name for minhash.
func ParseDedupKinds(s string) (exact, minhash bool, err error) {
	for _, k := range strings.Split(s, ",") {
		switch strings.TrimSpace(k) {
		case "exact":
			exact = true
		case "minhash", "near":
			minhash = true
		case "none", "":
		default:
			return false, false, fmt.Errorf("dedup %q: list exact and/or minhash, or none", k)
		}
	}
	return exact, minhash, nil
}

// Open returns the training and validation token streams of the configured corpus.
// Token shards (see Config.Format) are memory-mapped after checking every header; raw
// text (plain, JSONL, WARC/WET; plain, .gz or .zst) is read by text (corpus.TextSource
// cleans it as configured and tokenizes it on the fly, each document followed by the
// end-of-text token); with text nil, raw text is an error. Without data.val, the last
// ValFraction of the training tokens is held out.
func Open(cfg Config, tok tokenizer.Tokenizer, text TextSource) (train, val Tokens, err error) {
	train, val, _, err = OpenReport(cfg, tok, text)
	return train, val, err
}

// OpenReport is Open that also returns what reading raw text met, counted as prepare
// counts it: records, documents kept and dropped, and bad input (malformed lines and
// records, truncated files) per kind with the first samples as file:line. Token shards add
// nothing to it. On an error the report says what was read up to it.
func OpenReport(cfg Config, tok tokenizer.Tokenizer, text TextSource) (train, val Tokens, rep *ReadReport, err error) {
	rep = &ReadReport{Dropped: map[string]int64{}, Problems: map[string]int64{}}
	open := func(key string, specs []string) (Tokens, error) {
		shards, err := cfg.tokenSpecs(key, specs)
		if err != nil {
			return nil, err
		}
		if shards {
			return cfg.openTokenShards(key, specs, tok)
		}
		if text == nil {
			return nil, fmt.Errorf("%s: %s is raw text and this program reads only token shards; run prepare on it and list its output folder", key, strings.Join(specs, ", "))
		}
		return text.Tokens(cfg, key, specs, tok, rep)
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

// isTokenSpec reports whether a data spec names token shards: a *.bin file or glob, a
// manifest.json, or a folder holding a manifest.json.
func isTokenSpec(spec string) bool {
	if strings.HasSuffix(spec, ".bin") || filepath.Base(spec) == ManifestFile {
		return true
	}
	st, err := os.Stat(spec)
	if err != nil || !st.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(spec, ManifestFile))
	return err == nil
}

// tokenSpecs decides whether specs are token shards (true) or raw text (false), refusing
// a mix.
func (c *Config) tokenSpecs(key string, specs []string) (bool, error) {
	if c.Format == FormatTokens {
		return true, nil
	}
	if c.Format != "" && c.Format != "auto" {
		return false, nil
	}
	n := 0
	for _, s := range specs {
		if isTokenSpec(s) {
			n++
		}
	}
	if n > 0 && n < len(specs) {
		return false, fmt.Errorf("%s: mixes token shards and raw text; run prepare on the raw files and list its output folder", key)
	}
	return n > 0, nil
}

// openTokenShards maps token shards and checks they were made for this tokenizer.
func (c *Config) openTokenShards(key string, specs []string, tok tokenizer.Tokenizer) (*ShardSet, error) {
	set, err := OpenShards(specs, c.VerifyShards)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if m := set.Manifest; m != nil && (m.VocabSize != tok.VocabSize() || m.EOT != tok.EOT()) {
		set.Close()
		return nil, fmt.Errorf("%s: the shards were tokenized with vocab_size %d and eot %d but the tokenizer has %d and %d; use the tokenizer.json saved next to the shards", key, m.VocabSize, m.EOT, tok.VocabSize(), tok.EOT())
	}
	if err := set.CheckIDs(tok.VocabSize()); err != nil {
		set.Close()
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return set, nil
}
