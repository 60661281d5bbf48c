package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// SentencePiece is a SentencePiece-style BPE: Llama 1 and 2, Mistral, TinyLlama and
// llama2.c models. Spaces become "▁" (llama2.c's tokenizer.bin keeps them as " "), one is
// prepended (the dummy prefix), the text is cut into characters, characters missing from
// the vocabulary fall back to their UTF-8 bytes as <0xXX> tokens, and adjacent pairs merge
// best first.
//
// A SentencePiece is safe for concurrent use.
type SentencePiece struct {
	pieces       []string // id -> piece as the vocabulary spells it
	ids          map[string]int32
	scores       []float32 // nil for HF tokenizer.json (merges are ranked by list position)
	merges       merges
	compiled     *mergeTable // merges frozen for fast lookups (see table)
	compileOnce  sync.Once
	byteFallback [256]int32 // id of <0xXX>, -1 if the vocabulary has none
	space        string     // what a space becomes
	dummyPrefix  bool
	prefixFirst  bool // HF Metaspace prepend_scheme "first": only the text's first segment
	metaspace    bool // HF Metaspace pre-tokenizer: no prefix if the text starts with a space
	splitOnSpace bool // HF Metaspace split=true: every ▁ starts a word
	llama2c      bool // llama2.c run.c encode(): UTF-8 runs, byte fallback = byte+3
	// wordSplit: no piece has a space right after a non-space, so merges never cross
	// the start of a space run and text can be encoded (and cached) word by word.
	wordSplit bool
	noCache   bool // benchmarks: measure without the word cache
	fuseUnk   bool
	unk, bos  int32
	eos       int32
	special   map[string]int32
	added     addedSet
	control   map[int32]bool // decoded to nothing
	states    sync.Pool      // *encState
}

const metaSpace = "▁"

func (t *SentencePiece) init() {
	t.ids = make(map[string]int32, len(t.pieces))
	for id, p := range t.pieces {
		if _, dup := t.ids[p]; !dup {
			t.ids[p] = int32(id)
		}
	}
	for b := range t.byteFallback {
		t.byteFallback[b] = -1
		if id, ok := t.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			t.byteFallback[b] = id
		}
	}
	look := func(s string) int32 {
		if id, ok := t.ids[s]; ok {
			return id
		}
		return -1
	}
	if t.unk < 0 {
		t.unk = look("<unk>")
	}
	t.bos, t.eos = look("<s>"), look("</s>")
	if t.special == nil {
		t.special = map[string]int32{}
	}
	t.control = map[int32]bool{}
	for _, s := range []string{"<unk>", "<s>", "</s>"} {
		if id := look(s); id >= 0 {
			t.special[s] = id
		}
	}
	for _, id := range t.special {
		t.control[id] = true
	}
	t.states.New = func() any { return &encState{cache: map[string][]int32{}} }
}

// checkWordSplit sets wordSplit (see there); call after space is known.
func (t *SentencePiece) checkWordSplit() {
	t.wordSplit = t.space != ""
	for id, p := range t.pieces {
		if t.control[int32(id)] {
			continue
		}
		if strings.Contains(strings.TrimLeft(p, t.space), t.space) {
			t.wordSplit = false
			return
		}
	}
}

// mergesFromScores ranks every split of a piece into two pieces by the piece's score,
// highest first; equal scores share a rank so the leftmost pair wins, as in SentencePiece
// and llama2.c. eligible filters the pieces that may be merge results.
func mergesFromScores(pieces []string, ids map[string]int32, scores []float32, eligible func(id int) bool) merges {
	order := make([]int, 0, len(pieces))
	for id := range pieces {
		order = append(order, id)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	rank := make([]int32, len(pieces))
	r := int32(0)
	for i, id := range order {
		if i > 0 && scores[id] != scores[order[i-1]] {
			r++
		}
		rank[id] = r
	}
	m := make(merges, len(pieces)*2)
	for id, p := range pieces {
		if len(p) < 2 || !eligible(id) {
			continue
		}
		for k := 1; k < len(p); k++ {
			a, okA := ids[p[:k]]
			b, okB := ids[p[k:]]
			if okA && okB {
				m[pairKey(a, b)] = merge{rank[id], int32(id)}
			}
		}
	}
	return m
}

// VocabSize is the number of pieces.
func (t *SentencePiece) VocabSize() int { return len(t.pieces) }

// EOT is the id of </s>, or -1.
func (t *SentencePiece) EOT() int { return int(t.eos) }

// BOS is the id of <s>, or -1. Encode does not add it; prepend it where the model expects it.
func (t *SentencePiece) BOS() int { return int(t.bos) }

// Token returns piece id as the vocabulary spells it ("▁the", "<0x0A>").
func (t *SentencePiece) Token(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// ID returns the id of a piece.
func (t *SentencePiece) ID(piece string) (int, bool) {
	id, ok := t.ids[piece]
	return int(id), ok
}

// Encode turns text into ids, without <s>. Special pieces are never produced from plain text.
func (t *SentencePiece) Encode(text string) []int { return t.encode(text, nil) }

// EncodeWithSpecial is Encode, except that the special pieces in allowed (all of <unk>,
// <s>, </s> and the added special tokens if allowed is empty) are recognized in text.
func (t *SentencePiece) EncodeWithSpecial(text string, allowed ...string) []int {
	var set addedSet
	for s, id := range t.special {
		if len(allowed) == 0 || slices.Contains(allowed, s) {
			set.add(s, id)
		}
	}
	return t.encode(text, &set)
}

// EncodeBatch encodes texts in parallel on all cores.
func (t *SentencePiece) EncodeBatch(texts []string) [][]int {
	out := make([][]int, len(texts))
	parallel(len(texts), func(i int) { out[i] = t.encode(texts[i], nil) })
	return out
}

func (t *SentencePiece) encode(text string, specials *addedSet) []int {
	st := t.states.Get().(*encState)
	defer t.states.Put(st)
	var out []int
	matchers := []*addedSet{specials, &t.added}
	consumed := 0 // bytes of text before the current segment
	var rec func(seg string, m int)
	rec = func(seg string, m int) {
		for m < len(matchers) && matchers[m].empty() {
			m++
		}
		if m == len(matchers) {
			out = t.encodeSegment(seg, out, st, consumed == 0)
			consumed += len(seg)
			return
		}
		matchers[m].split(seg, func(s string, id int32) {
			if id >= 0 {
				out = append(out, int(id))
				consumed += len(s)
			} else {
				rec(s, m+1)
			}
		})
	}
	rec(text, 0)
	return out
}

func (t *SentencePiece) encodeSegment(text string, out []int, st *encState, atStart bool) []int {
	if text == "" {
		return out
	}
	if t.space != " " {
		text = strings.ReplaceAll(text, " ", t.space)
	}
	if t.dummyPrefix && (atStart || !t.prefixFirst) && !(t.metaspace && strings.HasPrefix(text, t.space)) {
		text = t.space + text
	}
	if t.wordSplit && !t.splitOnSpace {
		if len(text) > parallelChunk {
			return t.encodeWordsParallel(text, out)
		}
		return t.encodeWords(text, out, st)
	}
	if !t.splitOnSpace {
		return t.encodeWord(text, out, st)
	}
	for len(text) > 0 {
		end := strings.Index(text[1:], t.space)
		if end < 0 {
			end = len(text)
		} else {
			end++
		}
		out = t.encodeWord(text[:end], out, st)
		text = text[end:]
	}
	return out
}

// wordStart reports whether a word starts at text[i]: a space run after a non-space.
func (t *SentencePiece) wordStart(text string, i int) bool {
	return i > 0 && text[i] == t.space[0] && strings.HasPrefix(text[i:], t.space) && !strings.HasSuffix(text[:i], t.space)
}

// encodeWords encodes normalized text word by word (see wordSplit).
func (t *SentencePiece) encodeWords(text string, out []int, st *encState) []int {
	start := 0
	for i := 1; i < len(text); i++ {
		if t.wordStart(text, i) {
			out = t.cachedWord(text[start:i], out, st)
			start = i
		}
	}
	return t.cachedWord(text[start:], out, st)
}

// encodeWordsParallel cuts long normalized text at word starts into chunks of about
// parallelChunk bytes and encodes them on all cores.
func (t *SentencePiece) encodeWordsParallel(text string, out []int) []int {
	var chunks []string
	for len(text) > parallelChunk {
		cut := -1
		for i := parallelChunk / 2; i < len(text); i++ {
			if t.wordStart(text, i) {
				cut = i
				break
			}
		}
		if cut < 0 {
			break
		}
		chunks = append(chunks, text[:cut])
		text = text[cut:]
	}
	chunks = append(chunks, text)
	parts := make([][]int, len(chunks))
	parallel(len(chunks), func(i int) {
		st := t.states.Get().(*encState)
		parts[i] = t.encodeWords(chunks[i], nil, st)
		t.states.Put(st)
	})
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func (t *SentencePiece) cachedWord(w string, out []int, st *encState) []int {
	if len(w) > maxCachedWord || t.noCache {
		return t.encodeWord(w, out, st)
	}
	if ids, ok := st.cache[w]; ok {
		for _, id := range ids {
			out = append(out, int(id))
		}
		return out
	}
	n := len(out)
	out = t.encodeWord(w, out, st)
	ids := make([]int32, len(out)-n)
	for i, id := range out[n:] {
		ids[i] = int32(id)
	}
	if len(st.cache) >= maxCacheEntries {
		clear(st.cache)
	}
	st.cache[strings.Clone(w)] = ids
	return out
}

func (t *SentencePiece) encodeWord(text string, out []int, st *encState) []int {
	syms := st.syms[:0]
	fallback := func(s string) {
		if t.llama2c {
			for i := 0; i < len(s); i++ {
				syms = append(syms, int32(s[i])+3)
			}
			return
		}
		for i := 0; i < len(s); i++ {
			if t.byteFallback[s[i]] < 0 {
				if !(t.fuseUnk && len(syms) > 0 && syms[len(syms)-1] == t.unk) {
					syms = append(syms, t.unk)
				}
				return
			}
		}
		for i := 0; i < len(s); i++ {
			syms = append(syms, t.byteFallback[s[i]])
		}
	}
	for i := 0; i < len(text); {
		n := 1
		if t.llama2c {
			// run.c: a byte and the continuation bytes after it, at most 4 in all
			for n < 4 && i+n < len(text) && text[i+n]&0xC0 == 0x80 {
				n++
			}
		} else if text[i] >= utf8.RuneSelf {
			_, n = utf8.DecodeRuneInString(text[i:])
		}
		c := text[i : i+n]
		if id, ok := t.ids[c]; ok && !t.control[id] {
			syms = append(syms, id)
		} else {
			fallback(c)
		}
		i += n
	}
	syms = t.table().apply(syms, &st.sc)
	st.syms = syms
	for _, id := range syms {
		out = append(out, int(id))
	}
	return out
}

// Decode joins the pieces, turning ▁ back into spaces and <0xXX> into bytes, skips
// <s>, </s> and <unk>, and drops the dummy-prefix space at the start.
func (t *SentencePiece) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(t.pieces) || t.control[int32(id)] {
			continue
		}
		p := t.pieces[id]
		if len(p) == 6 && strings.HasPrefix(p, "<0x") && p[5] == '>' && t.byteFallback[hexByte(p[3:5])] == int32(id) {
			b.WriteByte(hexByte(p[3:5]))
			continue
		}
		if t.space != " " {
			p = strings.ReplaceAll(p, t.space, " ")
		}
		b.WriteString(p)
	}
	s := b.String()
	if t.dummyPrefix {
		s = strings.TrimPrefix(s, " ")
	}
	return s
}

func hexByte(h string) byte {
	v := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		}
	}
	return byte(v)
}

// table is the merge table compiled for lookups, built on first use.
func (t *SentencePiece) table() *mergeTable {
	t.compileOnce.Do(func() { t.compiled = t.merges.compile() })
	return t.compiled
}
