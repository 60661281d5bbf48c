package tokenizer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tiktokenEncodings are the pre-tokenization patterns and special tokens of the tiktoken
// encodings whose rank files LoadAny recognizes by name.
var tiktokenEncodings = map[string]struct {
	pattern Pattern
	special map[string]int32
}{
	"r50k_base": {PatternGPT2, map[string]int32{EndOfText: 50256}},
	"p50k_base": {PatternGPT2, map[string]int32{EndOfText: 50256}},
	"cl100k_base": {PatternCL100K, map[string]int32{EndOfText: 100257, "<|fim_prefix|>": 100258,
		"<|fim_middle|>": 100259, "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}},
	"o200k_base": {PatternO200K, map[string]int32{EndOfText: 199999, "<|endofprompt|>": 200018}},
}

// LoadTiktoken reads a tiktoken rank file (one "base64(token) rank" per line), naming the
// encoding by its file name: r50k_base, p50k_base, cl100k_base or o200k_base (.tiktoken).
func LoadTiktoken(path string) (*BPE, error) {
	name := strings.TrimSuffix(filepath.Base(path), ".tiktoken")
	enc, ok := tiktokenEncodings[name]
	if !ok {
		return nil, fmt.Errorf("tokenizer %s: unknown tiktoken encoding %q (name the file r50k_base, p50k_base, cl100k_base or o200k_base.tiktoken, or call ParseTiktoken with a pattern)", path, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	t, err := ParseTiktoken(b, enc.pattern, enc.special)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

// ParseTiktoken builds a BPE from tiktoken rank-file contents, a pre-tokenization pattern
// and special tokens (name -> id). Encoding follows tiktoken: a word that is a token is
// that token; otherwise the adjacent pair whose concatenation has the lowest rank merges first.
func ParseTiktoken(b []byte, pattern Pattern, special map[string]int32) (*BPE, error) {
	var tokens []string
	for n, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		tok, rank, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			return nil, fmt.Errorf("line %d: want \"base64-token rank\", got %q", n+1, truncate(string(line)))
		}
		r, err := strconv.Atoi(string(bytes.TrimSpace(rank)))
		if err != nil || r < 0 || r > 1<<24 {
			return nil, fmt.Errorf("line %d: rank %q is not a non-negative integer", n+1, truncate(string(rank)))
		}
		raw, err := base64.StdEncoding.DecodeString(string(tok))
		if err != nil {
			return nil, fmt.Errorf("line %d: token %q is not base64: %v", n+1, truncate(string(tok)), err)
		}
		if len(raw) == 0 {
			return nil, fmt.Errorf("line %d: empty token", n+1)
		}
		for len(tokens) <= r {
			tokens = append(tokens, "")
		}
		if tokens[r] != "" {
			return nil, fmt.Errorf("line %d: rank %d given twice", n+1, r)
		}
		tokens[r] = string(raw)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("no tokens: not a tiktoken rank file")
	}
	for s, id := range special {
		for len(tokens) <= int(id) {
			tokens = append(tokens, "")
		}
		if tokens[id] != "" && tokens[id] != s {
			return nil, fmt.Errorf("special token %q: id %d is already token %q", s, id, tokens[id])
		}
		tokens[id] = s
	}
	t, err := newBPE(tokens, nil, pattern, special)
	if err != nil {
		return nil, err
	}
	for b := range 256 {
		if t.byteID[b] < 0 {
			return nil, fmt.Errorf("byte 0x%02x has no token: a byte-level vocabulary needs all 256", b)
		}
	}
	t.merges = mergesFromRanks(t, func(id int32) int32 { return id })
	t.wholeWord = true
	return t, nil
}

// mergesFromRanks builds the merge table of a rank-ordered vocabulary: every split of a
// token into two tokens is a pair that merges into it, with priority rank(token).
func mergesFromRanks(t *BPE, rank func(id int32) int32) merges {
	m := make(merges, len(t.tokens)*2)
	for id, tok := range t.tokens {
		if len(tok) < 2 {
			continue
		}
		if sid, ok := t.special[tok]; ok && int(sid) == id {
			continue
		}
		for k := 1; k < len(tok); k++ {
			a, okA := t.ids[tok[:k]]
			b, okB := t.ids[tok[k:]]
			if okA && okB {
				m[pairKey(a, b)] = merge{rank(int32(id)), int32(id)}
			}
		}
	}
	return m
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
