package corpus

import (
	"context"
	"fmt"
	"iter"
	"os"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

// TextSource is the data.TextSource a training run reads raw text through: the readers,
// cleaning, filters and dedup of Prepare, applied on the fly. The zero value is ready; pass
// it as train.Options.Text or to data.Open.
type TextSource struct{}

// Tokens reads raw shards (any text format), cleans and filters them as configured and
// tokenizes on the fly, across all cores. Each document is followed by the end-of-text
// token. For corpora small enough to hold as tokens in memory; prepare larger ones.
//
// What reading met is added to rep as prepare counts it (records, documents, drops, bad
// input per kind with samples), and a file whose bad records pass data.max_bad_fraction
// fails as it does in prepare.
func (TextSource) Tokens(c data.Config, key string, specs []string, tok tokenizer.Tokenizer, rep *data.ReadReport) (data.Slice, error) {
	files, err := data.Expand(specs)
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
	p := &pipeline{ctx: context.Background(), cfg: PrepareConfig{
		Read:    ReadOptions{Format: c.Format, JSONL: JSONLOptions{TextField: c.TextField}},
		Filters: filters, Tokenizer: tok, MaxBadFraction: maxBad, Out: os.TempDir(),
		OptionNames: runOptionNames,
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
	var out data.Slice
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
		st.addTo(rep)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
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

// runOptionNames names Prepare's options by the run config keys that set them.
var runOptionNames = map[string]string{"MaxBadFraction": "data.max_bad_fraction"}

// Documents streams the text of every document of specs, read as c.Format and c.TextField
// say, for training a tokenizer.
func (TextSource) Documents(c data.Config, specs []string) iter.Seq2[string, error] {
	opts := ReadOptions{Format: c.Format, JSONL: JSONLOptions{TextField: c.TextField}}
	if opts.Format == "" {
		opts.Format = "auto"
	}
	return func(yield func(string, error) bool) {
		for d, err := range Documents(specs, opts) {
			if !yield(d.Text, err) || err != nil {
				return
			}
		}
	}
}

// addTo counts a read shard in a run's report, as Report.Add counts it in prepare's.
func (s ShardStats) addTo(r *data.ReadReport) {
	r.Files++
	r.Records += s.Records
	r.Documents += s.Documents
	r.Kept += s.Kept
	for k, v := range s.Dropped {
		r.Dropped[k] += v
	}
	for k, v := range s.Problems {
		r.Problems[k] += v
	}
	if len(r.Samples) < 20 {
		r.Samples = append(r.Samples, s.Samples...)
	}
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
