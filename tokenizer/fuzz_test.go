package tokenizer

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

var fuzzSeeds = []string{
	"", " ", "  ", "\n", "a", "Hello, world!", "  leading and trailing  ", "tabs\t\tand\r\nCRLF\r\n\r\n  \n x",
	"I'm they'll WE'VE 'S ' s", "1234567 ½ ٣٤٥", "emoji 👋🏽 👨‍👩‍👧‍👦", "你好，世界！", "Привет, мир!",
	"\u00a0\u3000\u2028\u0085x", "invalid \xff\xfe\xe2\x82 bytes \x80", "—dash “q” ...!!!\n\n\n", "e\u0301 combining",
	"<|endoftext|>", "x\u200by zero width", "  \t\n  \t x", "a\r\rb\n\r\nc",
	"trailing\n  ", "trailing  \n", "x\n \n\t", "CamelCaseHTTPServer's iPhone ÉTÉ été a/b//c\n/", "\u0301\u0301abc ,\u0301x Ǆǅǆ ʰʰa ǅA",
}

var fuzzTokenizers = sync.OnceValues(func() ([]Tokenizer, error) {
	var toks []Tokenizer
	for _, load := range []func() (Tokenizer, error){
		func() (Tokenizer, error) { return LoadTiktoken(tdPath("r50k_base.tiktoken")) },
		func() (Tokenizer, error) { return LoadTiktoken(tdPath("cl100k_base.tiktoken")) },
		func() (Tokenizer, error) { return LoadLlama2C(tdPath("tok512.bin")) },
		func() (Tokenizer, error) { return LoadSentencePiece(tdPath("llama2/tokenizer.model")) },
	} {
		t, err := load()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
	}
	var docs []string
	for _, s := range fuzzSeeds {
		docs = append(docs, strings.Repeat(s+" ", 3))
	}
	tr, err := Train(slices.Values(docs), TrainOptions{VocabSize: 300, Pattern: PatternCL100K})
	return append(toks, tr), err
})

// FuzzRoundTrip checks Decode(Encode(s)) == s: for every string with the byte-level
// vocabularies, and for SentencePiece ones unless s contains the ▁ they use for spaces.
// It also checks that EncodeBatch agrees with Encode.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	toks, err := fuzzTokenizers()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range toks {
			if _, sp := tok.(*SentencePiece); sp && strings.Contains(s, metaSpace) {
				continue
			}
			ids := tok.Encode(s)
			if got := tok.Decode(ids); got != s {
				t.Fatalf("%T: Decode(Encode(%q)) = %q", tok, s, got)
			}
			if b, ok := tok.(interface{ EncodeBatch([]string) [][]int }); ok {
				if got := b.EncodeBatch([]string{s, s}); !slices.Equal(got[1], ids) {
					t.Fatalf("%T: EncodeBatch(%q) = %v, Encode = %v", tok, s, got[1], ids)
				}
			}
		}
	})
}

// FuzzPretokenize checks the hand-written pre-tokenizers against the regular expressions
// they implement, run by github.com/dlclark/regexp2 (a backtracking engine with
// lookahead, on the same Go Unicode tables). Inputs with ſ (U+017F) are skipped for cl100k:
// Rust's regex folds it to s under (?i), .NET-style regexp2 does not.
func FuzzPretokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	type check struct {
		p  Pattern
		re *regexp2.Regexp
	}
	// regexp2 has no possessive quantifiers: the tiktoken 0.7+ rewrites are checked in an
	// equivalent form, with \z for $.
	res := []check{
		{PatternGPT2, regexp2.MustCompile(regexGPT2, regexp2.None)},
		{PatternGPT2, regexp2.MustCompile(`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+\z|\s+(?!\S)|\s`, regexp2.None)},
		{PatternCL100K, regexp2.MustCompile(regexCL100K, regexp2.None)},
		{PatternCL100KTrailing, regexp2.MustCompile(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+\z|\s*[\r\n]|\s+(?!\S)|\s`, regexp2.None)},
		{PatternO200K, regexp2.MustCompile(regexO200K, regexp2.None)},
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for _, c := range res {
			p, re := c.p, c.re
			if p != PatternGPT2 && strings.ContainsRune(s, 'ſ') {
				continue
			}
			var want []string
			m, err := re.FindStringMatch(s)
			for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
				want = append(want, m.String())
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Split(s); !slices.Equal(got, want) {
				t.Fatalf("%s: Split(%q)\n got %q\nwant %q", p, s, got, want)
			}
		}
	})
}
