package corpus

import (
	"hash/maphash"
	"strings"
	"sync"
)

// countTable counts 64-bit keys with open addressing; much faster than a Go map for the
// n-gram passes, and reused across documents.
type countTable struct {
	keys   []uint64
	counts []int32
	mask   uint64
}

var tablePool = sync.Pool{New: func() any { return &countTable{} }}

// reset empties the table and sizes it for n keys.
func (t *countTable) reset(n int) {
	size := 64
	for size < 2*n {
		size *= 2
	}
	if len(t.keys) < size || len(t.keys) > 8*size {
		t.keys, t.counts = make([]uint64, size), make([]int32, size)
	} else {
		t.keys, t.counts = t.keys[:size], t.counts[:size]
		clear(t.keys)
		clear(t.counts)
	}
	t.mask = uint64(size - 1)
}

func (t *countTable) slot(k uint64) uint64 {
	if k == 0 {
		k = 1 // 0 marks an empty slot
	}
	i := (k * 0x9e3779b97f4a7c15) >> 20 & t.mask
	for t.keys[i] != 0 && t.keys[i] != k {
		i = (i + 1) & t.mask
	}
	t.keys[i] = k
	return i
}

func (t *countTable) inc(k uint64) int {
	i := t.slot(k)
	t.counts[i]++
	return int(t.counts[i])
}

func (t *countTable) get(k uint64) int { return int(t.counts[t.slot(k)]) }

var ngramSeed = maphash.MakeSeed()

// repetition applies Gopher's repetition filters (Rae et al. 2021, table A1), the way
// datatrove's GopherRepetitionFilter counts them. It returns the reason or "".
func repetition(text string, words []string, c *RepetitionConfig) string {
	total := float64(len(text))
	if total == 0 {
		return ""
	}
	if c.MaxDupParagraphs > 0 || c.MaxDupParagraphChars > 0 {
		paras := splitNonEmpty(text, "\n\n")
		dups, chars := duplicates(paras)
		if c.MaxDupParagraphs > 0 && float64(dups)/float64(len(paras)) > c.MaxDupParagraphs {
			return "dup_paragraphs"
		}
		if c.MaxDupParagraphChars > 0 && float64(chars)/total > c.MaxDupParagraphChars {
			return "dup_paragraph_chars"
		}
	}
	if c.MaxDupLines > 0 || c.MaxDupLineChars > 0 {
		lines := splitNonEmpty(text, "\n")
		dups, chars := duplicates(lines)
		if c.MaxDupLines > 0 && float64(dups)/float64(len(lines)) > c.MaxDupLines {
			return "dup_lines"
		}
		if c.MaxDupLineChars > 0 && float64(chars)/total > c.MaxDupLineChars {
			return "dup_line_chars"
		}
	}
	if len(c.MaxTopNgram) == 0 && len(c.MaxDupNgram) == 0 {
		return ""
	}
	wh := make([]uint64, len(words))
	for i, w := range words {
		wh[i] = maphash.String(ngramSeed, w)
	}
	counts := tablePool.Get().(*countTable)
	defer tablePool.Put(counts)
	counts.reset(len(words))
	for n := 2; n <= 4; n++ {
		limit, ok := c.MaxTopNgram[n]
		if !ok || limit <= 0 || len(words) < n {
			continue
		}
		counts.reset(len(words))
		best, bestAt := 0, 0
		for i := 0; i+n <= len(words); i++ {
			if c := counts.inc(ngramHash(wh[i : i+n])); c > best {
				best, bestAt = c, i
			}
		}
		if best > 1 {
			l := 0
			for _, w := range words[bestAt : bestAt+n] {
				l += len(w)
			}
			if float64(l*best)/total > limit {
				return "top_ngram_" + string(rune('0'+n))
			}
		}
	}
	for n := 5; n <= 10; n++ {
		limit, ok := c.MaxDupNgram[n]
		if !ok || limit <= 0 || len(words) < n {
			continue
		}
		counts.reset(len(words))
		for i := 0; i+n <= len(words); i++ {
			counts.inc(ngramHash(wh[i : i+n]))
		}
		// Characters of words covered by an n-gram that occurs more than once, each word
		// counted once.
		dupChars, covered := 0, -1
		for i := 0; i+n <= len(words); i++ {
			if counts.get(ngramHash(wh[i:i+n])) < 2 {
				continue
			}
			for j := max(i, covered+1); j < i+n; j++ {
				dupChars += len(words[j])
			}
			covered = i + n - 1
		}
		if dupChars == 0 {
			break // no repeated n-gram: no longer one repeats either
		}
		if float64(dupChars)/total > limit {
			if n == 10 {
				return "dup_ngram_10"
			}
			return "dup_ngram_" + string(rune('0'+n))
		}
	}
	return ""
}

func ngramHash(hs []uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, x := range hs {
		h = (h ^ x) * 1099511628211
		h ^= h >> 29
	}
	return h
}

func splitNonEmpty(text, sep string) []string {
	var out []string
	for p := range strings.SplitSeq(text, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// duplicates counts items equal to an earlier item, and their total length.
func duplicates(items []string) (n, chars int) {
	seen := make(map[string]struct{}, len(items))
	for _, it := range items {
		if _, ok := seen[it]; ok {
			n++
			chars += len(it)
			continue
		}
		seen[it] = struct{}{}
	}
	return n, chars
}
