//go:build linux || darwin || freebsd

package safetensors

import (
	"os"
	"syscall"
	"unsafe"
)

type mapping struct{ b []byte }

func mapFile(f *os.File, size int64) (mapping, []byte, error) {
	if int64(int(size)) != size {
		return mapping{}, nil, syscall.EFBIG
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return mapping{}, nil, err
	}
	return mapping{b}, b, nil
}

// release drops the whole pages inside b from the resident set (they are re-read on access).
func (m mapping) release(b []byte) {
	if len(b) == 0 || m.b == nil {
		return
	}
	page := uintptr(os.Getpagesize())
	base := uintptr(unsafe.Pointer(&m.b[0]))
	lo := uintptr(unsafe.Pointer(&b[0])) - base
	hi := lo + uintptr(len(b))
	lo = (lo + page - 1) &^ (page - 1)
	hi &^= page - 1
	if hi > lo {
		_ = syscall.Madvise(m.b[lo:hi], syscall.MADV_DONTNEED)
	}
}

func (m mapping) close() error {
	if m.b == nil {
		return nil
	}
	return syscall.Munmap(m.b)
}
