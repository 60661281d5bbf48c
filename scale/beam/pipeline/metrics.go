package pipeline

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Metrics are the bytes the pipeline hands to its groupings (payload; the runner adds a
// few bytes of framing per element), from the "shuffle" counters.
type Metrics struct {
	DedupKeyBytes  int64 // (task+hash, document) per dedup key of every kept document
	DedupPairBytes int64 // duplicate pairs, all sent to the clustering worker
	DedupDropBytes int64 // drops, back to their shards
	TokenBytes     int64 // kept documents' tokens, to their output shard's writer
}

// DedupBytes is the dedup stage's whole shuffle.
func (m Metrics) DedupBytes() int64 { return m.DedupKeyBytes + m.DedupPairBytes + m.DedupDropBytes }

func (m Metrics) String() string {
	return fmt.Sprintf("shuffled: dedup keys %.3f MB, pairs %.3f MB, drops %.3f MB; tokens %.3f MB",
		float64(m.DedupKeyBytes)/1e6, float64(m.DedupPairBytes)/1e6, float64(m.DedupDropBytes)/1e6, float64(m.TokenBytes)/1e6)
}

func metricsOf(res beam.PipelineResult) Metrics {
	var m Metrics
	if res == nil {
		return m
	}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Namespace() != "shuffle" {
			continue
		}
		switch c.Name() {
		case "dedup_key_bytes":
			m.DedupKeyBytes += c.Result()
		case "dedup_pair_bytes":
			m.DedupPairBytes += c.Result()
		case "dedup_drop_bytes":
			m.DedupDropBytes += c.Result()
		case "token_bytes":
			m.TokenBytes += c.Result()
		}
	}
	return m
}
