package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// runcEncode is a direct, slow transcription of the algorithm of llama2.c's run.c
// encode() (without <s>/</s>): the reference the fast merge-table encoder must match.
func runcEncode(t *SentencePiece, text string) []int {
	lookup := func(s string) int {
		id, ok := t.ids[s]
		if !ok {
			return -1
		}
		return int(id)
	}
	var tokens []int
	if text != "" {
		tokens = append(tokens, lookup(" "))
	}
	buf := []byte{}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c&0xC0 != 0x80 {
			buf = buf[:0]
		}
		buf = append(buf, c)
		if i+1 < len(text) && text[i+1]&0xC0 == 0x80 && len(buf) < 4 {
			continue
		}
		if id := lookup(string(buf)); id != -1 {
			tokens = append(tokens, id)
		} else {
			for _, b := range buf {
				tokens = append(tokens, int(b)+3)
			}
		}
		buf = buf[:0]
	}
	for {
		best, bestID, bestIdx := float32(-1e10), -1, -1
		for i := 0; i+1 < len(tokens); i++ {
			id := lookup(t.pieces[tokens[i]] + t.pieces[tokens[i+1]])
			if id != -1 && t.scores[id] > best {
				best, bestID, bestIdx = t.scores[id], id, i
			}
		}
		if bestIdx == -1 {
			return tokens
		}
		tokens[bestIdx] = bestID
		tokens = slices.Delete(tokens, bestIdx+1, bestIdx+2)
	}
}

func TestLlama2CMatchesRunC(t *testing.T) {
	g := loadGolden(t)
	for _, file := range []string{"tok512.bin", "llama2/tokenizer.bin"} {
		tok, err := LoadLlama2C(tdPath(file))
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{"\xff\xfe invalid \xe2\x82 utf-8 \x80\x80\x80\x80\x80 bytes", "  ", "Once upon a time, there was a little girl named Lily."}
		for k, s := range g.Texts {
			if len(s) > 3000 && file != "tok512.bin" {
				s = s[:3000] // the reference is quadratic
			}
			_ = k
			texts = append(texts, s)
		}
		for _, s := range texts {
			want := runcEncode(tok, s)
			if got := tok.Encode(s); !slices.Equal(got, want) {
				t.Errorf("%s: %q: %s", file, truncate(s), firstDiff(tok, got, want))
			}
			if got := tok.Decode(tok.Encode(s)); got != s {
				t.Errorf("%s: Decode(Encode(%q)) = %q", file, truncate(s), truncate(got))
			}
		}
	}
}

// TestAidreams reproduces the reference output of the aidreams260K llama2.c model
// (shared/data/SOURCES.md): greedy sampling from <s> gives these ids and this text.
func TestAidreams(t *testing.T) {
	tok, err := LoadLlama2C(tdPath("tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 512 {
		t.Fatalf("VocabSize = %d, want 512", tok.VocabSize())
	}
	ids := []int{1, 319, 459, 355, 260, 275, 429, 339, 315, 374}
	got := tok.Decode(ids)
	if want := `"Echoes of vectors unfold, a gentle`; !strings.HasPrefix(want, got) || len(got) < 15 {
		t.Errorf("Decode = %q, want a prefix of %q", got, want)
	}
	if enc := tok.Encode(got); !slices.Equal(enc, ids[1:]) {
		t.Errorf("Encode(%q) = %v, want %v", got, enc, ids[1:])
	}
}
