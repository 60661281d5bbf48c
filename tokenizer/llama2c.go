package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// LoadLlama2C reads a llama2.c tokenizer.bin: int32 max_token_length, then per token a
// float32 score, an int32 length and that many bytes (little-endian). Pieces spell spaces
// as " " (not "▁"). It encodes the way llama2.c's run.c encode() does: a dummy-prefix " ",
// then each UTF-8 character as its piece or as its bytes (id = byte+3), then repeatedly the
// adjacent pair whose concatenation is the best-scoring piece merges, leftmost first.
func LoadLlama2C(path string) (*SentencePiece, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	t, err := ParseLlama2C(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

// ParseLlama2C decodes the contents of a llama2.c tokenizer.bin (see LoadLlama2C).
func ParseLlama2C(b []byte) (*SentencePiece, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("llama2.c tokenizer.bin: %d bytes, too short for the int32 max_token_length header", len(b))
	}
	maxLen := int(int32(binary.LittleEndian.Uint32(b)))
	if maxLen <= 0 || maxLen > 1<<16 {
		return nil, fmt.Errorf("llama2.c tokenizer.bin: max_token_length %d is implausible (not a llama2.c tokenizer.bin?)", maxLen)
	}
	t := &SentencePiece{space: " ", dummyPrefix: true, llama2c: true, unk: -1}
	for off := 4; off < len(b); {
		i := len(t.pieces)
		if off+8 > len(b) {
			return nil, fmt.Errorf("llama2.c tokenizer.bin: token %d at byte %d: truncated score/length", i, off)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
		n := int(int32(binary.LittleEndian.Uint32(b[off+4:])))
		off += 8
		if n < 0 || n > maxLen || off+n > len(b) {
			return nil, fmt.Errorf("llama2.c tokenizer.bin: token %d at byte %d: length %d (max_token_length %d, %d bytes left)", i, off-4, n, maxLen, len(b)-off)
		}
		t.pieces = append(t.pieces, string(b[off:off+n]))
		t.scores = append(t.scores, score)
		off += n
	}
	if len(t.pieces) < 259 {
		return nil, fmt.Errorf("llama2.c tokenizer.bin: %d tokens; need at least <unk>, <s>, </s> and the 256 byte tokens", len(t.pieces))
	}
	t.init()
	// run.c's convention: ids 0, 1, 2 are <unk>, <s>, </s> whatever their spelling
	// (llama2.c's custom vocabularies write "\n<s>\n").
	clear(t.special)
	clear(t.control)
	for id := range 3 {
		t.special[t.pieces[id]] = int32(id)
		t.control[int32(id)] = true
	}
	t.unk, t.bos, t.eos = 0, 1, 2
	if _, ok := t.ids[" "]; !ok {
		return nil, fmt.Errorf("llama2.c tokenizer.bin: no \" \" piece for the dummy prefix")
	}
	t.checkWordSplit()
	t.merges = mergesFromScores(t.pieces, t.ids, t.scores, func(int) bool { return true })
	return t, nil
}
