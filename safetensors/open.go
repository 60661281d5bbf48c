package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Mapped is a safetensors file opened for reading without copying it into memory: on Linux
// the file is memory-mapped read-only and tensors alias the mapping, so only the pages a
// caller touches are read. Close unmaps it; tensors must not be used afterwards.
type Mapped struct {
	File
	Path string
	data []byte // the whole file (mapped or read)
	m    mapping
}

// Open validates a safetensors file's header and maps its data. Only the header is parsed
// eagerly; it is bounded by MaxHeaderSize and by the file size, so a hostile header costs
// at most its own length in memory.
func Open(path string) (*Mapped, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < 8 {
		return nil, fmt.Errorf("%s: truncated: %d bytes, shorter than the 8-byte header length", path, size)
	}
	var lenb [8]byte
	if _, err := io.ReadFull(f, lenb[:]); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(lenb[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("%s: header length %d exceeds the %d-byte limit (not a safetensors file?)", path, n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, fmt.Errorf("%s: truncated: header length %d but only %d bytes follow", path, n, size-8)
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(f, hb); err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", path, err)
	}
	h, err := ParseHeader(hb, size-8-int64(n))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, data, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := &Mapped{Path: path, data: data, m: m}
	out.Metadata = h.Metadata
	out.Tensors = make(map[string]Tensor, len(h.Entries))
	base := 8 + int64(n)
	for name, e := range h.Entries {
		out.Tensors[name] = Tensor{DType: e.DType, Shape: e.Shape, Data: data[base+e.Begin : base+e.End]}
	}
	return out, nil
}

// Release tells the kernel the caller is done with t's pages (a hint that keeps the
// resident set small while converting a large file tensor by tensor).
func (m *Mapped) Release(t Tensor) { m.m.release(t.Data) }

// Close unmaps the file.
func (m *Mapped) Close() error {
	m.Tensors = nil
	return m.m.close()
}
