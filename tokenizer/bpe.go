package tokenizer

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/text/unicode/norm"
)

// BPE is a byte-level byte-pair-encoding tokenizer: GPT-2, tiktoken (r50k, p50k, cl100k),
// GPT-NeoX and the tokenizers Train builds. Every byte has a token, so any string
// encodes and Decode(Encode(s)) == s for every s, valid UTF-8 or not.
//
// A BPE is safe for concurrent use.
type BPE struct {
	tokens []string         // id -> token bytes ("" for an id with no token)
	ids    map[string]int32 // token bytes -> id, ordinary tokens only
	merges merges
	// compiled is merges frozen for fast lookups (see table).
	compiled    *mergeTable
	compileOnce sync.Once
	byteID      [256]int32 // id of each single byte, -1 if the vocabulary lacks it
	pattern     Pattern
	next        scanner

	wholeWord      bool // tiktoken / HF ignore_merges: a word that is a token is that token
	addPrefixSpace bool // HF ByteLevel add_prefix_space
	nfc            bool // HF NFC normalizer

	special map[string]int32 // special tokens, never produced from plain text
	added   addedSet         // HF non-special added tokens, matched in plain text
	eot     int32
	noCache bool // benchmarks: measure without the word cache

	states sync.Pool // *encState
}

// encState is one goroutine's word cache and buffers.
type encState struct {
	cache map[string][]int32
	syms  []int32
	sc    scratch
}

const (
	maxCacheEntries = 1 << 16
	maxCachedWord   = 128
	// parallelChunk is the text size above which Encode splits a text across cores.
	parallelChunk = 1 << 20
)

func (t *BPE) init() {
	for b := range t.byteID {
		t.byteID[b] = -1
		if id, ok := t.ids[string([]byte{byte(b)})]; ok {
			t.byteID[b] = id
		}
	}
	t.next, _ = t.pattern.scanner()
	t.states.New = func() any { return &encState{cache: make(map[string][]int32)} }
	t.eot = -1
	if id, ok := t.special[EndOfText]; ok {
		t.eot = id
	}
}

// VocabSize is the number of ids, special tokens included.
func (t *BPE) VocabSize() int { return len(t.tokens) }

// EOT is the id of <|endoftext|>, or -1.
func (t *BPE) EOT() int { return int(t.eot) }

// Pattern is the pre-tokenization rule.
func (t *BPE) Pattern() Pattern { return t.pattern }

// Token returns the bytes of token id ("" if id is out of range).
func (t *BPE) Token(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// ID returns the id of a token given as its bytes, special tokens included.
func (t *BPE) ID(token string) (int, bool) {
	if id, ok := t.special[token]; ok {
		return int(id), true
	}
	id, ok := t.ids[token]
	return int(id), ok
}

// SpecialTokens lists the special tokens (sorted by id).
func (t *BPE) SpecialTokens() []string {
	var s []string
	for tok := range t.special {
		s = append(s, tok)
	}
	slices.SortFunc(s, func(a, b string) int { return int(t.special[a] - t.special[b]) })
	return s
}

// Encode turns text into ids. Special tokens are never produced: "<|endoftext|>" in text
// is encoded as ordinary bytes. Texts over 1 MiB are split across cores at places where
// the pre-tokenizer splits anyway, so the result is the same as a serial encode.
func (t *BPE) Encode(text string) []int {
	return t.encode(text, nil, true)
}

// EncodeWithSpecial is Encode, except that the special tokens in allowed (every special
// token if allowed is empty) are recognized in text and encoded as their ids.
func (t *BPE) EncodeWithSpecial(text string, allowed ...string) []int {
	if len(allowed) == 0 {
		allowed = t.SpecialTokens()
	}
	var set addedSet
	for _, s := range allowed {
		if id, ok := t.special[s]; ok {
			set.add(s, id)
		}
	}
	return t.encode(text, &set, true)
}

// EncodeBatch encodes texts in parallel on all cores.
func (t *BPE) EncodeBatch(texts []string) [][]int {
	out := make([][]int, len(texts))
	parallel(len(texts), func(i int) { out[i] = t.encode(texts[i], nil, false) })
	return out
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

func (t *BPE) encode(text string, specials *addedSet, mayParallel bool) []int {
	if t.nfc && !norm.NFC.IsNormalString(text) {
		text = norm.NFC.String(text)
	}
	st := t.states.Get().(*encState)
	defer t.states.Put(st)
	out := make([]int, 0, len(text)/3+1)
	matchers := []*addedSet{specials, &t.added}
	var rec func(seg string, m int)
	rec = func(seg string, m int) {
		for m < len(matchers) && matchers[m].empty() {
			m++
		}
		if m == len(matchers) {
			if mayParallel && len(seg) > parallelChunk {
				out = t.encodeParallel(seg, out)
			} else {
				out = t.encodeOrdinary(seg, out, st)
			}
			return
		}
		matchers[m].split(seg, func(s string, id int32) {
			if id >= 0 {
				out = append(out, int(id))
			} else {
				rec(s, m+1)
			}
		})
	}
	rec(text, 0)
	return out
}

// encodeOrdinary pre-tokenizes seg and merges each word.
func (t *BPE) encodeOrdinary(seg string, out []int, st *encState) []int {
	if seg == "" {
		return out
	}
	if t.addPrefixSpace && seg[0] != ' ' {
		seg = " " + seg
	}
	for i := 0; i < len(seg); {
		j := t.next(seg, i)
		out = t.appendWord(out, seg[i:j], st)
		i = j
	}
	return out
}

func (t *BPE) appendWord(out []int, w string, st *encState) []int {
	if len(w) == 1 {
		if id := t.byteID[w[0]]; id >= 0 {
			return append(out, int(id))
		}
	}
	if ids, ok := st.cache[w]; ok && !t.noCache {
		for _, id := range ids {
			out = append(out, int(id))
		}
		return out
	}
	if t.wholeWord {
		if id, ok := t.ids[w]; ok {
			return append(out, int(id))
		}
	}
	syms := st.syms[:0]
	for i := 0; i < len(w); i++ {
		if id := t.byteID[w[i]]; id >= 0 {
			syms = append(syms, id)
		}
	}
	syms = t.table().apply(syms, &st.sc)
	st.syms = syms
	for _, id := range syms {
		out = append(out, int(id))
	}
	if len(w) <= maxCachedWord && !t.noCache {
		if len(st.cache) >= maxCacheEntries {
			clear(st.cache)
		}
		st.cache[strings.Clone(w)] = slices.Clone(syms)
	}
	return out
}

// safeChunks cuts s into pieces of about size bytes, cutting only after a "\n" that
// follows a non-space ASCII byte and precedes an ASCII letter: every pre-tokenization
// pattern (not PatternNone) ends a word there, so the pieces split into the same words.
func safeChunks(s string, size int) []string {
	var chunks []string
	for len(s) > size {
		cut := -1
		for i := size / 2; i+1 < len(s); i++ {
			if s[i] == '\n' && isASCIILetter(s[i+1]) && i > 0 && s[i-1] < 0x80 && asciiClass[s[i-1]] != clsSpace {
				cut = i + 1
				break
			}
		}
		if cut < 0 {
			break
		}
		chunks = append(chunks, s[:cut])
		s = s[cut:]
	}
	return append(chunks, s)
}

// encodeParallel encodes a long segment in safeChunks on all cores.
func (t *BPE) encodeParallel(seg string, out []int) []int {
	if t.addPrefixSpace || t.pattern == PatternNone {
		// the prefix space belongs to the first chunk only / one word cannot be cut
		st := t.states.Get().(*encState)
		defer t.states.Put(st)
		return t.encodeOrdinary(seg, out, st)
	}
	chunks := safeChunks(seg, parallelChunk)
	parts := make([][]int, len(chunks))
	parallel(len(chunks), func(i int) {
		st := t.states.Get().(*encState)
		parts[i] = t.encodeOrdinary(chunks[i], nil, st)
		t.states.Put(st)
	})
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// Decode concatenates the tokens' bytes. Ids out of range are skipped.
func (t *BPE) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id >= 0 && id < len(t.tokens) {
			b.WriteString(t.tokens[id])
		}
	}
	return b.String()
}

// newBPE assembles a BPE from tokens (by id), a merge table and the special tokens.
func newBPE(tokens []string, m merges, pattern Pattern, special map[string]int32) (*BPE, error) {
	t := &BPE{tokens: tokens, merges: m, pattern: pattern, special: special,
		ids: make(map[string]int32, len(tokens))}
	if _, ok := pattern.scanner(); !ok {
		return nil, fmt.Errorf("unknown pre-tokenization pattern %q (use %q, %q, %q or %q)",
			pattern, PatternGPT2, PatternCL100K, PatternO200K, PatternNone)
	}
	isSpecial := make(map[int32]bool, len(special))
	for _, id := range special {
		isSpecial[id] = true
	}
	for id, tok := range tokens {
		if tok == "" || isSpecial[int32(id)] {
			continue
		}
		if _, dup := t.ids[tok]; !dup {
			t.ids[tok] = int32(id)
		}
	}
	if t.special == nil {
		t.special = map[string]int32{}
	}
	t.init()
	return t, nil
}

// table is the merge table compiled for lookups, built on first use.
func (t *BPE) table() *mergeTable {
	t.compileOnce.Do(func() { t.compiled = t.merges.compile() })
	return t.compiled
}
