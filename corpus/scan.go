package corpus

import "context"

// Stage 1 of Prepare for one shard at a time, for engines that schedule shards and group
// dedup keys themselves (scale/beam): the same reading, cleaning, filtering, dedup keys
// and tokenization as Prepare, without Prepare's work folder.

// ScannedDoc is one kept document of a shard.
type ScannedDoc struct {
	Ord    uint32    // ordinal among the shard's documents, dropped ones included (see DocKey)
	Exact  [2]uint64 // exact-dedup key, when Dedup.Exact
	Bands  []uint64  // LSH band keys, one per band, when Dedup.MinHash
	Tokens []int     // the end-of-text token, then the document's tokens
}

// Scanner runs stage 1 on shards; it is safe for concurrent use, and its Workers
// goroutines are shared by every shard scanned at once.
type Scanner struct {
	p   *pipeline
	set *sigSet
}

// NewScanner checks cfg as Prepare does (Out and Inputs are not used; DroppedSamples
// writes under WorkDir when set).
func NewScanner(cfg PrepareConfig) (*Scanner, error) {
	if cfg.Out == "" {
		cfg.Out = "."
	}
	if cfg.Stage == "" {
		cfg.Stage = StageSignatures
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	p := &pipeline{ctx: context.Background(), cfg: cfg, filter: NewFilter(cfg.Filters), queueCap: 2 * cfg.Workers}
	return &Scanner{p: p, set: newSigSet(cfg.Dedup, NewMinHasher(cfg.Dedup))}, nil
}

// Scan reads input shard i (a local file) and calls emit for each kept document in
// order. Its stats count every drop by the filters (duplicates are decided later) and
// the bad input; as in Prepare, problems over MaxBadFraction of the records are an error.
func (s *Scanner) Scan(i int, path string, emit func(ScannedDoc) error) (ShardStats, error) {
	st := newStats(i, path)
	err := s.p.streamShard(i, path, &st, s.p.scanWork(s.set), func(r *docResult) error {
		if r.reason != "" {
			return nil
		}
		return emit(ScannedDoc{Ord: r.ord, Exact: r.sig.exact, Bands: r.sig.bands, Tokens: r.tokens})
	})
	return st, err
}

// Close stops the worker goroutines.
func (s *Scanner) Close() { s.p.stopWorkers() }

// Add sums up finished shards into the report (Prepare's final report).
func (r *Report) Add(stats ...ShardStats) {
	if r.Dropped == nil {
		r.Dropped = map[string]int64{}
	}
	if r.Problems == nil {
		r.Problems = map[string]int64{}
	}
	r.addAll(stats, true)
}
