package corpus

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Document is one text with its provenance: the shard it came from and its record (WARC)
// or line (JSONL, line-per-document text) number there, 1-based; 0 for whole-file text.
type Document struct {
	Text   string
	Shard  string
	Record int64
	// ID is the record or document id (WARC-Record-ID, JSONL "id"); URL the page address
	// (WARC-Target-URI, JSONL "url" or "metadata.url"); Date its crawl or creation time as
	// written in the source; Lang the identified language(s), e.g. "spa" or "eng,fra".
	ID, URL, Date, Lang string
}

// Where is "shard:record", the way problems and reports name a document.
func (d *Document) Where() string { return fmt.Sprintf("%s:%d", d.Shard, d.Record) }

// DocReader streams the documents of one shard. Bad input (a malformed line, a broken
// header, a truncated gzip member) does not stop it: it is reported to the reader's
// Problems and reading continues with the next record or line.
type DocReader interface {
	// Next returns the next document, or io.EOF after the last. Any other error is fatal
	// for the shard (the file cannot be read at all).
	Next() (Document, error)
	// Records is the number of records (WARC) or lines (JSONL) seen so far, bad ones included.
	Records() int64
	// Offset is how many bytes of the file (compressed) have been consumed, for progress.
	Offset() int64
	Close() error
}

// Problem is one piece of bad input: file, record or line number, what is wrong.
type Problem struct {
	File   string
	Record int64
	Kind   string // short class used for counting, e.g. "bad_json", "truncated_compressed"
	Msg    string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Record, p.Msg) }

// Problems collects bad-input reports from readers; it is safe for concurrent use. It
// keeps every count but only the first MaxSamples messages.
type Problems struct {
	MaxSamples int

	mu      sync.Mutex
	total   int64
	byKind  map[string]int64
	samples []Problem
	// Log, when set, is called with every problem as it happens.
	Log func(Problem)
}

// Add records a problem.
func (ps *Problems) Add(p Problem) {
	if ps == nil {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.total++
	if ps.byKind == nil {
		ps.byKind = map[string]int64{}
	}
	ps.byKind[p.Kind]++
	max := ps.MaxSamples
	if max == 0 {
		max = 100
	}
	if len(ps.samples) < max {
		ps.samples = append(ps.samples, p)
	}
	if ps.Log != nil {
		ps.Log(p)
	}
}

// Total is the number of problems reported.
func (ps *Problems) Total() int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.total
}

// ByKind returns the count per kind.
func (ps *Problems) ByKind() map[string]int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	m := make(map[string]int64, len(ps.byKind))
	for k, v := range ps.byKind {
		m[k] = v
	}
	return m
}

// Samples returns the first problems reported.
func (ps *Problems) Samples() []Problem {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]Problem(nil), ps.samples...)
}

// Merge adds all of o's counts and samples to ps.
func (ps *Problems) Merge(o *Problems) {
	for _, p := range o.Samples() {
		ps.mu.Lock()
		if len(ps.samples) < max(ps.MaxSamples, 100) {
			ps.samples = append(ps.samples, p)
		}
		ps.mu.Unlock()
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.byKind == nil {
		ps.byKind = map[string]int64{}
	}
	for k, v := range o.ByKind() {
		ps.byKind[k] += v
		ps.total += v
	}
}

// String lists the counts per kind, largest first.
func (ps *Problems) String() string {
	m := ps.ByKind()
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		return m[kinds[i]] > m[kinds[j]] || m[kinds[i]] == m[kinds[j]] && kinds[i] < kinds[j]
	})
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}
