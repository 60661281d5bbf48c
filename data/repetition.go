package data

import (
	"hash/maphash"
	"strings"
)

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
	counts := map[uint64]int{}
	for n := 2; n <= 4; n++ {
		limit, ok := c.MaxTopNgram[n]
		if !ok || limit <= 0 || len(words) < n {
			continue
		}
		clear(counts)
		best, bestAt := 0, 0
		for i := 0; i+n <= len(words); i++ {
			h := ngramHash(wh[i : i+n])
			counts[h]++
			if counts[h] > best {
				best, bestAt = counts[h], i
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
		clear(counts)
		for i := 0; i+n <= len(words); i++ {
			counts[ngramHash(wh[i:i+n])]++
		}
		// Characters of words covered by an n-gram that occurs more than once, each word
		// counted once.
		dupChars, covered := 0, -1
		for i := 0; i+n <= len(words); i++ {
			if counts[ngramHash(wh[i:i+n])] < 2 {
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
