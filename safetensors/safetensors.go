// Package safetensors reads and writes the Hugging Face safetensors format: an 8-byte
// little-endian header length N, N bytes of JSON describing each tensor (dtype, shape,
// [begin, end) byte offsets into the data that follows), then the raw little-endian data.
//
// Files are untrusted input: the header size is bounded, every offset is checked against
// the file, shapes must match their byte counts, and nothing allocates more than the file holds.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/golem-ml/golem/internal/atomicfile"
)

// MaxHeaderSize bounds the JSON header (100 MB, as in the reference implementation).
const MaxHeaderSize = 100 << 20

// Tensor is one named tensor: its dtype ("F32", "BF16", "I32", ...), shape and raw bytes.
type Tensor struct {
	DType string
	Shape []int
	Data  []byte
}

// DTypeSize is the byte width of each safetensors dtype this package accepts.
var DTypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}

// F32 wraps float32 data as a tensor.
func F32(data []float32, shape ...int) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{DType: "F32", Shape: shape, Data: b}
}

// Float32s decodes a tensor to float32, converting from F32, F16 and BF16.
func (t Tensor) Float32s() ([]float32, error) {
	switch t.DType {
	case "F32":
		out := make([]float32, len(t.Data)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out, nil
	case "BF16":
		out := make([]float32, len(t.Data)/2)
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.Data[2*i:])) << 16)
		}
		return out, nil
	case "F16":
		out := make([]float32, len(t.Data)/2)
		for i := range out {
			out[i] = halfToFloat(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %s is not a float type", t.DType)
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := int32(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		v := float32(float64(frac) / 1024 * math.Pow(2, -14))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 31:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | frac<<13)
}

type entry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Write saves tensors (in name order) and string metadata to w.
func Write(w io.Writer, tensors map[string]Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := make(map[string]any, len(names)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, n := range names {
		t := tensors[n]
		header[n] = entry{DType: t.DType, Shape: nonNil(t.Shape), DataOffsets: [2]int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 { // align data to 8 bytes, as the reference writer does
		hb = append(hb, ' ')
	}
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(hb)))
	if _, err := w.Write(size[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := w.Write(tensors[n].Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile saves tensors to path atomically (see internal/atomicfile).
func WriteFile(path string, tensors map[string]Tensor, metadata map[string]string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, tensors, metadata) })
}

// File is a parsed safetensors file.
type File struct {
	Tensors  map[string]Tensor
	Metadata map[string]string
}

// Shapes maps each tensor's name to its shape.
func (f *File) Shapes() map[string][]int {
	shapes := make(map[string][]int, len(f.Tensors))
	for name, t := range f.Tensors {
		shapes[name] = t.Shape
	}
	return shapes
}

// ReadFile reads and validates a whole safetensors file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse validates and decodes a safetensors file held in memory. Tensor data aliases b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("truncated: %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("truncated: header length %d but only %d bytes follow", n, len(b)-8)
	}
	h, err := ParseHeader(b[8:8+n], int64(len(b))-8-int64(n))
	if err != nil {
		return nil, err
	}
	data := b[8+n:]
	f := &File{Tensors: make(map[string]Tensor, len(h.Entries)), Metadata: h.Metadata}
	for name, e := range h.Entries {
		f.Tensors[name] = Tensor{DType: e.DType, Shape: e.Shape, Data: data[e.Begin:e.End]}
	}
	return f, nil
}

// nonNil makes a scalar's shape encode as [] rather than null.
func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}
