package generate

import (
	"strings"
	"unicode/utf8"
)

// Decoder turns ids into text.
type Decoder interface{ Decode(ids []int) string }

// Detokenizer turns a growing id sequence into text pieces whose concatenation is exactly the
// decode of the whole sequence: a SentencePiece word's leading space is kept (decoding the new
// ids alone would drop it), and a multi-byte character split over several byte tokens is held
// back until it is complete. It decodes a short window (Hugging Face TGI's prefix/read
// offsets), so each step costs a few tokens, not the whole sequence.
type Detokenizer struct {
	tok          Decoder
	ids          []int
	prefix, read int // ids[prefix:read] was decoded last time; text up to read has been emitted
}

// NewDetokenizer starts after context: the pieces returned are the text its continuation adds.
func NewDetokenizer(tok Decoder, context []int) *Detokenizer {
	d := &Detokenizer{tok: tok, ids: append([]int{}, context...)}
	d.read = len(d.ids)
	d.prefix = max(0, d.read-6)
	return d
}

// Add appends id and returns the text it completes ("" while a character is incomplete).
func (d *Detokenizer) Add(id int) string {
	d.ids = append(d.ids, id)
	before := d.tok.Decode(d.ids[d.prefix:d.read])
	after := d.tok.Decode(d.ids[d.prefix:])
	if len(after) <= len(before) || strings.HasSuffix(after, string(utf8.RuneError)) || !strings.HasPrefix(after, before) {
		return ""
	}
	d.prefix, d.read = d.read, len(d.ids)
	return after[len(before):]
}

// Flush returns whatever is held back (an incomplete character at the end).
func (d *Detokenizer) Flush() string {
	before := d.tok.Decode(d.ids[d.prefix:d.read])
	after := d.tok.Decode(d.ids[d.prefix:])
	d.prefix, d.read = d.read, len(d.ids)
	if strings.HasPrefix(after, before) {
		return after[len(before):]
	}
	return ""
}
