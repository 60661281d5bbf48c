package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// Header is the decoded JSON header of a safetensors file.
type Header struct {
	Entries  map[string]Entry
	Metadata map[string]string
}

// Entry locates one tensor: [Begin, End) are byte offsets into the data after the header.
type Entry struct {
	DType      string
	Shape      []int
	Begin, End int64
}

// Count is the number of elements of the entry's shape.
func (e Entry) Count() int64 {
	n := int64(1)
	for _, d := range e.Shape {
		n *= int64(d)
	}
	return n
}

// MaxTensors bounds the number of tensors in one header (a 70B model has under 1000 per shard).
const MaxTensors = 1 << 20

// MaxRank bounds a tensor's number of dimensions.
const MaxRank = 16

type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseHeader validates the JSON header hb of a file whose data section holds dataLen bytes.
// Every tensor must have a known dtype, a shape whose byte count equals its offsets' span,
// and offsets inside the data; tensors may not overlap. It allocates in proportion to hb only.
func ParseHeader(hb []byte, dataLen int64) (*Header, error) {
	if len(hb) > MaxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", len(hb), MaxHeaderSize)
	}
	if t := bytes.TrimLeft(hb, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("header is not a JSON object (not a safetensors file?)")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, fmt.Errorf("header is not valid JSON: %w", err)
	}
	if len(raw) > MaxTensors {
		return nil, fmt.Errorf("header lists %d tensors, more than the %d allowed", len(raw), MaxTensors)
	}
	h := &Header{Entries: make(map[string]Entry, len(raw))}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &h.Metadata); err != nil {
				return nil, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		e, err := parseEntry(msg, dataLen)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		h.Entries[name] = e
	}
	// No two tensors may share bytes: sort by offset and compare neighbours.
	names := make([]string, 0, len(h.Entries))
	for n, e := range h.Entries {
		if e.End > e.Begin {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool { return h.Entries[names[i]].Begin < h.Entries[names[j]].Begin })
	for i := 1; i < len(names); i++ {
		a, b := h.Entries[names[i-1]], h.Entries[names[i]]
		if b.Begin < a.End {
			return nil, fmt.Errorf("tensors %q [%d, %d) and %q [%d, %d) overlap", names[i-1], a.Begin, a.End, names[i], b.Begin, b.End)
		}
	}
	return h, nil
}

func parseEntry(msg json.RawMessage, dataLen int64) (Entry, error) {
	var r rawEntry
	if err := json.Unmarshal(msg, &r); err != nil {
		return Entry{}, fmt.Errorf("bad header entry: %w", err)
	}
	if r.DType == nil || r.DataOffsets == nil {
		return Entry{}, fmt.Errorf("header entry needs dtype, shape and data_offsets")
	}
	if r.Shape == nil { // "shape": null from older writers: a scalar
		r.Shape = &[]int64{}
	}
	size, ok := DTypeSize[*r.DType]
	if !ok {
		return Entry{}, fmt.Errorf("unknown dtype %q (known: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL)", *r.DType)
	}
	if len(*r.Shape) > MaxRank {
		return Entry{}, fmt.Errorf("shape has %d dimensions, more than %d", len(*r.Shape), MaxRank)
	}
	if len(*r.DataOffsets) != 2 {
		return Entry{}, fmt.Errorf("data_offsets has %d numbers, want [begin, end]", len(*r.DataOffsets))
	}
	shape := make([]int, len(*r.Shape))
	count := int64(1)
	for i, d := range *r.Shape {
		if d < 0 || d > math.MaxInt32 || (d > 0 && count > math.MaxInt64/d/8) {
			return Entry{}, fmt.Errorf("bad shape %v", *r.Shape)
		}
		count *= d
		shape[i] = int(d)
	}
	begin, end := (*r.DataOffsets)[0], (*r.DataOffsets)[1]
	if begin < 0 || end < begin || end > dataLen {
		return Entry{}, fmt.Errorf("data offsets [%d, %d) outside the %d data bytes (truncated file?)", begin, end, dataLen)
	}
	if end-begin != count*int64(size) {
		return Entry{}, fmt.Errorf("shape %v of %s needs %d bytes, offsets give %d", shape, *r.DType, count*int64(size), end-begin)
	}
	return Entry{DType: *r.DType, Shape: shape, Begin: begin, End: end}, nil
}
