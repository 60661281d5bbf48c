package data

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unsafe"

	"github.com/golem-ml/golem/internal/atomicfile"
)

// Token shards use llm.c's binary format, so shards made by llm.c's FineWeb scripts load
// here and ours load there: a header of 256 little-endian int32 (1024 bytes) holding
// ShardMagic, the version and the token count, then the tokens, little-endian.
// Version 1 stores uint16 tokens (vocabularies up to 65,536 ids); version 2 (a golem
// extension, same layout) stores uint32 tokens for larger vocabularies.
const (
	ShardMagic       = 20240520
	ShardHeaderBytes = 256 * 4
	ShardVersion16   = 1
	ShardVersion32   = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ShardVersionFor returns the shard version that can hold ids below vocabSize.
func ShardVersionFor(vocabSize int) int {
	if vocabSize <= 1<<16 {
		return ShardVersion16
	}
	return ShardVersion32
}

// ShardWriter writes one token shard atomically: tokens go to a temporary file in the
// same folder, and Close writes the header, fsyncs and renames it into place, so a shard
// either exists complete or not at all.
type ShardWriter struct {
	path    string
	f       *atomicfile.File
	w       *bufio.Writer
	version int
	n       int64
	crc     uint32
	buf     []byte
}

// CreateShard starts a shard for tokens of the given version (ShardVersion16 or 32).
func CreateShard(path string, version int) (*ShardWriter, error) {
	if version != ShardVersion16 && version != ShardVersion32 {
		return nil, fmt.Errorf("%s: shard version %d; use 1 (uint16) or 2 (uint32)", path, version)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	sw := &ShardWriter{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), version: version}
	if _, err := sw.w.Write(make([]byte, ShardHeaderBytes)); err != nil {
		sw.Abort()
		return nil, err
	}
	return sw, nil
}

// Write appends tokens. Ids must fit the shard version.
func (sw *ShardWriter) Write(ids []int) error {
	width := 2
	if sw.version == ShardVersion32 {
		width = 4
	}
	sw.buf = sw.buf[:0]
	for _, id := range ids {
		if id < 0 || width == 2 && id > 0xffff || int64(id) > 0xffffffff {
			return fmt.Errorf("%s: token id %d does not fit a version-%d shard; use version 2 for vocabularies over 65,536", sw.path, id, sw.version)
		}
		if width == 2 {
			sw.buf = binary.LittleEndian.AppendUint16(sw.buf, uint16(id))
		} else {
			sw.buf = binary.LittleEndian.AppendUint32(sw.buf, uint32(id))
		}
	}
	sw.crc = crc32.Update(sw.crc, castagnoli, sw.buf)
	sw.n += int64(len(ids))
	_, err := sw.w.Write(sw.buf)
	return err
}

// Tokens is the number of tokens written so far.
func (sw *ShardWriter) Tokens() int64 { return sw.n }

// CRC32C is the Castagnoli CRC of the token bytes (header excluded) written so far.
func (sw *ShardWriter) CRC32C() uint32 { return sw.crc }

// Close finishes the shard: header, then atomicfile's fsync, rename and folder fsync.
func (sw *ShardWriter) Close() error {
	if err := sw.w.Flush(); err != nil {
		sw.Abort()
		return err
	}
	if sw.n > 1<<31-1 {
		sw.Abort()
		return fmt.Errorf("%s: %d tokens is over the 2^31-1 an llm.c header can count; write smaller shards", sw.path, sw.n)
	}
	head := make([]byte, ShardHeaderBytes)
	binary.LittleEndian.PutUint32(head[0:], ShardMagic)
	binary.LittleEndian.PutUint32(head[4:], uint32(sw.version))
	binary.LittleEndian.PutUint32(head[8:], uint32(sw.n))
	if _, err := sw.f.WriteAt(head, 0); err != nil {
		sw.Abort()
		return err
	}
	return sw.f.Commit()
}

// Abort removes the unfinished shard.
func (sw *ShardWriter) Abort() { sw.f.Abort() }

// ShardHeader reads and checks a shard's header against its size. The error names the
// file and what is wrong.
func ShardHeader(path string) (version int, tokens int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	head := make([]byte, ShardHeaderBytes)
	if _, err := io.ReadFull(f, head); err != nil {
		return 0, 0, fmt.Errorf("%s: corrupt token shard: %d bytes is shorter than the %d-byte header", path, st.Size(), ShardHeaderBytes)
	}
	return checkShardHeader(path, head, st.Size())
}

func checkShardHeader(path string, head []byte, size int64) (int, int64, error) {
	if len(head) < ShardHeaderBytes {
		return 0, 0, fmt.Errorf("%s: corrupt token shard: %d bytes is shorter than the %d-byte header", path, len(head), ShardHeaderBytes)
	}
	magic := int32(binary.LittleEndian.Uint32(head[0:]))
	version := int32(binary.LittleEndian.Uint32(head[4:]))
	n := int64(int32(binary.LittleEndian.Uint32(head[8:])))
	if magic != ShardMagic {
		return 0, 0, fmt.Errorf("%s: not a token shard: magic %d, want %d (llm.c format)", path, magic, ShardMagic)
	}
	width := int64(2)
	switch version {
	case ShardVersion16:
	case ShardVersion32:
		width = 4
	default:
		return 0, 0, fmt.Errorf("%s: corrupt token shard: version %d, want 1 (uint16) or 2 (uint32)", path, version)
	}
	if n < 0 {
		return 0, 0, fmt.Errorf("%s: corrupt token shard: negative token count %d", path, n)
	}
	if want := ShardHeaderBytes + n*width; size != want {
		return 0, 0, fmt.Errorf("%s: corrupt token shard: header says %d tokens (%d bytes) but the file has %d bytes; regenerate it (delete it and rerun prepare)", path, n, want, size)
	}
	return int(version), n, nil
}

// Shard is a memory-mapped token shard.
type Shard struct {
	Path    string
	Version int
	mem     []byte
	u16     []uint16
	u32     []uint32
}

// OpenShard maps a token shard after checking its header and size.
func OpenShard(path string) (*Shard, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < ShardHeaderBytes {
		return nil, fmt.Errorf("%s: corrupt token shard: %d bytes is shorter than the %d-byte header", path, st.Size(), ShardHeaderBytes)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	version, n, err := checkShardHeader(path, mem[:ShardHeaderBytes], st.Size())
	if err != nil {
		syscall.Munmap(mem)
		return nil, err
	}
	s := &Shard{Path: path, Version: version, mem: mem}
	if n > 0 {
		p := unsafe.Pointer(&mem[ShardHeaderBytes])
		if version == ShardVersion16 {
			s.u16 = unsafe.Slice((*uint16)(p), n)
		} else {
			s.u32 = unsafe.Slice((*uint32)(p), n)
		}
	}
	return s, nil
}

// Len is the number of tokens.
func (s *Shard) Len() int64 { return int64(len(s.u16) + len(s.u32)) }

// Read copies tokens from offset into dst.
func (s *Shard) Read(dst []int32, offset int64) {
	if s.Version == ShardVersion16 {
		src := s.u16[offset : offset+int64(len(dst))]
		for i, v := range src {
			dst[i] = int32(v)
		}
		return
	}
	src := s.u32[offset : offset+int64(len(dst))]
	for i, v := range src {
		dst[i] = int32(v)
	}
}

// CRC32C computes the Castagnoli CRC of the token bytes.
func (s *Shard) CRC32C() uint32 { return crc32.Checksum(s.mem[ShardHeaderBytes:], castagnoli) }

// Close unmaps the shard.
func (s *Shard) Close() error {
	if s.mem == nil {
		return nil
	}
	err := syscall.Munmap(s.mem)
	s.mem, s.u16, s.u32 = nil, nil, nil
	return err
}

// ManifestFile is the name of the manifest in a token-shard folder.
const ManifestFile = "manifest.json"

// Manifest describes a folder of token shards.
type Manifest struct {
	Format    string          `json:"format"` // "llm.c"
	VocabSize int             `json:"vocab_size"`
	EOT       int             `json:"eot"`
	Shards    []ManifestShard `json:"shards"`
}

// ManifestShard is one shard's entry: file name relative to the manifest, counts, checksum.
type ManifestShard struct {
	File      string `json:"file"`
	Version   int    `json:"version"`
	Tokens    int64  `json:"tokens"`
	Documents int64  `json:"documents"`
	Bytes     int64  `json:"bytes"`  // file size, header included
	CRC32C    string `json:"crc32c"` // hex Castagnoli CRC of the token bytes
	Source    string `json:"source,omitempty"`
}

// ReadManifest reads a manifest.json.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a token-shard manifest: %w", path, err)
	}
	return &m, nil
}

// Write saves the manifest atomically.
func (m *Manifest) Write(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// ShardSet is the concatenation of memory-mapped token shards, in order. It implements
// Tokens, so a Loader serves batches from it without reading the shards into memory.
type ShardSet struct {
	Shards   []*Shard
	Manifest *Manifest // nil when the shards came without one
	starts   []int64   // starts[i] = first global token of shard i; starts[len] = total
	listed   []bool    // listed[i]: shard i came from a manifest (which records its vocabulary)
}

// OpenShards opens token shards given as files, globs, folders or manifest.json paths. A
// folder with a manifest.json opens the shards it lists and checks their counts and
// sizes; a folder without one opens its *.bin files in name order. Every header and file
// size is checked; the first bad shard fails the call with its file named. verify also
// checks the CRC32C of each shard listed in a manifest (reads every byte).
func OpenShards(specs []string, verify bool) (*ShardSet, error) {
	set := &ShardSet{}
	var entries []ManifestShard
	var files []string
	for _, spec := range specs {
		manifest := ""
		if st, err := os.Stat(spec); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(spec, ManifestFile)); err == nil {
				manifest = filepath.Join(spec, ManifestFile)
			}
		} else if filepath.Base(spec) == ManifestFile {
			manifest = spec
		}
		if manifest != "" {
			m, err := ReadManifest(manifest)
			if err != nil {
				return nil, err
			}
			if set.Manifest == nil {
				set.Manifest = m
			} else if set.Manifest.VocabSize != m.VocabSize || set.Manifest.EOT != m.EOT {
				return nil, fmt.Errorf("%s: vocab_size %d / eot %d differ from another manifest's %d / %d; shards of one run must share a tokenizer", manifest, m.VocabSize, m.EOT, set.Manifest.VocabSize, set.Manifest.EOT)
			}
			for _, e := range m.Shards {
				files = append(files, filepath.Join(filepath.Dir(manifest), e.File))
				entries = append(entries, e)
			}
			continue
		}
		found, err := Expand([]string{spec})
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			if strings.HasSuffix(f, ".bin") {
				files = append(files, f)
				entries = append(entries, ManifestShard{})
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no token shards (*.bin) found", strings.Join(specs, ", "))
	}
	set.starts = []int64{0}
	for i, f := range files {
		s, err := OpenShard(f)
		if err != nil {
			set.Close()
			return nil, err
		}
		set.Shards = append(set.Shards, s)
		set.listed = append(set.listed, entries[i].File != "")
		if e := entries[i]; e.File != "" {
			if e.Tokens != s.Len() || e.Version != s.Version {
				set.Close()
				return nil, fmt.Errorf("%s: corrupt token shard: %d tokens (version %d) but the manifest lists %d (version %d); regenerate it", f, s.Len(), s.Version, e.Tokens, e.Version)
			}
			if verify && fmt.Sprintf("%08x", s.CRC32C()) != e.CRC32C {
				set.Close()
				return nil, fmt.Errorf("%s: corrupt token shard: CRC32C %08x, the manifest says %s; regenerate it", f, s.CRC32C(), e.CRC32C)
			}
		}
		set.starts = append(set.starts, set.starts[len(set.starts)-1]+s.Len())
	}
	return set, nil
}

// CheckIDs scans every shard that no manifest vouches for (a .bin named directly, or a
// folder without manifest.json) and fails at the first id that is not below vocab, naming
// the file and the token's offset: such an id would index past the embedding table. One
// pass over the mapped tokens, about as fast as memory reads.
func (ss *ShardSet) CheckIDs(vocab int) error {
	for i, s := range ss.Shards {
		if ss.listed[i] {
			continue
		}
		if at, id := s.firstIDAtLeast(vocab); at >= 0 {
			width := int64(2)
			if s.Version == ShardVersion32 {
				width = 4
			}
			return fmt.Errorf("%s: token %d at offset %d (byte %d) is outside the tokenizer's vocabulary of %d ids: the shard was made with another tokenizer; set tokenizer.path to that one, or run prepare again with this one", s.Path, id, at, ShardHeaderBytes+at*width, vocab)
		}
	}
	return nil
}

// firstIDAtLeast returns the offset and value of the first token >= vocab, or -1.
func (s *Shard) firstIDAtLeast(vocab int) (int64, int) {
	for i, v := range s.u16 {
		if int(v) >= vocab {
			return int64(i), int(v)
		}
	}
	for i, v := range s.u32 {
		if int64(v) >= int64(vocab) {
			return int64(i), int(v)
		}
	}
	return -1, 0
}

// Len is the total number of tokens.
func (ss *ShardSet) Len() int64 { return ss.starts[len(ss.starts)-1] }

// Read fills dst from global offset, across shard boundaries.
func (ss *ShardSet) Read(dst []int32, offset int64) {
	i := sort.Search(len(ss.Shards), func(i int) bool { return ss.starts[i+1] > offset })
	for len(dst) > 0 {
		s := ss.Shards[i]
		local := offset - ss.starts[i]
		n := min(int64(len(dst)), s.Len()-local)
		s.Read(dst[:n], local)
		dst, offset = dst[n:], offset+n
		i++
	}
}

// Close unmaps every shard.
func (ss *ShardSet) Close() error {
	for _, s := range ss.Shards {
		s.Close()
	}
	return nil
}

// Span is a contiguous part [Off, Off+N) of a token stream, e.g. a held-out tail.
type Span struct {
	T      Tokens
	Off, N int64
}

func (s Span) Len() int64                     { return s.N }
func (s Span) Read(dst []int32, offset int64) { s.T.Read(dst, s.Off+offset) }
