package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// PatternO200K is tiktoken o200k_base's rule (GPT-4o): words are cased letter runs that
// may take one leading non-letter and a trailing contraction, numbers up to 3 digits,
// and "/" joins punctuation runs:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//	\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
const PatternO200K Pattern = "o200k"

const regexO200K = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`

var (
	o200kUpper = []*unicode.RangeTable{unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M}
	o200kLower = []*unicode.RangeTable{unicode.Ll, unicode.Lm, unicode.Lo, unicode.M}
)

// isUpperish is [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}].
func isUpperish(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'A' && r <= 'Z'
	}
	return unicode.IsOneOf(o200kUpper, r)
}

// isLowerish is [\p{Ll}\p{Lm}\p{Lo}\p{M}].
func isLowerish(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z'
	}
	return unicode.IsOneOf(o200kLower, r)
}

func spanLowerish(s string, i int) int {
	for i < len(s) {
		r, n := runeAt(s, i)
		if !isLowerish(r) {
			break
		}
		i += n
	}
	return i
}

func withContraction(s string, end int) int {
	if end < len(s) && s[end] == '\'' {
		end += contraction(s, end, true)
	}
	return end
}

// o200kWord1 matches Upper*Lower+ contraction? at j (with backtracking of Upper* into
// Lower+, since Lm, Lo and M are in both), or returns -1.
func o200kWord1(s string, j int) int {
	k, lastLowerEnd := j, -1
	for k < len(s) {
		r, n := runeAt(s, k)
		if !isUpperish(r) {
			break
		}
		k += n
		if isLowerish(r) {
			lastLowerEnd = k
		}
	}
	if k < len(s) {
		if r, _ := runeAt(s, k); isLowerish(r) {
			return withContraction(s, spanLowerish(s, k))
		}
	}
	if lastLowerEnd < 0 {
		return -1
	}
	return withContraction(s, lastLowerEnd)
}

// o200kWord2 matches Upper+Lower* contraction? at j, or returns -1.
func o200kWord2(s string, j int) int {
	k := j
	for k < len(s) {
		r, n := runeAt(s, k)
		if !isUpperish(r) {
			break
		}
		k += n
	}
	if k == j {
		return -1
	}
	return withContraction(s, spanLowerish(s, k))
}

func nextO200K(s string, i int) int {
	r, n := runeAt(s, i)
	cl := classOf(r)
	prefix := r != '\r' && r != '\n' && cl != clsLetter && cl != clsNumber && i+n < len(s)
	for _, word := range []func(string, int) int{o200kWord1, o200kWord2} {
		if prefix {
			if e := word(s, i+n); e >= 0 {
				return e
			}
		}
		if e := word(s, i); e >= 0 {
			return e
		}
	}
	if cl == clsNumber {
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
	// ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
	j := i
	if r == ' ' {
		j++
	}
	if j < len(s) {
		if r2, n2 := runeAt(s, j); classOf(r2) == clsOther {
			e := spanClass(s, j+n2, clsOther)
			for e < len(s) && (s[e] == '\r' || s[e] == '\n' || s[e] == '/') {
				e++
			}
			return e
		}
	}
	return newlineOrSpaceEnd(s, i)
}
