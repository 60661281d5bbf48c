package data

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-ml/golem/tokenizer"
)

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

// encodeRaw reads raw shards (any text format), cleans and filters them as configured
// and tokenizes on the fly, across all cores. Each document is followed by the
// end-of-text token. For corpora small enough to hold as tokens in memory; prepare
// larger ones.
//
// What reading met is added to rep as prepare counts it (records, documents, drops, bad
// input per kind with samples), and a file whose bad records pass data.max_bad_fraction
// fails as it does in prepare.
func (c *Config) encodeRaw(key string, specs []string, tok tokenizer.Tokenizer, rep *Report) (Slice, error) {
	files, err := Expand(specs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	filters, err := FilterPreset(c.Filters)
	if err != nil {
		return nil, fmt.Errorf("data.filters: %w", err)
	}
	if c.Filters == "" {
		filters, _ = FilterPreset("none")
	}
	filters.Languages = c.Languages
	maxBad := 0.1
	if c.MaxBadFraction != nil {
		maxBad = *c.MaxBadFraction
	}
	p := &pipeline{cfg: PrepareConfig{
		Read:    ReadOptions{Format: c.Format, JSONL: JSONLOptions{TextField: c.TextField}},
		Filters: filters, Tokenizer: tok, MaxBadFraction: maxBad, Out: os.TempDir(),
	}, files: files, filter: NewFilter(filters)}
	if err := p.cfg.defaults(); err != nil {
		return nil, err
	}
	defer p.stopWorkers()
	dc, err := ParseDedup(c.Dedup)
	if err != nil {
		return nil, fmt.Errorf("data.dedup: %w", err)
	}
	sigs := newSigSet(dc, NewMinHasher(dc))
	seen := newMemDedup(dc)
	eot := tok.EOT()
	var out Slice
	var read, kept int64
	dropped := map[string]int64{}
	for i := range files {
		st := newStats(i, files[i])
		err := p.streamShard(i, files[i], &st, func(d *Document, r *docResult) {
			var text string
			if text, r.reason = p.filter.Apply(d); r.reason == "" {
				if dc.Enabled() {
					r.sig = sigs.compute(text)
				}
				r.tokens = tok.Encode(text)
			}
		}, func(r *docResult) error {
			if r.reason != "" {
				return nil
			}
			if why := seen.check(r.sig); why != "" {
				st.Kept--
				st.Dropped[why]++
				return nil
			}
			for _, id := range r.tokens {
				out = append(out, int32(id))
			}
			if eot >= 0 {
				out = append(out, int32(eot))
			}
			return nil
		})
		rep.addAll([]ShardStats{st}, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (data.max_bad_fraction sets the limit)", key, err)
		}
		read, kept = read+st.Documents, kept+st.Kept
		for k, v := range st.Dropped {
			dropped[k] += v
		}
	}
	if kept == 0 {
		return nil, fmt.Errorf("%s: no documents left: %d read, dropped %v; check data.format, data.text_field, data.filters and data.languages", key, read, dropped)
	}
	return out, nil
}

// memDedup is streaming first-seen deduplication in memory, for corpora small enough to
// tokenize on the fly; prepare deduplicates large ones on disk.
type memDedup struct {
	cfg   DedupConfig
	exact map[[2]uint64]struct{}
	bands []map[uint64]struct{}
}

func newMemDedup(cfg DedupConfig) *memDedup {
	m := &memDedup{cfg: cfg, exact: map[[2]uint64]struct{}{}}
	if cfg.MinHash {
		m.bands = make([]map[uint64]struct{}, cfg.withDefaults().Bands)
		for b := range m.bands {
			m.bands[b] = map[uint64]struct{}{}
		}
	}
	return m
}

// check returns the drop reason for a kept document's keys, or "" after recording them.
func (m *memDedup) check(s docSig) string {
	if !m.cfg.Enabled() {
		return ""
	}
	if m.cfg.Exact {
		if _, ok := m.exact[s.exact]; ok {
			return "exact_duplicate"
		}
	}
	for b, k := range s.bands {
		if _, ok := m.bands[b][k]; ok {
			return "near_duplicate"
		}
	}
	if m.cfg.Exact {
		m.exact[s.exact] = struct{}{}
	}
	for b, k := range s.bands {
		m.bands[b][k] = struct{}{}
	}
	return ""
}
