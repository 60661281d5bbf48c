package tokenizer

import (
	"slices"
	"strings"
)

// addedSet finds whole-token strings in text (special tokens, HF added tokens), leftmost
// first and longest at a position, like HF tokenizers' added vocabulary.
type addedSet struct {
	byFirst map[byte][]addedToken // longest first
	n       int
	// Fast rejection: the first two bytes of every token of two or more bytes, and
	// the first bytes that are tokens on their own.
	two     []uint64 // bitset over 65536 byte pairs
	oneByte [256]bool
}

type addedToken struct {
	s  string
	id int32
}

func (a *addedSet) add(s string, id int32) {
	if s == "" {
		return
	}
	if a.byFirst == nil {
		a.byFirst = make(map[byte][]addedToken)
	}
	l := append(a.byFirst[s[0]], addedToken{s, id})
	slices.SortStableFunc(l, func(x, y addedToken) int { return len(y.s) - len(x.s) })
	a.byFirst[s[0]] = l
	a.n++
	if a.two == nil {
		a.two = make([]uint64, 65536/64)
	}
	if len(s) == 1 {
		a.oneByte[s[0]] = true
	} else {
		k := int(s[0])<<8 | int(s[1])
		a.two[k/64] |= 1 << (k % 64)
	}
}

func (a *addedSet) empty() bool { return a == nil || a.n == 0 }

// split calls f(segment, -1) for each stretch of plain text and f(token, id) for each match.
func (a *addedSet) split(s string, f func(seg string, id int32)) {
	start := 0
	for i := 0; i < len(s); {
		if !a.oneByte[s[i]] {
			if i+1 >= len(s) {
				break
			}
			if k := int(s[i])<<8 | int(s[i+1]); a.two[k/64]&(1<<(k%64)) == 0 {
				i++
				continue
			}
		}
		matched := false
		for _, tk := range a.byFirst[s[i]] {
			if strings.HasPrefix(s[i:], tk.s) {
				if start < i {
					f(s[start:i], -1)
				}
				f(tk.s, tk.id)
				i += len(tk.s)
				start = i
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	if start < len(s) {
		f(s[start:], -1)
	}
}
