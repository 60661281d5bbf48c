package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/golem-ml/golem/internal/atomicfile"
)

// Info describes a tensor to be written: its name, dtype and shape.
type Info struct {
	Name  string
	DType string
	Shape []int
}

// Bytes is the tensor's size in bytes.
func (i Info) Bytes() int64 {
	n := int64(DTypeSize[i.DType])
	for _, d := range i.Shape {
		n *= int64(d)
	}
	return n
}

// encodeHeader lays out infos in name order (as Write does) and returns the 8-byte length
// plus padded JSON header, the infos sorted, and each one's offset into the data section.
func encodeHeader(infos []Info, metadata map[string]string) ([]byte, []Info, []int64, error) {
	sorted := append([]Info(nil), infos...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := make(map[string]any, len(sorted)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	offs := make([]int64, len(sorted))
	var off int64
	for i, t := range sorted {
		if _, ok := DTypeSize[t.DType]; !ok {
			return nil, nil, nil, fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if _, dup := header[t.Name]; dup {
			return nil, nil, nil, fmt.Errorf("tensor %q listed twice", t.Name)
		}
		offs[i] = off
		header[t.Name] = entry{DType: t.DType, Shape: nonNil(t.Shape), DataOffsets: [2]int64{off, off + t.Bytes()}}
		off += t.Bytes()
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return nil, nil, nil, err
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	out := make([]byte, 8, 8+len(hb))
	binary.LittleEndian.PutUint64(out, uint64(len(hb)))
	return append(out, hb...), sorted, offs, nil
}

// Allocate lays out a file of the given tensors in one zeroed buffer and returns it with a
// slice per tensor name to fill in place. The bytes equal what Write produces for the same
// tensors and metadata, so a caller can build a large file without a second copy.
func Allocate(infos []Info, metadata map[string]string) ([]byte, map[string][]byte, error) {
	head, sorted, offs, err := encodeHeader(infos, metadata)
	if err != nil {
		return nil, nil, err
	}
	var total int64
	for _, t := range sorted {
		total += t.Bytes()
	}
	buf := make([]byte, int64(len(head))+total)
	copy(buf, head)
	slots := make(map[string][]byte, len(sorted))
	base := int64(len(head))
	for i, t := range sorted {
		slots[t.Name] = buf[base+offs[i] : base+offs[i]+t.Bytes() : base+offs[i]+t.Bytes()]
	}
	return buf, slots, nil
}

// WriteStream writes a file tensor by tensor: data(name) is called once per tensor, in name
// order, and must return exactly that tensor's bytes. Only one tensor need be in memory.
func WriteStream(w io.Writer, infos []Info, metadata map[string]string, data func(name string) ([]byte, error)) error {
	head, sorted, _, err := encodeHeader(infos, metadata)
	if err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	for _, t := range sorted {
		b, err := data(t.Name)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if int64(len(b)) != t.Bytes() {
			return fmt.Errorf("tensor %q: %d bytes, shape %v of %s needs %d", t.Name, len(b), t.Shape, t.DType, t.Bytes())
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// WriteStreamFile is WriteStream into path, atomically (see internal/atomicfile).
func WriteStreamFile(path string, infos []Info, metadata map[string]string, data func(name string) ([]byte, error)) error {
	return atomicfile.Write(path, func(w io.Writer) error { return WriteStream(w, infos, metadata, data) })
}
