package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Pattern names a pre-tokenization rule: how text is cut into words before BPE merges.
// The regular expressions below use lookahead, which Go's regexp lacks, so each pattern is
// a hand-written scanner that returns exactly the regex's matches (verified against
// tiktoken and HF tokenizers by the golden tests).
type Pattern string

const (
	// PatternGPT2 is GPT-2's (and r50k/p50k's, GPT-NeoX's, HF ByteLevel use_regex's):
	//  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
	PatternGPT2 Pattern = "gpt2"
	// PatternCL100K is tiktoken cl100k_base's (GPT-3.5/4, Llama 3):
	//  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
	PatternCL100K Pattern = "cl100k"
	// PatternCL100KTrailing is the rewrite of the cl100k rule in Python tiktoken 0.7 and
	// later (possessive quantifiers, \s++$): the same words, except that whitespace that
	// runs to the end of the text is one word even when it holds a newline ("\n  " at the
	// end is one word, not "\n" and "  "). npm tiktoken still uses the original.
	//  '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
	PatternCL100KTrailing Pattern = "cl100k-trailing"
	// PatternNone does not split: the whole text is one word.
	PatternNone Pattern = "none"
)

// Regex strings as they appear in tiktoken and in HF tokenizer.json Split pre-tokenizers.
const (
	// regexGPT2Possessive is Python tiktoken 0.7+'s r50k/p50k rewrite: the same words.
	regexGPT2Possessive = `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s`
	regexCL100KTrailing = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
	regexGPT2           = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	regexCL100K         = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// scanner returns the end of the word that starts at s[i:] (i < len(s)).
type scanner func(s string, i int) int

func (p Pattern) scanner() (scanner, bool) {
	switch p {
	case PatternGPT2:
		return nextGPT2, true
	case PatternCL100K:
		return nextCL100K, true
	case PatternCL100KTrailing:
		return nextCL100KTrailing, true
	case PatternO200K:
		return nextO200K, true
	case PatternNone:
		return func(s string, _ int) int { return len(s) }, true
	}
	return nil, false
}

// Regex is the regular expression the pattern implements (empty for PatternNone).
func (p Pattern) Regex() string {
	switch p {
	case PatternGPT2:
		return regexGPT2
	case PatternCL100K:
		return regexCL100K
	case PatternCL100KTrailing:
		return regexCL100KTrailing
	case PatternO200K:
		return regexO200K
	}
	return ""
}

// Split cuts text into the words p would hand to BPE.
func (p Pattern) Split(text string) []string {
	next, ok := p.scanner()
	if !ok {
		return []string{text}
	}
	var words []string
	for i := 0; i < len(text); {
		j := next(text, i)
		words = append(words, text[i:j])
		i = j
	}
	return words
}

type class uint8

const (
	clsOther class = iota // [^\s\p{L}\p{N}], invalid UTF-8 bytes included (as U+FFFD)
	clsLetter
	clsNumber
	clsSpace
)

var asciiClass = func() (t [128]class) {
	for c := range 128 {
		switch r := rune(c); {
		case unicode.IsLetter(r):
			t[c] = clsLetter
		case unicode.IsNumber(r):
			t[c] = clsNumber
		case unicode.IsSpace(r):
			t[c] = clsSpace
		}
	}
	return
}()

func classOf(r rune) class {
	if r < 128 {
		return asciiClass[r]
	}
	switch {
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r):
		return clsSpace
	}
	return clsOther
}

// runeAt decodes the rune at s[i]; an invalid byte is U+FFFD of width 1.
func runeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// spanClass returns the end of the run of class c starting at i.
func spanClass(s string, i int, c class) int {
	for i < len(s) {
		if b := s[i]; b < utf8.RuneSelf {
			if asciiClass[b] != c {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if classOf(r) != c {
			return i
		}
		i += n
	}
	return i
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at s[i] (s[i] == '\”), or 0.
func contraction(s string, i int, fold bool) int {
	lower := func(k int) byte {
		if k >= len(s) {
			return 0
		}
		c := s[k]
		if fold && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		return c
	}
	switch lower(i + 1) {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if lower(i+2) == 'e' {
			return 3
		}
	case 'l':
		if lower(i+2) == 'l' {
			return 3
		}
	case 0xC5: // ſ (U+017F) folds to s under (?i)
		if fold && i+2 < len(s) && s[i+2] == 0xBF {
			return 3
		}
	}
	return 0
}

// whitespaceEnd implements \s+(?!\S)|\s+ at a whitespace rune at s[i].
func whitespaceEnd(s string, i int) int {
	k, last := i, i
	for k < len(s) {
		r, n := runeAt(s, k)
		if classOf(r) != clsSpace {
			break
		}
		last = k
		k += n
	}
	if k == len(s) || last == i {
		return k
	}
	return last
}

func nextGPT2(s string, i int) int {
	c := s[i]
	if c == '\'' {
		if n := contraction(s, i, false); n > 0 {
			return i + n
		}
	}
	j := i
	if c == ' ' {
		j++
	}
	if j < len(s) {
		r, n := runeAt(s, j)
		if cl := classOf(r); cl != clsSpace {
			return spanClass(s, j+n, cl)
		}
	}
	return whitespaceEnd(s, i)
}

func nextCL100K(s string, i int) int {
	r, n := runeAt(s, i)
	if r == '\'' {
		if k := contraction(s, i, true); k > 0 {
			return i + k
		}
	}
	cl := classOf(r)
	switch cl {
	case clsLetter:
		return spanClass(s, i+n, clsLetter)
	case clsNumber:
		j := i + n
		for k := 1; k < 3 && j < len(s); k++ {
			r2, n2 := runeAt(s, j)
			if classOf(r2) != clsNumber {
				break
			}
			j += n2
		}
		return j
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if r != '\r' && r != '\n' && i+n < len(s) {
		if r2, n2 := runeAt(s, i+n); classOf(r2) == clsLetter {
			return spanClass(s, i+n+n2, clsLetter)
		}
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := i
	if r == ' ' {
		j++
	}
	if j < len(s) {
		if r2, n2 := runeAt(s, j); classOf(r2) == clsOther {
			e := spanClass(s, j+n2, clsOther)
			for e < len(s) && (s[e] == '\r' || s[e] == '\n') {
				e++
			}
			return e
		}
	}
	return newlineOrSpaceEnd(s, i)
}

// newlineOrSpaceEnd implements \s*[\r\n]+|\s+(?!\S)|\s+ at a whitespace rune at s[i].
func newlineOrSpaceEnd(s string, i int) int {
	k, last, nl := i, i, -1
	for k < len(s) {
		r2, n2 := runeAt(s, k)
		if classOf(r2) != clsSpace {
			break
		}
		if r2 == '\r' || r2 == '\n' {
			nl = k + n2
		}
		last = k
		k += n2
	}
	if nl > 0 {
		return nl
	}
	if k == len(s) || last == i {
		return k
	}
	return last
}

// nextCL100KTrailing is nextCL100K with \s++$ tried before the newline rule.
func nextCL100KTrailing(s string, i int) int {
	if r, _ := runeAt(s, i); classOf(r) == clsSpace {
		k := i
		for k < len(s) {
			r2, n2 := runeAt(s, k)
			if classOf(r2) != clsSpace {
				break
			}
			k += n2
		}
		if k == len(s) {
			// Earlier alternatives need a letter or punctuation after the space.
			return k
		}
	}
	return nextCL100K(s, i)
}
