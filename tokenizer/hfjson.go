package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// hfFile is the part of a Hugging Face tokenizer.json that golem reads and writes: one
// struct both ways, so a field added for reading is written back too.
type hfFile struct {
	Version       string          `json:"version"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
	AddedTokens   []hfAddedToken  `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         hfModel         `json:"model"`
}

type hfAddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type hfModel struct {
	Type                    string   `json:"type"`
	Dropout                 *float64 `json:"dropout"`
	UnkToken                *string  `json:"unk_token"`
	ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
	FuseUnk                 bool     `json:"fuse_unk"`
	ByteFallback            bool     `json:"byte_fallback"`
	IgnoreMerges            bool     `json:"ignore_merges,omitempty"`
	Vocab                   hfVocab  `json:"vocab"`
	Merges                  hfMerges `json:"merges"`
}

// hfMerges is a merges list, (left, right) pairs by rank. It is read from "left right"
// strings or ["left", "right"] arrays and written as strings, quickly (a big vocabulary
// has a million of them).
type hfMerges [][2]string

func (m hfMerges) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 16*len(m)+2)
	b = append(b, '[')
	for i, p := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		b = appendJSONString(b, p[0]+" "+p[1])
	}
	return append(b, "\n]"...), nil
}

func (m *hfMerges) UnmarshalJSON(data []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return err
	}
	if raws == nil { // "merges": null reads as absent, as for any list
		*m = nil
		return nil
	}
	*m = make(hfMerges, len(raws))
	for i, raw := range raws {
		var s string
		var arr []string
		if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
			s = string(raw[1 : len(raw)-1]) // no escapes: the common case, and much faster
		}
		if s != "" || json.Unmarshal(raw, &s) == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" {
				return fmt.Errorf("model.merges[%d] %q: want \"left right\" (two tokens separated by one space)", i, s)
			}
			(*m)[i] = [2]string{a, b}
		} else if json.Unmarshal(raw, &arr) == nil && len(arr) == 2 {
			(*m)[i] = [2]string{arr[0], arr[1]}
		} else {
			return fmt.Errorf("model.merges[%d] is %s; want \"left right\" or [\"left\", \"right\"]", i, truncate(string(raw)))
		}
	}
	return nil
}

// appendJSONString appends s as a JSON string (s is valid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, fmt.Sprintf("\\u%04x", c)...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// hfVocab is token -> id, written in id order.
type hfVocab []string

func (v hfVocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for id, tok := range v {
		if tok == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString("\n  ")
		b.Write(appendJSONString(nil, tok))
		b.WriteString(": ")
		b.WriteString(strconv.Itoa(id))
	}
	b.WriteString("\n}")
	return b.Bytes(), nil
}

func (v *hfVocab) UnmarshalJSON(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	maxID := -1
	for tok, id := range m {
		if id < 0 || id > 1<<24 {
			return fmt.Errorf("vocab[%q] = %d: ids must be in 0..16777216", tok, id)
		}
		maxID = max(maxID, id)
	}
	*v = make(hfVocab, maxID+1)
	for tok, id := range m {
		if (*v)[id] != "" {
			return fmt.Errorf("vocab[%q] and vocab[%q] both have id %d", tok, (*v)[id], id)
		}
		(*v)[id] = tok
	}
	return nil
}

// hfComponent is any normalizer, pre-tokenizer or decoder; Sequence nests them.
type hfComponent struct {
	Type           string            `json:"type"`
	AddPrefixSpace *bool             `json:"add_prefix_space,omitempty"`
	UseRegex       *bool             `json:"use_regex,omitempty"`
	TrimOffsets    *bool             `json:"trim_offsets,omitempty"`
	Normalizers    []json.RawMessage `json:"normalizers,omitempty"`
	Pretokenizers  []json.RawMessage `json:"pretokenizers,omitempty"`
	Pattern        *hfPattern        `json:"pattern,omitempty"`
	Behavior       string            `json:"behavior,omitempty"`
	Invert         *bool             `json:"invert,omitempty"`
	Prepend        string            `json:"prepend,omitempty"`
	Content        string            `json:"content,omitempty"`
	Replacement    string            `json:"replacement,omitempty"`
	PrependScheme  string            `json:"prepend_scheme,omitempty"`
	Split          *bool             `json:"split,omitempty"`
}

type hfPattern struct {
	Regex  *string `json:"Regex,omitempty"`
	String *string `json:"String,omitempty"`
}

// flatten parses a component and expands Sequences; null gives none.
func flatten(raw json.RawMessage, what string) ([]hfComponent, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if c.Type != "Sequence" {
		return []hfComponent{c}, nil
	}
	var out []hfComponent
	for i, r := range append(c.Normalizers, c.Pretokenizers...) {
		sub, err := flatten(r, fmt.Sprintf("%s[%d]", what, i))
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

func isByteTokenizer(f *hfFile) bool {
	if f.Model.Type != "BPE" || len(f.Model.Merges) != 0 || len(f.Model.Vocab) != 256 {
		return false
	}
	m := BytesToUnicode()
	for b, tok := range f.Model.Vocab {
		if tok != string(m[b]) {
			return false
		}
	}
	return true
}

// parseHF decodes a tokenizer.json into a BPE, SentencePiece or Byte tokenizer.
//
// What is read: a BPE model (vocab, merges as "a b" or ["a", "b"], byte_fallback,
// unk_token, fuse_unk, ignore_merges); NFC or Llama's Prepend/Replace ▁ normalizers;
// ByteLevel (optionally after a Split with the GPT-2, cl100k or o200k regex) or Metaspace
// pre-tokenizers; added tokens (special ones only via EncodeWithSpecial, the others matched
// in plain text as HF does; their lstrip/rstrip/single_word flags are ignored). Decoders
// and post-processors are implied by the model kind; anything else is an error that names
// the field.
func parseHF(b []byte) (Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if f.Model.Type == "" && f.Model.Vocab != nil && f.Model.Merges != nil {
		f.Model.Type = "BPE" // older files omit the type
	}
	if f.Model.Type != "BPE" {
		return nil, fmt.Errorf("model.type is %q; golem reads only \"BPE\" models (not WordPiece, Unigram or WordLevel)", f.Model.Type)
	}
	if isByteTokenizer(&f) {
		return NewByte(), nil
	}
	if f.Model.Dropout != nil && *f.Model.Dropout != 0 {
		return nil, fmt.Errorf("model.dropout is %v; set it to null (BPE dropout is for training only)", *f.Model.Dropout)
	}
	if p := f.Model.ContinuingSubwordPrefix; p != nil && *p != "" {
		return nil, fmt.Errorf("model.continuing_subword_prefix %q is not supported; set it to null", *p)
	}
	if p := f.Model.EndOfWordSuffix; p != nil && *p != "" {
		return nil, fmt.Errorf("model.end_of_word_suffix %q is not supported; set it to null", *p)
	}
	pairs := f.Model.Merges
	norms, err := flatten(f.Normalizer, "normalizer")
	if err != nil {
		return nil, err
	}
	pres, err := flatten(f.PreTokenizer, "pre_tokenizer")
	if err != nil {
		return nil, err
	}
	spStyle := f.Model.ByteFallback
	for _, c := range append(slices.Clone(norms), pres...) {
		if c.Type == "Metaspace" || (c.Type == "Prepend" && c.Prepend == metaSpace) ||
			(c.Type == "Replace" && c.Content == metaSpace) {
			spStyle = true
		}
	}
	for i, a := range f.AddedTokens {
		if a.ID < 0 || a.ID > 1<<24 || a.Content == "" {
			return nil, fmt.Errorf("added_tokens[%d]: id %d content %q: want a non-negative id and non-empty content", i, a.ID, a.Content)
		}
	}
	if spStyle {
		return spFromHF(&f, pairs, norms, pres)
	}
	return byteLevelFromHFFile(&f, pairs, norms, pres)
}

func byteLevelFromHFFile(f *hfFile, pairs [][2]string, norms, pres []hfComponent) (*BPE, error) {
	nfc := false
	for i, n := range norms {
		if n.Type != "NFC" {
			return nil, fmt.Errorf("normalizer[%d] %q is not supported with a byte-level BPE (only NFC or null)", i, n.Type)
		}
		nfc = true
	}
	pattern, addPrefix := Pattern(""), false
	for i, p := range pres {
		switch p.Type {
		case "ByteLevel":
			addPrefix = p.AddPrefixSpace != nil && *p.AddPrefixSpace
			if p.UseRegex == nil || *p.UseRegex {
				if pattern != "" {
					return nil, fmt.Errorf("pre_tokenizer[%d]: ByteLevel with use_regex after a Split; set use_regex to false", i)
				}
				pattern = PatternGPT2
			}
		case "Split":
			if p.Pattern == nil || p.Pattern.Regex == nil {
				return nil, fmt.Errorf("pre_tokenizer[%d]: Split without a Regex pattern is not supported", i)
			}
			if (p.Invert != nil && *p.Invert) || (p.Behavior != "Isolated" && p.Behavior != "") {
				return nil, fmt.Errorf("pre_tokenizer[%d]: Split behavior %q invert %v is not supported (want Isolated, false)", i, p.Behavior, p.Invert != nil && *p.Invert)
			}
			switch *p.Pattern.Regex {
			case regexGPT2, regexGPT2Possessive, `'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`:
				pattern = PatternGPT2
			case regexCL100K:
				pattern = PatternCL100K
			case regexCL100KTrailing:
				pattern = PatternCL100KTrailing
			case regexO200K:
				pattern = PatternO200K
			default:
				return nil, fmt.Errorf("pre_tokenizer[%d]: Split regex %q is not supported; golem implements the GPT-2, cl100k and o200k patterns", i, truncate(*p.Pattern.Regex))
			}
		default:
			return nil, fmt.Errorf("pre_tokenizer[%d] %q is not supported (want ByteLevel, optionally after a Split)", i, p.Type)
		}
	}
	if len(pres) == 0 {
		return nil, fmt.Errorf("pre_tokenizer is null: a byte-level BPE needs a ByteLevel pre-tokenizer")
	}
	if pattern == "" {
		pattern = PatternNone
	}
	dec := unicodeToBytes()
	tokens := make([]string, max(len(f.Model.Vocab), maxAddedID(f.AddedTokens)+1))
	isAdded := map[int]bool{}
	for _, a := range f.AddedTokens {
		isAdded[a.ID] = true
		tokens[a.ID] = a.Content
	}
	for id, tok := range f.Model.Vocab {
		if tok == "" || isAdded[id] {
			continue
		}
		raw, err := decodeByteLevel(tok, dec)
		if err != nil {
			return nil, fmt.Errorf("model.vocab[%q]: %w", tok, err)
		}
		tokens[id] = raw
	}
	special := map[string]int32{}
	for _, a := range f.AddedTokens {
		if a.Special {
			special[a.Content] = int32(a.ID)
		}
	}
	t, err := newBPE(tokens, nil, pattern, special)
	if err != nil {
		return nil, err
	}
	for _, a := range f.AddedTokens {
		if !a.Special {
			t.added.add(a.Content, int32(a.ID))
		}
	}
	t.nfc, t.addPrefixSpace, t.wholeWord = nfc, addPrefix, f.Model.IgnoreMerges
	// Merges name tokens by their vocabulary spelling.
	byName := make(map[string]int32, len(f.Model.Vocab))
	for id, tok := range f.Model.Vocab {
		if tok != "" {
			byName[tok] = int32(id)
		}
	}
	t.merges, err = mergesFromPairs(pairs, byName)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func maxAddedID(a []hfAddedToken) int {
	m := -1
	for _, t := range a {
		m = max(m, t.ID)
	}
	return m
}

// mergesFromPairs ranks merges by list position, as HF tokenizers does.
func mergesFromPairs(pairs [][2]string, ids map[string]int32) (merges, error) {
	m := make(merges, len(pairs))
	for i, p := range pairs {
		for _, s := range []string{p[0], p[1], p[0] + p[1]} {
			if _, ok := ids[s]; !ok {
				return nil, fmt.Errorf("model.merges[%d] %q: %q is not in model.vocab", i, p[0]+" "+p[1], s)
			}
		}
		k := pairKey(ids[p[0]], ids[p[1]])
		if _, dup := m[k]; !dup {
			m[k] = merge{int32(i), ids[p[0]+p[1]]}
		}
	}
	return m, nil
}

func spFromHF(f *hfFile, pairs [][2]string, norms, pres []hfComponent) (*SentencePiece, error) {
	t := &SentencePiece{pieces: slices.Clone([]string(f.Model.Vocab)), unk: -1, fuseUnk: f.Model.FuseUnk, special: map[string]int32{}}
	for i, n := range norms {
		switch {
		case n.Type == "Prepend" && n.Prepend == metaSpace:
			t.dummyPrefix = true
		case n.Type == "Replace" && n.Pattern != nil && n.Pattern.String != nil && *n.Pattern.String == " " && n.Content == metaSpace:
			t.space = metaSpace
		default:
			return nil, fmt.Errorf("normalizer[%d] %q is not supported with a SentencePiece-style BPE (want Prepend ▁ and Replace \" \" with ▁)", i, n.Type)
		}
	}
	for i, p := range pres {
		if p.Type != "Metaspace" || (p.Replacement != "" && p.Replacement != metaSpace) {
			return nil, fmt.Errorf("pre_tokenizer[%d] %q is not supported with a SentencePiece-style BPE (want Metaspace ▁ or null)", i, p.Type)
		}
		t.space = metaSpace
		t.dummyPrefix = p.PrependScheme == "always" || p.PrependScheme == "first" ||
			(p.PrependScheme == "" && (p.AddPrefixSpace == nil || *p.AddPrefixSpace))
		t.prefixFirst = p.PrependScheme == "first"
		t.metaspace = true
		t.splitOnSpace = p.Split == nil || *p.Split
	}
	if t.space == "" {
		return nil, fmt.Errorf("model.byte_fallback is set but nothing turns spaces into ▁ (no Replace normalizer or Metaspace pre-tokenizer)")
	}
	for len(t.pieces) <= maxAddedID(f.AddedTokens) {
		t.pieces = append(t.pieces, "")
	}
	for _, a := range f.AddedTokens {
		t.pieces[a.ID] = a.Content
		if a.Special {
			t.special[a.Content] = int32(a.ID)
		} else {
			t.added.add(a.Content, int32(a.ID))
		}
	}
	t.init()
	if u := f.Model.UnkToken; u != nil {
		id, ok := t.ids[*u]
		if !ok {
			return nil, fmt.Errorf("model.unk_token %q is not in model.vocab", *u)
		}
		t.unk = id
	}
	if f.Model.ByteFallback {
		for b, id := range t.byteFallback {
			if id < 0 {
				return nil, fmt.Errorf("model.byte_fallback is true but model.vocab has no <0x%02X>", b)
			}
		}
	} else {
		t.byteFallback = [256]int32{}
		for b := range t.byteFallback {
			t.byteFallback[b] = -1
		}
	}
	t.checkWordSplit()
	var err error
	t.merges, err = mergesFromPairs(pairs, t.ids)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// sortedMerges lists a merge table's pairs by rank (then by ids), for writing.
func sortedMerges(m merges) [][2]int32 {
	type e struct {
		rank, a, b int32
	}
	l := make([]e, 0, len(m))
	for k, v := range m {
		l = append(l, e{v.rank, int32(k >> 32), int32(uint32(k))})
	}
	slices.SortFunc(l, func(x, y e) int {
		if x.rank != y.rank {
			return int(x.rank - y.rank)
		}
		if x.a != y.a {
			return int(x.a - y.a)
		}
		return int(x.b - y.b)
	})
	out := make([][2]int32, len(l))
	for i, x := range l {
		out[i] = [2]int32{x.a, x.b}
	}
	return out
}

func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mergeStrings(m merges, name func(id int32) string) hfMerges {
	sm := sortedMerges(m)
	out := make(hfMerges, len(sm))
	for i, p := range sm {
		out[i] = [2]string{name(p[0]), name(p[1])}
	}
	return out
}

// MarshalJSON writes the tokenizer as a Hugging Face tokenizer.json (byte-level BPE).
func (t *BPE) MarshalJSON() ([]byte, error) {
	f := hfFile{Version: "1.0", Truncation: rawJSON(nil), Padding: rawJSON(nil), PostProcessor: rawJSON(nil)}
	vocab := make(hfVocab, len(t.tokens))
	isAdded := map[int32]bool{}
	for s, id := range t.special {
		isAdded[id] = true
		f.AddedTokens = append(f.AddedTokens, hfAddedToken{ID: int(id), Content: s, Special: true})
	}
	for _, l := range t.added.byFirst {
		for _, a := range l {
			isAdded[a.id] = true
			f.AddedTokens = append(f.AddedTokens, hfAddedToken{ID: int(a.id), Content: a.s, Normalized: true})
		}
	}
	slices.SortFunc(f.AddedTokens, func(a, b hfAddedToken) int { return a.ID - b.ID })
	for id, tok := range t.tokens {
		if tok == "" {
			continue
		}
		if isAdded[int32(id)] {
			vocab[id] = tok
		} else {
			vocab[id] = encodeByteLevel(tok)
		}
	}
	if t.nfc {
		f.Normalizer = rawJSON(map[string]any{"type": "NFC"})
	} else {
		f.Normalizer = rawJSON(nil)
	}
	yes, no := true, false
	bl := hfComponent{Type: "ByteLevel", AddPrefixSpace: &t.addPrefixSpace, TrimOffsets: &yes, UseRegex: &yes}
	switch t.pattern {
	case PatternGPT2:
		f.PreTokenizer = rawJSON(bl)
	case PatternCL100K, PatternCL100KTrailing, PatternO200K:
		bl.UseRegex = &no
		re := t.pattern.Regex()
		split := hfComponent{Type: "Split", Pattern: &hfPattern{Regex: &re}, Behavior: "Isolated", Invert: &no}
		f.PreTokenizer = rawJSON(map[string]any{"type": "Sequence", "pretokenizers": []hfComponent{split, bl}})
	default:
		bl.UseRegex = &no
		f.PreTokenizer = rawJSON(bl)
	}
	f.Decoder = rawJSON(hfComponent{Type: "ByteLevel", AddPrefixSpace: &yes, TrimOffsets: &yes, UseRegex: &yes})
	f.Model = hfModel{Type: "BPE", IgnoreMerges: t.wholeWord, Vocab: vocab,
		Merges: mergeStrings(t.merges, func(id int32) string { return vocab[id] })}
	return marshalHF(&f)
}

// MarshalJSON writes the tokenizer as a Hugging Face tokenizer.json in Llama's layout
// (BPE with byte fallback, Prepend/Replace ▁ normalizer). Score-ranked vocabularies
// (tokenizer.model, llama2.c) become a merges list ordered by score.
func (t *SentencePiece) MarshalJSON() ([]byte, error) {
	f := hfFile{Version: "1.0", Truncation: rawJSON(nil), Padding: rawJSON(nil), PostProcessor: rawJSON(nil),
		PreTokenizer: rawJSON(nil)}
	vocab := make(hfVocab, len(t.pieces))
	for id, p := range t.pieces {
		switch {
		case t.llama2c && id < 3:
			p = []string{"<unk>", "<s>", "</s>"}[id] // llama2.c may spell them "\n<s>\n"
		case t.space == " " && !t.control[int32(id)]:
			p = strings.ReplaceAll(p, " ", metaSpace)
		}
		vocab[id] = p
	}
	for _, id := range t.special {
		f.AddedTokens = append(f.AddedTokens, hfAddedToken{ID: int(id), Content: vocab[id], Special: true})
	}
	for _, l := range t.added.byFirst {
		for _, a := range l {
			f.AddedTokens = append(f.AddedTokens, hfAddedToken{ID: int(a.id), Content: a.s, Normalized: true})
		}
	}
	slices.SortFunc(f.AddedTokens, func(a, b hfAddedToken) int { return a.ID - b.ID })
	if t.metaspace {
		// Metaspace pre-tokenizer (newer HF layout): it alone knows "first" and split.
		scheme := "never"
		if t.dummyPrefix {
			scheme = map[bool]string{true: "first", false: "always"}[t.prefixFirst]
		}
		f.Normalizer = rawJSON(nil)
		f.PreTokenizer = rawJSON(map[string]any{"type": "Metaspace", "replacement": metaSpace,
			"prepend_scheme": scheme, "split": t.splitOnSpace})
	} else {
		var norms []any
		if t.dummyPrefix {
			norms = append(norms, map[string]any{"type": "Prepend", "prepend": metaSpace})
		}
		norms = append(norms, map[string]any{"type": "Replace", "pattern": map[string]string{"String": " "}, "content": metaSpace})
		f.Normalizer = rawJSON(map[string]any{"type": "Sequence", "normalizers": norms})
	}
	decs := []any{
		map[string]any{"type": "Replace", "pattern": map[string]string{"String": metaSpace}, "content": " "},
		map[string]any{"type": "ByteFallback"}, map[string]any{"type": "Fuse"},
	}
	if t.dummyPrefix {
		decs = append(decs, map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0})
	}
	f.Decoder = rawJSON(map[string]any{"type": "Sequence", "decoders": decs})
	var unk *string
	if t.unk >= 0 {
		unk = &vocab[t.unk]
	}
	f.Model = hfModel{Type: "BPE", UnkToken: unk, FuseUnk: t.fuseUnk || t.scores != nil,
		ByteFallback: t.byteFallback[0] >= 0, Vocab: vocab,
		Merges: mergeStrings(t.merges, func(id int32) string { return vocab[id] })}
	return marshalHF(&f)
}

// marshalHF writes f with the small sections indented and the big vocab and merges
// one entry per line (json.MarshalIndent takes seconds on a 100k vocabulary).
func marshalHF(f *hfFile) ([]byte, error) {
	vocab, err := f.Model.Vocab.MarshalJSON()
	if err != nil {
		return nil, err
	}
	merges, err := f.Model.Merges.MarshalJSON()
	if err != nil {
		return nil, err
	}
	f.Model.Vocab, f.Model.Merges = nil, nil
	var hb bytes.Buffer
	enc := json.NewEncoder(&hb)
	enc.SetEscapeHTML(false) // keep <|endoftext|> readable
	enc.SetIndent("", " ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	head := bytes.TrimRight(hb.Bytes(), "\n")
	// head ends with `"vocab": {},\n  "merges": []\n }\n}` for the empty placeholders.
	vi := bytes.LastIndex(head, []byte(`"vocab": {}`))
	mi := bytes.LastIndex(head, []byte(`"merges": []`))
	if vi < 0 || mi < vi {
		return nil, fmt.Errorf("internal error: tokenizer.json layout")
	}
	var b bytes.Buffer
	b.Grow(len(head) + len(vocab) + len(merges))
	b.Write(head[:vi])
	b.WriteString(`"vocab": `)
	b.Write(vocab)
	b.Write(head[vi+len(`"vocab": {}`) : mi])
	b.WriteString(`"merges": `)
	b.Write(merges)
	b.Write(head[mi+len(`"merges": []`):])
	return b.Bytes(), nil
}
