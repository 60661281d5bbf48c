//go:build !(linux || darwin || freebsd)

package safetensors

import (
	"io"
	"os"
)

type mapping struct{}

// mapFile reads the whole file where memory mapping is not available.
func mapFile(f *os.File, size int64) (mapping, []byte, error) {
	b := make([]byte, size)
	_, err := f.ReadAt(b, 0)
	if err == io.EOF {
		err = nil
	}
	return mapping{}, b, err
}

func (mapping) release([]byte) {}
func (mapping) close() error   { return nil }
