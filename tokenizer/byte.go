package tokenizer

import "encoding/json"

// Byte is the byte-level tokenizer: ids 0..255 are the bytes themselves and id 256 is
// <|endoftext|>. It is a byte-level BPE with no merges, and it is written as one.
type Byte struct{}

// NewByte returns the byte-level tokenizer (vocabulary 257).
func NewByte() *Byte { return &Byte{} }

// EndOfText is the name of the document separator token.
const EndOfText = "<|endoftext|>"

func (*Byte) Encode(text string) []int {
	ids := make([]int, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = int(text[i])
	}
	return ids
}

func (*Byte) Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < 256 {
			b = append(b, byte(id))
		}
	}
	return string(b)
}

func (*Byte) VocabSize() int { return 257 }
func (*Byte) EOT() int       { return 256 }

// MarshalJSON writes a Hugging Face tokenizer.json: byte-level BPE, no merges, id = byte value.
func (*Byte) MarshalJSON() ([]byte, error) {
	vocab := make(map[string]int, 256)
	for b, r := range BytesToUnicode() {
		vocab[string(r)] = b
	}
	doc := map[string]any{
		"version":    "1.0",
		"truncation": nil, "padding": nil,
		"added_tokens": []map[string]any{{
			"id": 256, "content": EndOfText, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true,
		}},
		"normalizer":     nil,
		"pre_tokenizer":  map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		"post_processor": nil,
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false,
			"vocab": vocab, "merges": []string{},
		},
	}
	return json.MarshalIndent(doc, "", " ")
}

// BytesToUnicode is GPT-2's reversible map from bytes to printable runes, used by every
// byte-level BPE vocabulary file.
func BytesToUnicode() [256]rune {
	var m [256]rune
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[b] = rune(b)
		} else {
			m[b] = rune(256 + n)
			n++
		}
	}
	return m
}
