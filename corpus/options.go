package corpus

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

// Choices are the settings a prepare command takes as flags, in the words a user types: a filter
// preset refined by a filter file, languages and a word minimum (-1 keeps the preset's), the
// dedup list and a tokenizer path ("" = bytes). cmd/prepare and scale/beam's prepare both
// resolve their flags through Resolve, so the two read them the same way.
type Choices struct {
	Filters, FilterFile, Languages string
	MinWords                       int
	Dedup, Tokenizer               string
}

// PrepareFlags names PrepareConfig's options by the prepare commands' flags, for
// PrepareConfig.OptionNames: with it an error says --max-bad-fraction where Prepare alone
// says MaxBadFraction.
var PrepareFlags = map[string]string{
	"Inputs": "inputs", "Out": "--out", "WorkDir": "--work-dir", "Read.Format": "--format",
	"Read.JSONL.TextField": "--text-field", "Filters": "--filters", "Dedup": "--dedup",
	"Tokenizer": "--tokenizer", "ShardIndex": "--shard-index", "NumShards": "--num-shards",
	"Workers": "--workers", "Stage": "--stage", "MaxBadFraction": "--max-bad-fraction",
	"DroppedSamples": "--dropped-samples",
}

// Resolve turns choices into the filter, dedup and tokenizer settings Prepare takes.
func (c Choices) Resolve() (FilterConfig, DedupConfig, tokenizer.Tokenizer, error) {
	filters, err := FilterPreset(c.Filters)
	if err != nil {
		return filters, DedupConfig{}, nil, err
	}
	if c.FilterFile != "" {
		if filters, err = LoadFilterConfig(c.FilterFile, filters); err != nil {
			return filters, DedupConfig{}, nil, err
		}
	}
	if c.Languages != "" {
		filters.Languages = SplitList(c.Languages)
	}
	if c.MinWords >= 0 {
		filters.MinWords = c.MinWords
	}
	dedup, err := ParseDedup(c.Dedup)
	if err != nil {
		return filters, dedup, nil, err
	}
	var tok tokenizer.Tokenizer = tokenizer.NewByte()
	if c.Tokenizer != "" {
		if tok, err = tokenizer.LoadAny(c.Tokenizer); err != nil {
			return filters, dedup, nil, err
		}
	}
	return filters, dedup, tok, nil
}

// FilterPreset returns a named filter configuration (data.FilterPresets lists the names):
// "gopher" (DefaultFilters: Gopher quality and repetition rules plus C4 boilerplate removal),
// "fineweb" (FineWebFilters), "c4" (C4Filters), "minimal" (NFC, drop invalid UTF-8 and empty
// documents) or "none" (text exactly as read; only blank documents are dropped).
func FilterPreset(name string) (FilterConfig, error) {
	switch name {
	case "gopher", "default", "":
		return DefaultFilters(), nil
	case "minimal":
		return MinimalFilters(), nil
	case "c4":
		return C4Filters(), nil
	case "fineweb":
		return FineWebFilters(), nil
	case "none":
		return FilterConfig{Normalize: "none", InvalidUTF8: "keep"}, nil
	}
	return FilterConfig{}, fmt.Errorf("filters %q: use gopher, fineweb, c4, minimal or none", name)
}

// ParseDedup reads a dedup list such as "exact,minhash", "exact" or "none" (see
// data.ParseDedupKinds) into DefaultDedup's MinHash settings.
func ParseDedup(s string) (DedupConfig, error) {
	cfg := DefaultDedup()
	var err error
	cfg.Exact, cfg.MinHash, err = data.ParseDedupKinds(s)
	return cfg, err
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// LoadFilterConfig reads a YAML file of FilterConfig keys (normalize, min_words,
// repetition: {max_dup_lines: ...}, languages, ...) over base, so keys left out keep the
// preset's values. Unknown keys are errors, so a misspelt key does not pass silently.
func LoadFilterConfig(path string, base FilterConfig) (FilterConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return base, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	cfg := base
	if err := dec.Decode(&cfg); err != nil && err != io.EOF {
		return base, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.Validate(path); err != nil {
		return base, err
	}
	return cfg, nil
}
