package corpus

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/atomicfile"
	"github.com/golem-ml/golem/tokenizer"
)

// Stage 1 keeps the tokens of every kept document in a private cache, so stage 3 only copies
// the documents dedup kept instead of reading, filtering and tokenizing the shard again.
// For input shard i, work/tok/<i> holds three files:
//
//	.bin   the tokens, an llm.c shard (each document: end-of-text, then its tokens)
//	.idx   one entry per kept document, in order: its ordinal in the shard (uint32), then
//	       the offset of its first token in .bin (uint64), little-endian
//	.json  tokenCache: stage 1's stats and the tokenizer's size and end-of-text id
//
// The .json is written last: a cache without it (a killed stage 1) is not used.
const (
	cacheOrdBytes    = 4                                // document ordinal, uint32
	cacheOffsetBytes = 8                                // token offset, uint64
	cacheEntryBytes  = cacheOrdBytes + cacheOffsetBytes // one .idx entry
)

// tokenCache describes a shard's cached tokens: stage 1's stats and the tokenizer used.
type tokenCache struct {
	Stats     ShardStats `json:"stats"`
	VocabSize int        `json:"vocab_size"`
	EOT       int        `json:"eot"`
}

func (p *pipeline) cachePath(i int) string { return filepath.Join(p.cfg.WorkDir, "tok", shardKey(i)) }

// cacheWriter writes one shard's token cache.
type cacheWriter struct {
	path string // without extension
	sw   *data.ShardWriter
	idx  []byte
}

func createCache(path string, tok tokenizer.Tokenizer) (*cacheWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	sw, err := data.CreateShard(path+".bin", data.ShardVersionFor(tok.VocabSize()))
	if err != nil {
		return nil, err
	}
	return &cacheWriter{path: path, sw: sw}, nil
}

// add appends the tokens of the kept document with ordinal ord.
func (c *cacheWriter) add(ord uint32, tokens []int) error {
	c.idx = binary.LittleEndian.AppendUint32(c.idx, ord)
	c.idx = binary.LittleEndian.AppendUint64(c.idx, uint64(c.sw.Tokens()))
	return c.sw.Write(tokens)
}

// commit finishes the cache: tokens, index, then the description that marks it usable.
func (c *cacheWriter) commit(st ShardStats, tok tokenizer.Tokenizer) error {
	if err := c.sw.Close(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(c.path+".idx", c.idx); err != nil {
		return err
	}
	b, err := json.Marshal(tokenCache{Stats: st, VocabSize: tok.VocabSize(), EOT: tok.EOT()})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path+".json", b)
}

func (c *cacheWriter) abort() { c.sw.Abort() }

// fromCache writes shard i's output from the stage-1 token cache, leaving out duplicates.
// ok is false when there is no usable cache (then the shard is processed from scratch).
func (p *pipeline) fromCache(i int, out string) (st ShardStats, ok bool, err error) {
	cache := p.cachePath(i)
	b, err := os.ReadFile(cache + ".json")
	if err != nil {
		return st, false, nil
	}
	var c tokenCache
	if json.Unmarshal(b, &c) != nil || c.VocabSize != p.cfg.Tokenizer.VocabSize() || c.EOT != p.cfg.Tokenizer.EOT() {
		return st, false, nil
	}
	idx, err := os.ReadFile(cache + ".idx")
	if err != nil || len(idx)%cacheEntryBytes != 0 || int64(len(idx)/cacheEntryBytes) != c.Stats.Kept {
		return st, false, nil
	}
	src, err := data.OpenShard(cache + ".bin")
	if err != nil {
		return st, false, nil
	}
	defer src.Close()
	st = c.Stats
	sw, err := data.CreateShard(out, src.Version)
	if err != nil {
		return st, true, err
	}
	drops := p.drops[uint32(i)]
	var buf []int32
	var ids []int
	n := len(idx) / cacheEntryBytes
	for k := range n {
		if k%1024 == 0 && p.ctx.Err() != nil {
			sw.Abort()
			return st, true, fmt.Errorf("copying %s: %w", cache+".bin", p.ctx.Err())
		}
		ord, start := cacheEntry(idx, k)
		end := src.Len()
		if k+1 < n {
			_, end = cacheEntry(idx, k+1)
		}
		if why, dup := drops[ord]; dup {
			st.Dropped[why]++
			st.Kept--
			continue
		}
		buf = slices.Grow(buf[:0], int(end-start))[:end-start]
		src.Read(buf, start)
		ids = ids[:0]
		for _, v := range buf {
			ids = append(ids, int(v))
		}
		if err := sw.Write(ids); err != nil {
			sw.Abort()
			return st, true, err
		}
	}
	st.Tokens, st.Output, st.Version, st.CRC32C = sw.Tokens(), OutputName(i), src.Version, fmt.Sprintf("%08x", sw.CRC32C())
	if p.tokenizeReads {
		p.progress(st.Bytes)
	}
	return st, true, sw.Close()
}

// cacheEntry reads .idx entry k: a document's ordinal and the offset of its first token.
func cacheEntry(idx []byte, k int) (ord uint32, offset int64) {
	e := idx[k*cacheEntryBytes:]
	return binary.LittleEndian.Uint32(e), int64(binary.LittleEndian.Uint64(e[cacheOrdBytes:]))
}
