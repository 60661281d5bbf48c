package tokenizer

import (
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readTestText(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lines yields text one paragraph (blank-line separated) at a time, as documents.
func paragraphs(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for p := range strings.SplitSeq(text, "\n\n") {
			if !yield(p + "\n\n") {
				return
			}
		}
	}
}

func trainSmall(t testing.TB, pattern Pattern, vocab int) (*BPE, string) {
	t.Helper()
	en := readTestText(t, "../testdata/tinyshakespeare.txt")[:300_000]
	ru := readTestText(t, tdPath("ru_karenina_200k.txt"))[:100_000]
	corpus := en + "\n\n" + ru
	tok, err := Train(paragraphs(corpus), TrainOptions{VocabSize: vocab, Pattern: pattern,
		SpecialTokens: DefaultSpecialTokens, MinFrequency: 2})
	if err != nil {
		t.Fatal(err)
	}
	return tok, corpus
}

func TestTrainRoundTrip(t *testing.T) {
	for _, pattern := range []Pattern{PatternGPT2, PatternCL100K} {
		t.Run(string(pattern), func(t *testing.T) {
			tok, corpus := trainSmall(t, pattern, 1000)
			if tok.VocabSize() != 1000 {
				t.Fatalf("VocabSize = %d, want 1000", tok.VocabSize())
			}
			if tok.EOT() != 996 {
				t.Errorf("EOT = %d, want 996 (first special after 740 merges)", tok.EOT())
			}
			if id, ok := tok.ID("<|im_end|>"); !ok || id != 999 {
				t.Errorf("ID(<|im_end|>) = %d, %v", id, ok)
			}
			ids := tok.Encode(corpus)
			if got := tok.Decode(ids); got != corpus {
				t.Fatal("Decode(Encode(corpus)) != corpus")
			}
			if ratio := float64(len(corpus)) / float64(len(ids)); ratio < 2.2 {
				t.Errorf("only %.2f bytes per token after training", ratio)
			}
			// Words seen in training become single tokens.
			if ids := tok.Encode(" the"); len(ids) != 1 {
				t.Errorf("Encode(\" the\") = %v, want one token", ids)
			}
			// Unseen text (Pushkin, emoji, invalid UTF-8) still round-trips.
			for _, s := range []string{readTestText(t, tdPath("texts/ru_onegin.txt")), "emoji 👋🏽 \xff\xfe bad", ""} {
				if got := tok.Decode(tok.Encode(s)); got != s {
					t.Errorf("round trip of %q failed: %q", truncate(s), truncate(got))
				}
			}
			// Save and load give the same tokenizer.
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			if err := Save(tok, path); err != nil {
				t.Fatal(err)
			}
			back, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back.Encode(corpus), ids) {
				t.Error("tokenizer loaded from tokenizer.json encodes differently")
			}
			if back.EOT() != tok.EOT() || back.VocabSize() != tok.VocabSize() {
				t.Errorf("loaded EOT/VocabSize %d/%d, want %d/%d", back.EOT(), back.VocabSize(), tok.EOT(), tok.VocabSize())
			}
			if b := back.(*BPE); b.Pattern() != pattern {
				t.Errorf("loaded pattern %q, want %q", b.Pattern(), pattern)
			}
		})
	}
}

func TestTrainDeterministic(t *testing.T) {
	a, _ := trainSmall(t, PatternGPT2, 600)
	b, _ := trainSmall(t, PatternGPT2, 600)
	if !slices.Equal(a.tokens, b.tokens) {
		t.Fatal("two trainings on the same corpus differ")
	}
}

func TestTrainOptionsErrors(t *testing.T) {
	docs := slices.Values([]string{"a b c"})
	for _, o := range []TrainOptions{
		{VocabSize: 100},
		{VocabSize: 300, Pattern: "nope"},
		{VocabSize: 300, SpecialTokens: []string{"<a>", "<a>"}},
		{VocabSize: 300, SpecialTokens: []string{""}},
	} {
		if _, err := Train(docs, o); err == nil {
			t.Errorf("Train(%+v) succeeded, want an error", o)
		}
	}
	// Training stops when pairs get rarer than MinFrequency.
	tok, err := Train(docs, TrainOptions{VocabSize: 5000, MinFrequency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 257 {
		t.Errorf("VocabSize = %d, want 257 (no pair occurs twice)", tok.VocabSize())
	}
}

func TestSpecialTokensNeverFromPlainText(t *testing.T) {
	tok, _ := trainSmall(t, PatternGPT2, 600)
	text := "Hello<|endoftext|>world <|im_start|>user\nhi<|im_end|>"
	ids := tok.Encode(text)
	for _, id := range ids {
		if id >= tok.VocabSize()-len(DefaultSpecialTokens) {
			t.Fatalf("Encode produced special id %d from plain text", id)
		}
	}
	if tok.Decode(ids) != text {
		t.Fatal("round trip failed")
	}
	with := tok.EncodeWithSpecial(text, EndOfText)
	if !slices.Contains(with, tok.EOT()) {
		t.Error("EncodeWithSpecial(EndOfText) did not produce EOT")
	}
	imStart, _ := tok.ID("<|im_start|>")
	if slices.Contains(with, imStart) {
		t.Error("EncodeWithSpecial(EndOfText) produced <|im_start|>, which was not allowed")
	}
	all := tok.EncodeWithSpecial(text)
	if !slices.Contains(all, imStart) || tok.Decode(all) != text {
		t.Error("EncodeWithSpecial() should recognize every special token and still round-trip")
	}
	// The same holds for the reference vocabularies.
	for _, v := range goldenVocabs {
		if v.optional {
			continue
		}
		rt := v.mustLoad(t)
		for _, s := range []string{"<|endoftext|>", "<s>", "</s>", "<unk>", "<|padding|>", "<|fim_prefix|>x<|endofprompt|>"} {
			for _, id := range rt.Encode("a" + s + "b") {
				if name := specialName(rt, id); name != "" {
					t.Errorf("%s: Encode(%q) produced special token %q", v.name, s, name)
				}
			}
		}
	}
}

func specialName(t Tokenizer, id int) string {
	switch t := t.(type) {
	case *BPE:
		for s, sid := range t.special {
			if int(sid) == id {
				return s
			}
		}
	case *SentencePiece:
		if t.control[int32(id)] {
			return t.pieces[id]
		}
	}
	return ""
}

// TestParallelEncodeSameAsSerial checks that a text long enough to be split across
// cores encodes exactly as it does in one piece.
func TestParallelEncodeSameAsSerial(t *testing.T) {
	text := readTestText(t, "../testdata/tinyshakespeare.txt") + readTestText(t, tdPath("ru_karenina_200k.txt"))
	text = text + text
	for _, name := range []string{"r50k_base.tiktoken", "cl100k_base.tiktoken"} {
		tok, err := LoadTiktoken(tdPath(name))
		if err != nil {
			t.Fatal(err)
		}
		st := tok.states.Get().(*encState)
		serial := tok.encodeOrdinary(text, nil, st)
		if got := tok.Encode(text); !slices.Equal(got, serial) {
			t.Errorf("%s: parallel Encode differs from serial: %s", name, firstDiff(tok, got, serial))
		}
	}
	for _, name := range []string{"llama2/tokenizer.model", "tok512.bin"} {
		tok, err := LoadAny(tdPath(name))
		if err != nil {
			t.Fatal(err)
		}
		sp := tok.(*SentencePiece)
		st := sp.states.Get().(*encState)
		norm := " " + text
		if sp.space != " " {
			norm = strings.ReplaceAll(norm, " ", sp.space)
		}
		serial := sp.encodeWords(norm, nil, st)
		if got := sp.Encode(text); !slices.Equal(got, serial) {
			t.Errorf("%s: parallel Encode differs from serial: %s", name, firstDiff(tok, got, serial))
		}
	}
}

// TestTrainBigDocument checks that a document counted in pieces trains the same
// tokenizer as the same text given as many small documents.
func TestTrainBigDocument(t *testing.T) {
	text := readTestText(t, "../testdata/tinyshakespeare.txt") + readTestText(t, tdPath("ru_karenina_200k.txt"))
	if len(text) < 1<<20 {
		t.Fatal("text too small to be cut")
	}
	opts := TrainOptions{VocabSize: 700}
	whole, err := Train(slices.Values([]string{text}), opts)
	if err != nil {
		t.Fatal(err)
	}
	pieces, err := Train(slices.Values(safeChunks(text, 4096)), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(whole.tokens, pieces.tokens) {
		t.Error("training on one big document differs from training on its safe chunks")
	}
	// The words of the chunks are the words of the text, for every pattern.
	for _, p := range []Pattern{PatternGPT2, PatternCL100K, PatternO200K} {
		var words []string
		for _, c := range safeChunks(text, 4096) {
			words = append(words, p.Split(c)...)
		}
		if !slices.Equal(words, p.Split(text)) {
			t.Errorf("%s: safeChunks changes the words", p)
		}
	}
}
