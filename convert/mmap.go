//go:build unix

package convert

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps a file read-only; the returned function unmaps it.
func mapFile(path string) ([]byte, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, func() {}, nil
	}
	if int64(int(st.Size())) != st.Size() {
		return nil, nil, fmt.Errorf("%s: too large to map", path)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		b, err = os.ReadFile(path) // filesystems without mmap
		return b, func() {}, err
	}
	return b, func() { syscall.Munmap(b) }, nil
}
