package corpus

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"syscall"

	"github.com/golem-ml/golem/internal/atomicfile"
)

// On-disk deduplication, in datatrove's three steps, so no step holds more than one
// shard's signatures or the duplicates themselves in memory:
//
//  1. signatures (per input shard, in parallel): the exact hash and the MinHash band keys of
//     each kept document, sorted, in sig/<shard>.exact and sig/<shard>.band<b>;
//  2. dedup (per task: "exact" and one per band, in parallel or on separate machines): a
//     streaming k-way merge of every shard's sorted file for the task; each run of equal
//     keys gives duplicate pairs (first document, later document) in dups/<task>.pairs;
//  3. tokenize (per shard): union-find over all pairs (only duplicates, a small set); in
//     each cluster the first document in input order is kept and the others dropped.

// sigRec is one signature record: a 128-bit key (exact) or 64-bit key (band, h2 = 0),
// and the document's position.
type sigRec struct {
	h1, h2 uint64
	shard  uint32
	doc    uint32
}

func recLess(a, b sigRec) bool {
	if a.h1 != b.h1 {
		return a.h1 < b.h1
	}
	if a.h2 != b.h2 {
		return a.h2 < b.h2
	}
	if a.shard != b.shard {
		return a.shard < b.shard
	}
	return a.doc < b.doc
}

// dedupTasks lists the dedup step's tasks for a config.
func dedupTasks(cfg DedupConfig) []string {
	var t []string
	if cfg.Exact {
		t = append(t, "exact")
	}
	if cfg.MinHash {
		for b := range cfg.withDefaults().Bands {
			t = append(t, fmt.Sprintf("band%02d", b))
		}
	}
	return t
}

// sigSet collects one shard's signatures.
type sigSet struct {
	cfg   DedupConfig
	mh    *MinHasher
	exact []sigRec
	bands [][]sigRec
}

func newSigSet(cfg DedupConfig, mh *MinHasher) *sigSet {
	cfg = cfg.withDefaults()
	return &sigSet{cfg: cfg, mh: mh, bands: make([][]sigRec, cfg.Bands)}
}

// docSig is one document's keys.
type docSig struct {
	exact [2]uint64
	bands []uint64
}

// compute returns a document's keys (safe for concurrent use).
func (s *sigSet) compute(text string) docSig {
	var d docSig
	norm := NormalizeForDedup(text)
	if s.cfg.Exact {
		d.exact = exactHashNormalized(norm)
	}
	if s.cfg.MinHash {
		d.bands = s.mh.Bands(s.mh.signatureNormalized(norm))
	}
	return d
}

// add records a kept document's keys (doc = its ordinal among the shard's documents).
func (s *sigSet) add(doc uint32, d docSig) {
	if s.cfg.Exact {
		s.exact = append(s.exact, sigRec{h1: d.exact[0], h2: d.exact[1], doc: doc})
	}
	for b, k := range d.bands {
		s.bands[b] = append(s.bands[b], sigRec{h1: k, doc: doc})
	}
}

// write saves the sorted signature files of a shard atomically.
func (s *sigSet) write(dir, shard string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]sigRec{}
	if s.cfg.Exact {
		files["exact"] = s.exact
	}
	if s.cfg.MinHash {
		for b, recs := range s.bands {
			files[fmt.Sprintf("band%02d", b)] = recs
		}
	}
	for task, recs := range files {
		slices.SortFunc(recs, func(a, b sigRec) int {
			if recLess(a, b) {
				return -1
			}
			if recLess(b, a) {
				return 1
			}
			return 0
		})
		width := 12
		if task == "exact" {
			width = 20
		}
		buf := make([]byte, 0, len(recs)*width)
		for _, r := range recs {
			buf = binary.LittleEndian.AppendUint64(buf, r.h1)
			if width == 20 {
				buf = binary.LittleEndian.AppendUint64(buf, r.h2)
			}
			buf = binary.LittleEndian.AppendUint32(buf, r.doc)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, shard+"."+task), buf); err != nil {
			return err
		}
	}
	return nil
}

// sigReader streams one shard's sorted signature file.
type sigReader struct {
	f     *os.File
	br    *bufio.Reader
	shard uint32
	width int
	cur   sigRec
	buf   [20]byte
}

func (r *sigReader) next() (bool, error) {
	if _, err := io.ReadFull(r.br, r.buf[:r.width]); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, fmt.Errorf("%s: corrupt signature file: %w; delete it and rerun the signatures stage", r.f.Name(), err)
	}
	r.cur = sigRec{h1: binary.LittleEndian.Uint64(r.buf[:]), shard: r.shard}
	if r.width == 20 {
		r.cur.h2 = binary.LittleEndian.Uint64(r.buf[8:])
	}
	r.cur.doc = binary.LittleEndian.Uint32(r.buf[r.width-4:])
	return true, nil
}

type sigHeap []*sigReader

func (h sigHeap) Len() int           { return len(h) }
func (h sigHeap) Less(i, j int) bool { return recLess(h[i].cur, h[j].cur) }
func (h sigHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sigHeap) Push(x any)        { *h = append(*h, x.(*sigReader)) }
func (h *sigHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// raiseFileLimit lifts the open-file soft limit to the hard limit: the merge keeps one
// file per input shard open.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// mergeTask merges every shard's signature file for task and writes the duplicate pairs
// (first, later) to dupDir/<task>.pairs as 16-byte records (shard, doc, shard, doc;
// uint32 little-endian). It returns the number of pairs.
func mergeTask(sigDir, dupDir string, shards []string, task string) (int64, error) {
	out := filepath.Join(dupDir, task+".pairs")
	if _, err := os.Stat(out); err == nil {
		return -1, nil // already done
	}
	raiseFileLimit()
	width := 12
	if task == "exact" {
		width = 20
	}
	h := sigHeap{}
	defer func() {
		for _, r := range h {
			r.f.Close()
		}
	}()
	for i, s := range shards {
		f, err := os.Open(filepath.Join(sigDir, s+"."+task))
		if err != nil {
			return 0, fmt.Errorf("signatures of shard %s missing (%w); run the signatures stage for every shard first", s, err)
		}
		r := &sigReader{f: f, br: bufio.NewReaderSize(f, 64<<10), shard: uint32(i), width: width}
		ok, err := r.next()
		if err != nil {
			f.Close()
			return 0, err
		}
		if !ok {
			f.Close()
			continue
		}
		h = append(h, r)
	}
	heap.Init(&h)
	if err := os.MkdirAll(dupDir, 0o755); err != nil {
		return 0, err
	}
	var pairs int64
	// A write, flush or sync error fails the merge and leaves no pairs file, so a rerun
	// does the task again instead of trusting a short one.
	err := atomicfile.Write(out, func(w io.Writer) error {
		var first sigRec
		have := false
		var rec [16]byte
		for h.Len() > 0 {
			r := h[0]
			cur := r.cur
			if have && cur.h1 == first.h1 && cur.h2 == first.h2 {
				binary.LittleEndian.PutUint32(rec[0:], first.shard)
				binary.LittleEndian.PutUint32(rec[4:], first.doc)
				binary.LittleEndian.PutUint32(rec[8:], cur.shard)
				binary.LittleEndian.PutUint32(rec[12:], cur.doc)
				if _, err := w.Write(rec[:]); err != nil {
					return err
				}
				pairs++
			} else {
				first, have = cur, true
			}
			ok, err := r.next()
			if err != nil {
				return err
			}
			if ok {
				heap.Fix(&h, 0)
			} else {
				r.f.Close()
				heap.Pop(&h)
			}
		}
		return nil
	})
	return pairs, err
}

// unionFind over document keys (shard<<32 | doc); only documents in some pair appear.
type unionFind map[uint64]uint64

func (u unionFind) find(x uint64) uint64 {
	p, ok := u[x]
	if !ok {
		return x
	}
	if p == x {
		return x
	}
	r := u.find(p)
	u[x] = r
	return r
}

// union links two documents; the smaller key (earlier in input order) becomes the root.
func (u unionFind) union(a, b uint64) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	u[ra] = ra
	u[rb] = ra
}

// dropSet maps shard index -> document ordinal -> reason (exact_duplicate or near_duplicate).
type dropSet map[uint32]map[uint32]string

// DocKey names a document of a run: its input shard's index << 32 | its ordinal among
// the shard's documents. Smaller keys come first in input order.
func DocKey(shard int, ord uint32) uint64 { return uint64(shard)<<32 | uint64(ord) }

// Clusters decides which duplicates to drop from duplicate pairs, whatever found them
// (Prepare's on-disk merge, or a GroupByKey on another engine): union-find over the
// pairs; in each cluster the first document in input order is kept.
type Clusters struct{ exact, all unionFind }

// NewClusters starts with no pairs.
func NewClusters() *Clusters { return &Clusters{exact: unionFind{}, all: unionFind{}} }

// Add records that documents a and b (DocKeys) share an exact-dedup key (exact) or an
// LSH band key.
func (c *Clusters) Add(a, b uint64, exact bool) {
	if exact {
		c.exact.union(a, b)
	}
	c.all.union(a, b)
}

// Drops calls drop for every document to leave out, in DocKey order. A document that is
// not the first of its exact-duplicate cluster is an exact_duplicate; one that is not the
// first of its cluster over exact and near pairs is a near_duplicate.
func (c *Clusters) Drops(drop func(key uint64, reason string)) {
	keys := make([]uint64, 0, len(c.all))
	for k := range c.all {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		if c.all.find(k) == k {
			continue
		}
		reason := "near_duplicate"
		if _, ok := c.exact[k]; ok && c.exact.find(k) != k {
			reason = "exact_duplicate"
		}
		drop(k, reason)
	}
}

// loadDrops reads every pairs file of the tasks and decides which documents to drop.
func loadDrops(dupDir string, tasks []string) (dropSet, error) {
	c := NewClusters()
	for _, task := range tasks {
		p := filepath.Join(dupDir, task+".pairs")
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("duplicate pairs %s missing (%w); run the dedup stage for every task first", p, err)
		}
		br := bufio.NewReaderSize(f, 1<<20)
		var b [16]byte
		for {
			if _, err := io.ReadFull(br, b[:]); err != nil {
				f.Close()
				if err == io.EOF {
					break
				}
				return nil, fmt.Errorf("%s: corrupt pairs file (%v); delete it and rerun the dedup stage", p, err)
			}
			a := uint64(binary.LittleEndian.Uint32(b[0:]))<<32 | uint64(binary.LittleEndian.Uint32(b[4:]))
			d := uint64(binary.LittleEndian.Uint32(b[8:]))<<32 | uint64(binary.LittleEndian.Uint32(b[12:]))
			c.Add(a, d, task == "exact")
		}
	}
	drops := dropSet{}
	c.Drops(func(k uint64, reason string) {
		shard, doc := uint32(k>>32), uint32(k)
		if drops[shard] == nil {
			drops[shard] = map[uint32]string{}
		}
		drops[shard][doc] = reason
	})
	return drops, nil
}
