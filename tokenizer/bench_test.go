package tokenizer

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// benchCorpus is the text the benchmarks encode, cut into documents the same way
// bench/tokenizer/bench.mjs cuts them for tiktoken and HF tokenizers: English is
// tinyshakespeare.txt (1.1 MB) split at blank lines, Russian is ru_karenina_200k.txt
// repeated 5 times (1 MB) split at line ends.
func benchCorpus(b *testing.B) map[string][]string {
	en := readTestText(b, "../testdata/tinyshakespeare.txt")
	ru := strings.Repeat(readTestText(b, tdPath("ru_karenina_200k.txt")), 5)
	return map[string][]string{
		"en": strings.SplitAfter(en, "\n\n"),
		"ru": strings.SplitAfter(ru, "\n"),
	}
}

var benchVocabs = sync.OnceValues(func() (map[string]Tokenizer, error) {
	m := map[string]Tokenizer{}
	for _, v := range goldenVocabs {
		name := map[string]string{"r50k_base": "r50k", "cl100k_base": "cl100k", "gpt-neo": "gpt-neo",
			"hf-llama-json": "llama-json", "llama2-sp": "llama2-model"}[v.ref]
		if _, dup := m[name]; dup || v.optional {
			continue
		}
		t, err := v.load()
		if err != nil {
			return nil, err
		}
		m[name] = t
	}
	return m, nil
})

// BenchmarkEncode reports MB/s of UTF-8 input for one goroutine (1core; 1core-nocache
// without the word cache, i.e. every word merged from bytes) and for EncodeBatch on all
// GOMAXPROCS cores (allcores), per vocabulary and language.
//
//	GOEXPERIMENT=simd go test -run '^$' -bench Encode ./tokenizer/
func BenchmarkEncode(b *testing.B) {
	vocabs, err := benchVocabs()
	if err != nil {
		b.Fatal(err)
	}
	corpus := benchCorpus(b)
	for _, vname := range []string{"r50k", "cl100k", "gpt-neo", "llama-json", "llama2-model"} {
		tok := vocabs[vname]
		for _, lang := range []string{"en", "ru"} {
			docs := corpus[lang]
			size := 0
			for _, d := range docs {
				size += len(d)
			}
			b.Run(fmt.Sprintf("%s/%s/1core", vname, lang), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					for _, d := range docs {
						tok.Encode(d)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%s/1core-nocache", vname, lang), func(b *testing.B) {
				setNoCache(tok, true)
				defer setNoCache(tok, false)
				b.SetBytes(int64(size))
				for b.Loop() {
					for _, d := range docs {
						tok.Encode(d)
					}
				}
			})
			batcher, ok := tok.(interface{ EncodeBatch([]string) [][]int })
			if !ok {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s/allcores-%d", vname, lang, runtime.GOMAXPROCS(0)), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					batcher.EncodeBatch(docs)
				}
			})
		}
	}
}

// BenchmarkTrain measures training a 4096-token vocabulary on tinyshakespeare + Russian.
func BenchmarkTrain(b *testing.B) {
	text := readTestText(b, "../testdata/tinyshakespeare.txt") + readTestText(b, tdPath("ru_karenina_200k.txt"))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := Train(paragraphs(text), TrainOptions{VocabSize: 4096}); err != nil {
			b.Fatal(err)
		}
	}
}

func setNoCache(t Tokenizer, v bool) {
	switch t := t.(type) {
	case *BPE:
		t.noCache = v
	case *SentencePiece:
		t.noCache = v
	}
}
