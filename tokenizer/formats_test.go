package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	g := loadGolden(t)
	for _, v := range goldenVocabs {
		if v.optional {
			continue // big; the golden test covers them
		}
		t.Run(v.name, func(t *testing.T) {
			tok := v.mustLoad(t)
			b, err := tok.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(MarshalJSON()): %v", err)
			}
			if back.VocabSize() != tok.VocabSize() || back.EOT() != tok.EOT() {
				t.Errorf("VocabSize/EOT %d/%d after the round trip, want %d/%d", back.VocabSize(), back.EOT(), tok.VocabSize(), tok.EOT())
			}
			for k, text := range g.Texts {
				if want, got := tok.Encode(text), back.Encode(text); !slices.Equal(got, want) {
					t.Errorf("%s: %s", k, firstDiff(tok, got, want))
				}
			}
		})
	}
}

func TestByteStillParses(t *testing.T) {
	b, err := NewByte().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tok.(*Byte); !ok {
		t.Fatalf("Parse(Byte JSON) = %T, want *Byte", tok)
	}
}

func TestLoadAny(t *testing.T) {
	for path, want := range map[string]string{
		"gpt2":                   "*tokenizer.BPE",
		"gpt2/vocab.bpe":         "*tokenizer.BPE",
		"r50k_base.tiktoken":     "*tokenizer.BPE",
		"llama2":                 "*tokenizer.SentencePiece", // tokenizer.json comes first
		"llama2/tokenizer.model": "*tokenizer.SentencePiece",
		"tok512.bin":             "*tokenizer.SentencePiece",
		"gpt-neo/tokenizer.json": "*tokenizer.BPE",
	} {
		tok, err := LoadAny(tdPath(path))
		if err != nil {
			t.Errorf("LoadAny(%s): %v", path, err)
			continue
		}
		if got := typeName(tok); got != want {
			t.Errorf("LoadAny(%s) = %s, want %s", path, got, want)
		}
	}
	if _, err := LoadAny(tdPath("texts/edge.txt")); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("LoadAny(edge.txt) error = %v, want unknown format", err)
	}
}

func typeName(t Tokenizer) string {
	switch t.(type) {
	case *BPE:
		return "*tokenizer.BPE"
	case *SentencePiece:
		return "*tokenizer.SentencePiece"
	case *Byte:
		return "*tokenizer.Byte"
	}
	return "?"
}

func llama2cFile(maxLen int32, tokens ...any) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(maxLen))
	for i := 0; i < len(tokens); i += 2 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(tokens[i].(float64))))
		s := tokens[i+1].(string)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// TestMalformed checks that broken files give an error that names the file and the
// entry at fault.
func TestMalformed(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	var ranks strings.Builder
	for i := range 256 {
		ranks.WriteString(b64(string([]byte{byte(i)})) + " " + string(rune('0'+i%10)) + "\n")
	}
	cases := []struct {
		name, file, content, want string
	}{
		{"not json", "tokenizer.json", "hello", "not a tokenizer.json"},
		{"wordpiece", "tokenizer.json", `{"model":{"type":"WordPiece","vocab":{"a":0}}}`, `model.type is "WordPiece"`},
		{"merge of unknown token", "tokenizer.json",
			`{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b","a c"]}}`,
			`model.merges[1] "a c": "c" is not in model.vocab`},
		{"merge without space", "tokenizer.json",
			`{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":["ab"]}}`,
			`model.merges[0] "ab"`},
		{"merge of wrong type", "tokenizer.json",
			`{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":[7]}}`,
			`model.merges[0] is 7`},
		{"not byte-level", "tokenizer.json",
			`{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a b":0},"merges":[]}}`,
			`model.vocab["a b"]: ' ' is not a byte-level character`},
		{"unknown regex", "tokenizer.json",
			`{"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","use_regex":false}]},"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
			`pre_tokenizer[0]: Split regex "\\w+" is not supported`},
		{"duplicate id", "tokenizer.json", `{"model":{"type":"BPE","vocab":{"a":0,"b":0},"merges":[]}}`, "both have id 0"},
		{"byte fallback without bytes", "tokenizer.json",
			`{"normalizer":{"type":"Replace","pattern":{"String":" "},"content":"▁"},"model":{"type":"BPE","byte_fallback":true,"vocab":{"a":0},"merges":[]}}`,
			"model.byte_fallback is true but model.vocab has no <0x00>"},
		{"tiktoken bad base64", "r50k_base.tiktoken", "IQ== 0\n!!! 1\n", `line 2: token "!!!" is not base64`},
		{"tiktoken bad rank", "r50k_base.tiktoken", "IQ== zero\n", `line 1: rank "zero"`},
		{"tiktoken twice", "r50k_base.tiktoken", "IQ== 0\nIg== 0\n", "line 2: rank 0 given twice"},
		{"tiktoken missing byte", "r50k_base.tiktoken", "IQ== 0\n", "byte 0x00 has no token"},
		{"tiktoken unknown name", "my.tiktoken", ranks.String(), `unknown tiktoken encoding "my"`},
		{"llama2.c header", "tokenizer.bin", "\xff\xff\xff\xff", "max_token_length -1"},
		{"llama2.c truncated", "tokenizer.bin", string(llama2cFile(8, 0.0, "<unk>"))[:14], "token 0 at byte 8: length 5"},
		{"llama2.c too long", "tokenizer.bin", string(llama2cFile(2, 0.0, "<unk>")), "length 5 (max_token_length 2"},
		{"llama2.c too few", "tokenizer.bin", string(llama2cFile(8, 0.0, "<unk>")), "1 tokens; need at least"},
		{"sentencepiece garbage", "tokenizer.model", "\x0a\xff\xff\xff\xff\x0f", "not a SentencePiece model"},
		{"gpt2 bad merge", "vocab.bpe", "#version: 0.2\nĠ t\nbad\n", `vocab.bpe: line 3: want a merge "left right", got "bad"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, c.file)
			if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if c.file == "vocab.bpe" {
				os.WriteFile(filepath.Join(dir, "encoder.json"), []byte(`{"Ġ":0,"t":1,"Ġt":2}`), 0o644)
			}
			_, err := LoadAny(path)
			if err == nil {
				t.Fatalf("LoadAny succeeded, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q\nwant it to name the file and contain %q", err, c.want)
			}
		})
	}
}
