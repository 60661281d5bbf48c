package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadGPT2 reads OpenAI's GPT-2 vocabulary files: dir/encoder.json (token -> id, tokens
// written with BytesToUnicode) and dir/vocab.bpe (a "#version" line, then one merge "a b"
// per line, highest priority first).
func LoadGPT2(dir string) (*BPE, error) {
	encPath, bpePath := filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe")
	enc, err := os.ReadFile(encPath)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	bpe, err := os.ReadFile(bpePath)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(enc, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer %s: not a JSON object of token -> id: %w", encPath, err)
	}
	var pairs [][2]string
	for n, line := range strings.Split(string(bpe), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || (n == 0 && strings.HasPrefix(line, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(line, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer %s: line %d: want a merge \"left right\", got %q", bpePath, n+1, truncate(line))
		}
		pairs = append(pairs, [2]string{a, b})
	}
	special := map[string]int32{}
	if id, ok := vocab[EndOfText]; ok {
		special[EndOfText] = int32(id)
	}
	t, err := byteLevelFromHF(vocab, pairs, special, PatternGPT2)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", dir, err)
	}
	return t, nil
}

// byteLevelFromHF builds a BPE from a byte-level vocabulary (tokens spelled with
// BytesToUnicode) and its merges in priority order.
func byteLevelFromHF(vocab map[string]int, pairs [][2]string, special map[string]int32, pattern Pattern) (*BPE, error) {
	dec := unicodeToBytes()
	maxID := -1
	for _, id := range vocab {
		maxID = max(maxID, id)
	}
	for _, id := range special {
		maxID = max(maxID, int(id))
	}
	tokens := make([]string, maxID+1)
	for tok, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("vocab[%q]: negative id %d", tok, id)
		}
		if _, ok := special[tok]; ok {
			tokens[id] = tok
			continue
		}
		raw, err := decodeByteLevel(tok, dec)
		if err != nil {
			return nil, fmt.Errorf("vocab[%q]: %w", tok, err)
		}
		if tokens[id] != "" {
			return nil, fmt.Errorf("vocab[%q]: id %d is also token %q", tok, id, tokens[id])
		}
		tokens[id] = raw
	}
	for s, id := range special {
		tokens[id] = s
	}
	t, err := newBPE(tokens, nil, pattern, special)
	if err != nil {
		return nil, err
	}
	t.merges = make(merges, len(pairs))
	for i, p := range pairs {
		a, errA := decodeByteLevel(p[0], dec)
		b, errB := decodeByteLevel(p[1], dec)
		if errA != nil || errB != nil {
			return nil, fmt.Errorf("merges[%d] %q: not byte-level tokens", i, p[0]+" "+p[1])
		}
		ia, okA := t.ids[a]
		ib, okB := t.ids[b]
		ic, okC := t.ids[a+b]
		if !okA || !okB || !okC {
			missing := p[0]
			if okA {
				missing = p[1]
			}
			if okA && okB {
				missing = p[0] + p[1]
			}
			return nil, fmt.Errorf("merges[%d] %q: %q is not in the vocabulary", i, p[0]+" "+p[1], missing)
		}
		if _, dup := t.merges[pairKey(ia, ib)]; !dup {
			t.merges[pairKey(ia, ib)] = merge{int32(i), ic}
		}
	}
	return t, nil
}

func unicodeToBytes() map[rune]byte {
	m := make(map[rune]byte, 256)
	for b, r := range BytesToUnicode() {
		m[r] = byte(b)
	}
	return m
}

func decodeByteLevel(tok string, dec map[rune]byte) (string, error) {
	b := make([]byte, 0, len(tok))
	for _, r := range tok {
		c, ok := dec[r]
		if !ok {
			return "", fmt.Errorf("%q is not a byte-level character (see BytesToUnicode)", r)
		}
		b = append(b, c)
	}
	return string(b), nil
}

func encodeByteLevel(tok string) string {
	m := BytesToUnicode()
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		b.WriteRune(m[tok[i]])
	}
	return b.String()
}
