package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// testdata is where the vocabularies and golden ids live (see testdata/SOURCES.md).
const testdata = "../testdata/tokenizer"

// golden is testdata/tokenizer/golden.json, written by bench/tokenizer/golden.mjs with
// npm tiktoken (r50k_base, cl100k_base) and npm @anush008/tokenizers = HF tokenizers
// (llama2 and gpt-neo tokenizer.json).
type golden struct {
	Texts map[string]string           `json:"texts"`
	IDs   map[string]map[string][]int `json:"ids"`
}

func loadGolden(t testing.TB) *golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

type goldenVocab struct {
	name, ref string
	load      func() (Tokenizer, error)
	// hf: HF tokenizers matches every added token in text, so compare EncodeWithSpecial.
	hf        bool
	byteLevel bool
	optional  bool // the vocabulary is not in testdata; skip when it is absent
}

func tdPath(p string) string { return filepath.Join(testdata, p) }

var goldenVocabs = []goldenVocab{
	{"gpt2 encoder.json+vocab.bpe", "r50k_base", func() (Tokenizer, error) { return LoadGPT2(tdPath("gpt2")) }, false, true, false},
	{"r50k_base.tiktoken", "r50k_base", func() (Tokenizer, error) { return LoadTiktoken(tdPath("r50k_base.tiktoken")) }, false, true, false},
	{"cl100k_base.tiktoken", "cl100k_base", func() (Tokenizer, error) { return LoadTiktoken(tdPath("cl100k_base.tiktoken")) }, false, true, false},
	// p50k_base and o200k_base (3.6 MB) are read from /work/shared when it is there.
	{"p50k_base.tiktoken", "p50k_base", func() (Tokenizer, error) {
		return LoadTiktoken("/work/shared/data/tokenizers/tiktoken/p50k_base.tiktoken")
	}, false, true, true},
	{"o200k_base.tiktoken", "o200k_base", func() (Tokenizer, error) {
		return LoadTiktoken("/work/shared/data/tokenizers/tiktoken/o200k_base.tiktoken")
	}, false, true, true},
	{"gpt-neo tokenizer.json", "gpt-neo", func() (Tokenizer, error) { return Load(tdPath("gpt-neo/tokenizer.json")) }, true, true, false},
	// testdata's llama2/tokenizer.json holds a Mistral-7B-like vocabulary, not Llama 2's.
	{"llama-style tokenizer.json", "hf-llama-json", func() (Tokenizer, error) { return Load(tdPath("llama2/tokenizer.json")) }, true, false, false},
	{"llama-style tokenizer.json, Metaspace first", "hf-llama-metaspace-first", loadMetaspaceFirst, true, false, false},
	{"llama2 tokenizer.model", "llama2-sp", func() (Tokenizer, error) { return LoadSentencePiece(tdPath("llama2/tokenizer.model")) }, false, false, false},
	{"llama2 tokenizer.bin (llama2.c)", "llama2-sp", func() (Tokenizer, error) { return LoadLlama2C(tdPath("llama2/tokenizer.bin")) }, false, false, false},
}

// mustLoad loads the vocabulary, skipping the test if an optional one is absent.
func (v goldenVocab) mustLoad(t testing.TB) Tokenizer {
	t.Helper()
	tok, err := v.load()
	if errors.Is(err, fs.ErrNotExist) && v.optional {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type specialEncoder interface {
	EncodeWithSpecial(text string, allowed ...string) []int
}

func TestGolden(t *testing.T) {
	g := loadGolden(t)
	for _, v := range goldenVocabs {
		t.Run(v.name, func(t *testing.T) {
			tok := v.mustLoad(t)
			want := g.IDs[v.ref]
			keys := make([]string, 0, len(want))
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				text := g.Texts[k]
				var got []int
				if v.hf {
					got = tok.(specialEncoder).EncodeWithSpecial(text)
				} else {
					got = tok.Encode(text)
				}
				if !slices.Equal(got, want[k]) {
					t.Errorf("%s: %s", k, firstDiff(tok, got, want[k]))
					continue
				}
				if b, ok := tok.(*BPE); ok && b.nfc {
					text = norm.NFC.String(text)
				}
				if dec := tok.Decode(got); v.byteLevel && dec != text {
					t.Errorf("%s: Decode(Encode(text)) != text", k)
				}
			}
		})
	}
}

func firstDiff(tok Tokenizer, got, want []int) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-3)
	show := func(ids []int) string {
		hi := min(len(ids), i+4)
		s := ""
		for _, id := range ids[lo:hi] {
			s += fmt.Sprintf("%d%q ", id, tok.Decode([]int{id}))
		}
		return s
	}
	return fmt.Sprintf("%d ids, want %d; first difference at %d:\n  got  %s\n  want %s", len(got), len(want), i, show(got), show(want))
}

// loadMetaspaceFirst rewrites llama2/tokenizer.json into HF's newer layout (Metaspace
// pre-tokenizer, prepend_scheme "first", split before each ▁), as
// bench/tokenizer/golden.mjs does.
func loadMetaspaceFirst() (Tokenizer, error) {
	b, err := os.ReadFile(tdPath("llama2/tokenizer.json"))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	doc["normalizer"] = nil
	doc["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": metaSpace, "prepend_scheme": "first", "split": true}
	if b, err = json.Marshal(doc); err != nil {
		return nil, err
	}
	return Parse(b)
}
