package corpus

import (
	"fmt"
	"strings"
	"time"

	"github.com/golem-ml/golem/data"
)

// Report sums up a Prepare run (this job's shards).
type Report struct {
	// Fields are exported as JSON too; durations in nanoseconds.
	Stage     string
	Shards    int   // input shards handled
	Skipped   int   // of which were already complete
	Bytes     int64 // input file bytes (compressed)
	TextBytes int64 // document text bytes read
	Records   int64
	Documents int64
	Kept      int64
	Dropped   map[string]int64 // per reason
	Edited    map[string]int64 // kept documents changed by cleaning, per edit
	Problems  map[string]int64 // bad input per kind
	Samples   []string         // the first problems, "file:record: problem"
	DupPairs  int64            // duplicate pairs found by the dedup stage
	Tokens    int64
	Manifest  string // path of the manifest, once every shard is done
	Elapsed   time.Duration
	PerShard  []ShardStats
}

func (r *Report) addAll(stats []ShardStats, final bool) {
	if !final {
		return
	}
	for _, s := range stats {
		r.Shards++
		if s.Skipped {
			r.Skipped++
		}
		r.Bytes += s.Bytes
		r.TextBytes += s.TextBytes
		r.Records += s.Records
		r.Documents += s.Documents
		r.Kept += s.Kept
		r.Tokens += s.Tokens
		for k, v := range s.Dropped {
			r.Dropped[k] += v
		}
		for k, v := range s.Edited {
			if r.Edited == nil {
				r.Edited = map[string]int64{}
			}
			r.Edited[k] += v
		}
		for k, v := range s.Problems {
			r.Problems[k] += v
		}
		if len(r.Samples) < 20 {
			r.Samples = append(r.Samples, s.Samples...)
		}
		r.PerShard = append(r.PerShard, s)
	}
}

// MBps is input megabytes (10^6 bytes, compressed as stored) per second of wall time.
func (r *Report) MBps() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds()
}

func sortedCounts(m map[string]int64) string {
	var b strings.Builder
	for _, k := range data.KeysByCount(m) {
		fmt.Fprintf(&b, "    %-22s %d\n", k, m[k])
	}
	return b.String()
}

// String is the final report printed by prepare.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stage %s: %d shards (%d already done), %.1f MB in, %.1f MB of text\n", r.Stage, r.Shards, r.Skipped, float64(r.Bytes)/1e6, float64(r.TextBytes)/1e6)
	fmt.Fprintf(&b, "  records read     %d\n  documents read   %d\n  documents kept   %d\n", r.Records, r.Documents, r.Kept)
	if r.Documents > 0 {
		fmt.Fprintf(&b, "  dropped          %d (%.1f%%)\n", r.Documents-r.Kept, 100*float64(r.Documents-r.Kept)/float64(r.Documents))
	}
	b.WriteString(sortedCounts(r.Dropped))
	if len(r.Edited) > 0 {
		b.WriteString("  cleaned (kept, edited):\n")
		b.WriteString(sortedCounts(r.Edited))
	}
	if len(r.Problems) > 0 {
		b.WriteString("  bad input:\n")
		b.WriteString(sortedCounts(r.Problems))
		for _, s := range r.Samples[:min(len(r.Samples), 5)] {
			fmt.Fprintf(&b, "    e.g. %s\n", s)
		}
	}
	if r.DupPairs > 0 {
		fmt.Fprintf(&b, "  duplicate pairs  %d\n", r.DupPairs)
	}
	fmt.Fprintf(&b, "  tokens written   %d\n", r.Tokens)
	fmt.Fprintf(&b, "  time             %s, %.1f MB/s in, %.1f MB/s of text\n", r.Elapsed.Round(time.Millisecond), r.MBps(), float64(r.TextBytes)/1e6/max(r.Elapsed.Seconds(), 1e-9))
	if r.Manifest != "" {
		fmt.Fprintf(&b, "  manifest         %s\n", r.Manifest)
	}
	return b.String()
}

// ShardStats is what happened to one input shard. Its JSON is saved next to the work
// state so a rerun that skips a finished shard still reports it.
type ShardStats struct {
	Source    string           `json:"source"`
	Index     int              `json:"index"`
	Bytes     int64            `json:"bytes"`      // input file size
	TextBytes int64            `json:"text_bytes"` // UTF-8 bytes of documents read
	Records   int64            `json:"records"`    // records or lines, bad ones included
	Documents int64            `json:"documents"`
	Kept      int64            `json:"kept"`
	Dropped   map[string]int64 `json:"dropped"`
	Edited    map[string]int64 `json:"edited,omitempty"` // kept documents changed by cleaning, per edit`
	Problems  map[string]int64 `json:"problems"`
	Samples   []string         `json:"problem_samples,omitempty"`
	Tokens    int64            `json:"tokens"`
	Output    string           `json:"output,omitempty"`
	Version   int              `json:"version,omitempty"`
	CRC32C    string           `json:"crc32c,omitempty"`
	Skipped   bool             `json:"-"` // already complete before this run
}
