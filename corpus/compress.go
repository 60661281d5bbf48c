package corpus

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// errBrokenMember is returned once by a gzip stream where a member was truncated or
// corrupt; the stream then continues with the next member it finds. Readers above it drop
// the record or line in progress and resynchronise.
type errBrokenMember struct{ cause error }

func (e errBrokenMember) Error() string {
	return "truncated or corrupt compressed data: " + e.cause.Error()
}

// countingReader counts the bytes read from the file, for progress and MB/s.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// rawFile is an open shard decompressed on the fly: gzip (single or one member per
// record), zstd or plain, chosen by the magic bytes, not the file name.
type rawFile struct {
	f     *os.File
	count *countingReader
	r     io.Reader
	close func()
}

var (
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

func openRaw(path string) (*rawFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	c := &countingReader{r: f}
	br := bufio.NewReaderSize(c, 1<<20)
	head, _ := br.Peek(4)
	rf := &rawFile{f: f, count: c, r: br, close: func() {}}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		rf.r = &gzipMembers{f: f, count: c, br: br}
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: zstd: %w", path, err)
		}
		rf.r, rf.close = &zstdStream{zr: zr}, zr.Close
	}
	return rf, nil
}

func (rf *rawFile) Read(p []byte) (int, error) { return rf.r.Read(p) }
func (rf *rawFile) Offset() int64              { return rf.count.n }
func (rf *rawFile) Close() error {
	rf.close()
	return rf.f.Close()
}

// gzipMembers reads a gzip file member by member. Each member's output is held back (up
// to memberBuffer bytes) until its CRC checks, so a truncated or corrupt member delivers
// nothing: gzipMembers returns errBrokenMember once, seeks back to just after the broken
// member's start, finds the next gzip header and goes on. One bad member (one WARC record
// in a per-record gzip) thus loses only itself. Members larger than memberBuffer (a
// single-member .jsonl.gz) stream; if one of those breaks, the text before the break has
// already been delivered and the reader above drops only the line in progress.
type gzipMembers struct {
	f         *os.File
	count     *countingReader
	br        *bufio.Reader
	zr        *gzip.Reader
	buf       []byte
	pos       int
	streaming bool
	done      bool
	start     int64
	pending   error
}

func (g *gzipMembers) fileSize() int64 {
	st, err := g.f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

const memberBuffer = 4 << 20

func (g *gzipMembers) offset() int64 { return g.count.n - int64(g.br.Buffered()) }

func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		if g.pos < len(g.buf) {
			n := copy(p, g.buf[g.pos:])
			g.pos += n
			return n, nil
		}
		if g.pending != nil {
			err := g.pending
			g.pending = nil
			return 0, err
		}
		if g.streaming {
			n, err := g.zr.Read(p)
			if err == io.EOF {
				g.streaming = false
				if n > 0 {
					return n, nil
				}
				continue
			}
			if err != nil {
				g.streaming = false
				g.resync(g.start + 1)
				return n, errBrokenMember{unexpected(err)}
			}
			return n, nil
		}
		if g.done {
			return 0, io.EOF
		}
		g.start = g.offset()
		var err error
		if g.zr == nil {
			g.zr, err = gzip.NewReader(g.br)
		} else {
			err = g.zr.Reset(g.br)
		}
		if err == io.EOF {
			g.done = true
			return 0, io.EOF
		}
		if err != nil {
			g.resync(g.start + 1)
			return 0, errBrokenMember{unexpected(err)}
		}
		g.zr.Multistream(false)
		g.buf, g.pos = g.buf[:0], 0
		stalls := 0
		for {
			if len(g.buf) == cap(g.buf) {
				if len(g.buf) >= memberBuffer {
					g.streaming = true
					break
				}
				g.buf = append(g.buf, make([]byte, max(4096, len(g.buf)))...)[:len(g.buf)]
			}
			n, err := g.zr.Read(g.buf[len(g.buf):cap(g.buf)])
			g.buf = g.buf[:len(g.buf)+n]
			if n == 0 && err == nil {
				if stalls++; stalls > 100 {
					err = io.ErrNoProgress
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				// A file that ends inside a member keeps what decoded before the end; a
				// member that is corrupt (or cut short and followed by another) may have
				// decoded garbage, so it is dropped whole.
				if err = unexpected(err); err != io.ErrUnexpectedEOF || g.count.n < g.fileSize() {
					g.buf = g.buf[:0]
				}
				g.resync(g.start + 1)
				g.pending = errBrokenMember{err}
				break
			}
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// resync moves to the first gzip header at or after file offset off (or to the end).
func (g *gzipMembers) resync(off int64) {
	if _, err := g.f.Seek(off, io.SeekStart); err != nil {
		g.done = true
		return
	}
	g.count.n = off
	g.br.Reset(g.count)
	for {
		b, err := g.br.Peek(3)
		if len(b) < 3 || err != nil {
			g.done = true
			return
		}
		if bytes.Equal(b, gzipMagic) {
			return
		}
		if i := bytes.IndexByte(b[1:], gzipMagic[0]); i >= 0 {
			g.br.Discard(i + 1)
			continue
		}
		g.br.Discard(3)
	}
}

// zstdStream turns a zstd error (a truncated or corrupt frame) into errBrokenMember once,
// then ends the stream: what decoded before the damage is kept.
type zstdStream struct {
	zr   *zstd.Decoder
	done bool
}

func (z *zstdStream) Read(p []byte) (int, error) {
	if z.done {
		return 0, io.EOF
	}
	n, err := z.zr.Read(p)
	if err != nil && err != io.EOF {
		z.done = true
		return n, errBrokenMember{unexpected(err)}
	}
	return n, err
}
