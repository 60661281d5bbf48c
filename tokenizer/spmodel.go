package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
)

// LoadSentencePiece reads a SentencePiece tokenizer.model (a ModelProto) of a BPE model,
// such as Llama 2's. Only the identity normalizer is supported (what Llama uses).
func LoadSentencePiece(path string) (*SentencePiece, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	t, err := ParseSentencePiece(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

// SentencePiece piece types (sentencepiece_model.proto).
const (
	spNormal      = 1
	spUnknown     = 2
	spControl     = 3
	spUserDefined = 4
	spByte        = 6
)

// ParseSentencePiece decodes the contents of a tokenizer.model (see LoadSentencePiece).
func ParseSentencePiece(b []byte) (*SentencePiece, error) {
	t := &SentencePiece{space: metaSpace, dummyPrefix: true, unk: -1, special: map[string]int32{}}
	var types []int
	modelType, normName, removeWS := 1, "", true
	err := protoFields(b, func(field, wire int, v uint64, data []byte) error {
		switch field {
		case 1: // repeated SentencePiece pieces
			piece, score, typ := "", float32(0), spNormal
			err := protoFields(data, func(f, w int, v uint64, d []byte) error {
				switch {
				case f == 1 && w == 2:
					piece = string(d)
				case f == 2 && w == 5:
					score = math.Float32frombits(uint32(v))
				case f == 3 && w == 0:
					typ = int(v)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("pieces[%d]: %w", len(t.pieces), err)
			}
			t.pieces = append(t.pieces, piece)
			t.scores = append(t.scores, score)
			types = append(types, typ)
		case 2: // TrainerSpec
			return protoFields(data, func(f, w int, v uint64, d []byte) error {
				if f == 3 && w == 0 {
					modelType = int(v)
				}
				return nil
			})
		case 3: // NormalizerSpec
			return protoFields(data, func(f, w int, v uint64, d []byte) error {
				switch {
				case f == 1 && w == 2:
					normName = string(d)
				case f == 3 && w == 0:
					t.dummyPrefix = v != 0
				case f == 4 && w == 0:
					removeWS = v != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("not a SentencePiece model: %w", err)
	}
	if len(t.pieces) == 0 {
		return nil, fmt.Errorf("not a SentencePiece model: no pieces")
	}
	if modelType != 2 {
		return nil, fmt.Errorf("trainer_spec.model_type is %d; only BPE (2) is supported, not unigram (1)", modelType)
	}
	if normName != "" && normName != "identity" {
		return nil, fmt.Errorf("normalizer_spec.name is %q; only \"identity\" is supported", normName)
	}
	if removeWS {
		return nil, fmt.Errorf("normalizer_spec.remove_extra_whitespaces is true; only false (as in Llama) is supported")
	}
	for id, typ := range types {
		switch typ {
		case spUnknown:
			t.unk = int32(id)
			t.special[t.pieces[id]] = int32(id)
		case spControl:
			t.special[t.pieces[id]] = int32(id)
		case spUserDefined:
			t.added.add(strings.ReplaceAll(t.pieces[id], metaSpace, " "), int32(id))
		}
	}
	t.init()
	t.checkWordSplit()
	t.merges = mergesFromScores(t.pieces, t.ids, t.scores, func(id int) bool { return types[id] == spNormal })
	return t, nil
}

// protoFields walks the fields of a protobuf message, calling f with the field number,
// wire type, the value (varint or fixed) or the bytes (length-delimited).
func protoFields(b []byte, f func(field, wire int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return fmt.Errorf("bad field key")
		}
		b = b[n:]
		field, wire := int(key>>3), int(key&7)
		var v uint64
		var data []byte
		switch wire {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return fmt.Errorf("field %d: bad varint", field)
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return fmt.Errorf("field %d: truncated", field)
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return fmt.Errorf("field %d: truncated", field)
			}
			data, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return fmt.Errorf("field %d: truncated", field)
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return fmt.Errorf("field %d: unsupported wire type %d", field, wire)
		}
		if err := f(field, wire, v, data); err != nil {
			return err
		}
	}
	return nil
}
