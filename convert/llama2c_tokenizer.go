package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-ml/golem/internal/atomicfile"
	"github.com/golem-ml/golem/tokenizer"
)

// ExportLlama2CTokenizer writes tok as a llama2.c tokenizer.bin (int32 max_token_length, then
// per id a float32 score, an int32 length and the piece's bytes), the way llama2.c's
// tokenizer.py exports a SentencePiece model: "▁" becomes " ", <s> and </s> become
// "\n<s>\n" and "\n</s>\n", and the k-th ordinary piece (in id order) scores -k, byte and
// special pieces 0. Only SentencePiece-style vocabularies (byte fallback, "▁" for spaces)
// fit; byte-level BPE (GPT-2 style) does not.
func ExportLlama2CTokenizer(tok tokenizer.Tokenizer, path string) error {
	b, err := tok.MarshalJSON()
	if err != nil {
		return err
	}
	var doc struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
		} `json:"added_tokens"`
		Model struct {
			Type         string         `json:"type"`
			ByteFallback bool           `json:"byte_fallback"`
			Vocab        map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("llama2.c tokenizer: reading the tokenizer's JSON: %w", err)
	}
	if doc.Model.Type != "BPE" || !doc.Model.ByteFallback {
		return fmt.Errorf("llama2.c tokenizer.bin holds SentencePiece-style vocabularies (byte fallback); this tokenizer is %s without byte fallback", doc.Model.Type)
	}
	pieces := make([]string, tok.VocabSize())
	set := make([]bool, len(pieces))
	for p, id := range doc.Model.Vocab {
		if id < 0 || id >= len(pieces) {
			return fmt.Errorf("llama2.c tokenizer: id %d of %q outside the vocabulary of %d", id, p, len(pieces))
		}
		pieces[id], set[id] = p, true
	}
	special := map[int]bool{}
	for _, a := range doc.AddedTokens {
		if a.ID >= 0 && a.ID < len(pieces) {
			pieces[a.ID], set[a.ID], special[a.ID] = a.Content, true, true
		}
	}
	for id, ok := range set {
		if !ok {
			return fmt.Errorf("llama2.c tokenizer: id %d has no piece", id)
		}
	}
	scores := make([]float32, len(pieces))
	k := 0
	maxLen := 1
	for id, p := range pieces {
		switch {
		case special[id] && p == "<s>":
			p = "\n<s>\n"
		case special[id] && p == "</s>":
			p = "\n</s>\n"
		case special[id] || isBytePiece(p):
		default:
			p = strings.ReplaceAll(p, "▁", " ")
			scores[id] = -float32(k) // -0 for the first, as SentencePiece writes it
			k++
		}
		pieces[id] = p
		maxLen = max(maxLen, len(p))
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		// bufio's sticky error: a failed write shows in atomicfile's Flush.
		if err := binary.Write(w, binary.LittleEndian, int32(maxLen)); err != nil {
			return err
		}
		for id, p := range pieces {
			binary.Write(w, binary.LittleEndian, math.Float32bits(scores[id]))
			binary.Write(w, binary.LittleEndian, int32(len(p)))
			if _, err := io.WriteString(w, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// isBytePiece matches SentencePiece's byte-fallback pieces <0x00> ... <0xFF>.
func isBytePiece(p string) bool {
	return len(p) == 6 && strings.HasPrefix(p, "<0x") && p[5] == '>'
}

// ExportLlama2CDir writes dir/model.bin and the tokenizer as dir/tokenizer.bin, or as
// dir/tokenizer.json when the vocabulary does not fit llama2.c's format.
func ExportLlama2CDir(m *Model, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := ExportLlama2C(m, filepath.Join(dir, "model.bin")); err != nil {
		return err
	}
	if m.Tokenizer == nil {
		return nil
	}
	if err := ExportLlama2CTokenizer(m.Tokenizer, filepath.Join(dir, "tokenizer.bin")); err != nil {
		os.Remove(filepath.Join(dir, "tokenizer.bin"))
		return tokenizer.Save(m.Tokenizer, filepath.Join(dir, "tokenizer.json"))
	}
	return nil
}
