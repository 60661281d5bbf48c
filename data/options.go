package data

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// FilterPreset returns a named filter configuration: "gopher" (DefaultFilters: Gopher
// quality and repetition rules plus C4 boilerplate removal), "fineweb" (FineWebFilters),
// "c4" (C4Filters), "minimal" (NFC, drop invalid
// UTF-8 and empty documents) or "none" (text exactly as read; only blank documents are dropped).
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

// ParseDedup reads a dedup list such as "exact,minhash", "exact" or "none".
func ParseDedup(s string) (DedupConfig, error) {
	cfg := DefaultDedup()
	cfg.Exact, cfg.MinHash = false, false
	for _, k := range strings.Split(s, ",") {
		switch strings.TrimSpace(k) {
		case "exact":
			cfg.Exact = true
		case "minhash", "near":
			cfg.MinHash = true
		case "none", "":
		default:
			return cfg, fmt.Errorf("dedup %q: list exact and/or minhash, or none", k)
		}
	}
	return cfg, nil
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
