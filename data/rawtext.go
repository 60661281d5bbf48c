package data

import (
	"fmt"
	"iter"
	"sort"
	"strings"

	"github.com/golem-ml/golem/tokenizer"
)

// TextSource reads raw text (plain text, JSONL, WARC/WET; plain, .gz or .zst) for a run.
// corpus.TextSource is golem's: it reads, cleans, filters and deduplicates as prepare does.
// Training takes it as a value, so the loader and the training loop link none of that code
// and a program that trains only on token shards can pass nil.
type TextSource interface {
	// Tokens reads the files specs name (files, folders, globs) as cfg says (format,
	// text_field, filters, languages, dedup, max_bad_fraction) and returns their tokens, each
	// document followed by tok's end-of-text token. key is the config key the specs came
	// from ("data.train"), for errors. What reading met is added to rep, also on an error.
	Tokens(cfg Config, key string, specs []string, tok tokenizer.Tokenizer, rep *ReadReport) (Slice, error)
	// Documents streams the text of every document that specs name, read as cfg's format
	// and text_field say (no cleaning), to train a tokenizer on. An error ends the sequence.
	Documents(cfg Config, specs []string) iter.Seq2[string, error]
}

// ReadReport is what reading raw text for a run met, counted as prepare counts it.
type ReadReport struct {
	Files     int
	Records   int64            // records or lines, bad ones included
	Documents int64            // documents read
	Kept      int64            // documents left after cleaning, filters and dedup
	Dropped   map[string]int64 // documents dropped, per reason
	Problems  map[string]int64 // bad input per kind
	Samples   []string         // the first problems, "file:record: problem"
}

// Brief is one line for a training run's log and summary: what reading raw text kept and
// dropped and, when there was any, the bad input per kind and the first case as file:line.
// Empty when no raw text was read (token shards).
func (r *ReadReport) Brief() string {
	if r == nil || r.Files == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data: %s, %s, %s, %d kept", Plural(r.Files, "file"), Plural(r.Records, "record"), Plural(r.Documents, "document"), r.Kept)
	if r.Documents > r.Kept {
		fmt.Fprintf(&b, " (dropped %s)", inline(r.Dropped))
	}
	bad := int64(0)
	for _, v := range r.Problems {
		bad += v
	}
	if bad == 0 {
		b.WriteString("; no bad input")
		return b.String()
	}
	fmt.Fprintf(&b, "; bad input: %d (%s)", bad, inline(r.Problems))
	if len(r.Samples) > 0 {
		fmt.Fprintf(&b, ", first: %s", r.Samples[0])
	}
	return b.String()
}

// inline is counts as "kind n, kind n", largest first.
func inline(m map[string]int64) string {
	var parts []string
	for _, k := range KeysByCount(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// KeysByCount orders the keys of counts largest count first, then by name: the order every
// report of drops and problems lists them in.
func KeysByCount(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys
}

// Plural writes a count with its noun: "1 record", "2 records", "0 records".
func Plural[N ~int | ~int64](n N, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
