package pipeline

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/tokenizer"
)

// Shuffle volume, counted as the payload bytes handed to each grouping (the runner adds
// a few bytes of framing per element): dedup keys, duplicate pairs, drops, and the kept
// documents' tokens.
var (
	keyBytes   = beam.NewCounter("shuffle", "dedup_key_bytes")
	pairBytes  = beam.NewCounter("shuffle", "dedup_pair_bytes")
	dropBytes  = beam.NewCounter("shuffle", "dedup_drop_bytes")
	tokenBytes = beam.NewCounter("shuffle", "token_bytes")
)

const tokenizerFile = "tokenizer.json"

// exactTask is the first byte of an exact-dedup key; band b's keys start with byte b.
const exactTask = 0xff

// scanFn is stage 1 for one input shard: golem's corpus.Scanner reads, cleans, filters,
// computes dedup keys and tokenizes. It emits each kept document's tokens (keyed by
// shard: ordinal as uvarint, then the tokens as the shard stores them), each of its dedup
// keys (task byte + hash -> corpus.DocKey) and the shard's stats (JSON).
type scanFn struct {
	Config  string // workerConfig, JSON
	Version int    // token shard version: 2 or 4 bytes per token

	scanner *corpus.Scanner
	exact   bool
}

func (f *scanFn) Setup() error {
	cfg, err := decodeConfig(f.Config)
	if err != nil {
		return err
	}
	f.exact = cfg.Dedup.Exact
	f.scanner, err = corpus.NewScanner(cfg)
	return err
}

func (f *scanFn) Teardown() {
	if f.scanner != nil {
		f.scanner.Close()
	}
}

func (f *scanFn) ProcessElement(ctx context.Context, ref shardRef, emitDoc func(int, []byte), emitKey func([]byte, uint64), emitStats func(int, string)) error {
	path, done, err := localCopy(ctx, ref.Path)
	if err != nil {
		return err
	}
	defer done()
	st, err := f.scanner.Scan(ref.Index, path, func(d corpus.ScannedDoc) error {
		id := corpus.DocKey(ref.Index, d.Ord)
		if f.exact {
			k := binary.LittleEndian.AppendUint64([]byte{exactTask}, d.Exact[0])
			emitKey(binary.LittleEndian.AppendUint64(k, d.Exact[1]), id)
			keyBytes.Inc(ctx, int64(len(k)+8+8))
		}
		for b, h := range d.Bands {
			emitKey(binary.LittleEndian.AppendUint64([]byte{byte(b)}, h), id)
			keyBytes.Inc(ctx, 1+8+8)
		}
		v := encodeTokens(d.Ord, d.Tokens, f.Version)
		tokenBytes.Inc(ctx, int64(len(v)))
		emitDoc(ref.Index, v)
		return nil
	})
	if path != ref.Path { // name the input, not the worker's copy
		st.Source = ref.Path
		for k, s := range st.Samples {
			st.Samples[k] = strings.ReplaceAll(s, path, ref.Path)
		}
	}
	if err != nil {
		return fmt.Errorf("input shard %d (%s): %w", ref.Index, ref.Path, err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	emitStats(ref.Index, string(b))
	return nil
}

// encodeTokens packs a document: uvarint ordinal, then tokens little-endian, 2 bytes
// each for a version-1 shard and 4 for version 2.
func encodeTokens(ord uint32, tokens []int, version int) []byte {
	width := 2
	if version == data.ShardVersion32 {
		width = 4
	}
	b := make([]byte, 0, binary.MaxVarintLen32+width*len(tokens))
	b = binary.AppendUvarint(b, uint64(ord))
	for _, t := range tokens {
		if width == 2 {
			b = binary.LittleEndian.AppendUint16(b, uint16(t))
		} else {
			b = binary.LittleEndian.AppendUint32(b, uint32(t))
		}
	}
	return b
}

func decodeTokens(b []byte, version int) (uint32, []int) {
	ord, n := binary.Uvarint(b)
	b = b[n:]
	var ids []int
	if version == data.ShardVersion32 {
		for i := 0; i+4 <= len(b); i += 4 {
			ids = append(ids, int(binary.LittleEndian.Uint32(b[i:])))
		}
	} else {
		for i := 0; i+2 <= len(b); i += 2 {
			ids = append(ids, int(binary.LittleEndian.Uint16(b[i:])))
		}
	}
	return uint32(ord), ids
}

// pairsFn turns one dedup key's group into duplicate pairs (first, later) in input
// order, as corpus.Prepare's merge does: 16 bytes of DocKeys and 1 if the key is exact.
// All pairs go to key 0, so one worker clusters them.
type pairsFn struct{}

func (pairsFn) ProcessElement(key []byte, ids func(*uint64) bool, emit func(int, []byte)) {
	var docs []uint64
	var id uint64
	for ids(&id) {
		docs = append(docs, id)
	}
	if len(docs) < 2 {
		return
	}
	slices.Sort(docs)
	exact := byte(0)
	if key[0] == exactTask {
		exact = 1
	}
	for _, d := range docs[1:] {
		p := binary.LittleEndian.AppendUint64(nil, docs[0])
		emit(0, append(binary.LittleEndian.AppendUint64(p, d), exact))
	}
}

// clustersFn runs union-find over every duplicate pair (corpus.Clusters) and emits the
// documents to drop, keyed by shard: ordinal (4 bytes) + reason. It also emits the number
// of pairs for the report.
type clustersFn struct{}

func (clustersFn) ProcessElement(ctx context.Context, _ int, pairs func(*[]byte) bool, emitDrop func(int, []byte), emitCount func(int, int64)) {
	c := corpus.NewClusters()
	var p []byte
	n := int64(0)
	for pairs(&p) {
		c.Add(binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:]), p[16] == 1)
		n++
	}
	pairBytes.Inc(ctx, 17*n)
	c.Drops(func(k uint64, reason string) {
		v := append(binary.LittleEndian.AppendUint32(nil, uint32(k)), reason...)
		dropBytes.Inc(ctx, int64(len(v)+8))
		emitDrop(int(k>>32), v)
	})
	emitCount(0, n)
}

// writeFn writes one output shard: the shard's kept documents in input order, without
// its drops, through golem's atomic shard writer; it completes the shard's stats as
// corpus.Prepare does and emits them (JSON) under key 0 for the manifest.
type writeFn struct {
	Out     string
	Version int
}

func (f *writeFn) ProcessElement(ctx context.Context, shard int, docs, drops func(*[]byte) bool, stats func(*string) bool, emit func(int, string)) error {
	var st corpus.ShardStats
	var js string
	if !stats(&js) {
		return fmt.Errorf("shard %d: no stats from the scan stage", shard)
	}
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		return fmt.Errorf("shard %d: decoding stats: %w", shard, err)
	}
	dropped := map[uint32]string{}
	var b []byte
	for drops(&b) {
		dropped[binary.LittleEndian.Uint32(b)] = string(b[4:])
	}
	type doc struct {
		ord uint32
		raw []byte
	}
	var kept []doc // one shard's tokens in memory: the runner's iterable has no order
	for docs(&b) {
		ord, _ := binary.Uvarint(b)
		kept = append(kept, doc{uint32(ord), b})
	}
	slices.SortFunc(kept, func(a, b doc) int { return int(int64(a.ord) - int64(b.ord)) })
	path, publish, err := outputPath(f.Out, corpus.OutputName(shard))
	if err != nil {
		return err
	}
	sw, err := data.CreateShard(path, f.Version)
	if err != nil {
		return fmt.Errorf("shard %d: %w", shard, err)
	}
	for _, d := range kept {
		if why, dup := dropped[d.ord]; dup {
			st.Dropped[why]++
			st.Kept--
			continue
		}
		_, ids := decodeTokens(d.raw, f.Version)
		if err := sw.Write(ids); err != nil {
			sw.Abort()
			return err
		}
	}
	st.Tokens, st.Output, st.Version, st.CRC32C = sw.Tokens(), corpus.OutputName(shard), f.Version, fmt.Sprintf("%08x", sw.CRC32C())
	if err := sw.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := publish(ctx); err != nil {
		return err
	}
	out, err := json.Marshal(st)
	if err != nil {
		return err
	}
	emit(0, string(out))
	return nil
}

// finishFn writes manifest.json (the one pretrain reads), tokenizer.json and the report
// once every shard is written.
type finishFn struct {
	Out       string
	Tokenizer string // tokenizer.json
	Start     int64  // pipeline construction, Unix nanoseconds
}

func (f *finishFn) ProcessElement(ctx context.Context, _ int, stats func(*string) bool, counts func(*int64) bool) error {
	tok, err := tokenizer.Parse([]byte(f.Tokenizer))
	if err != nil {
		return err
	}
	var all []corpus.ShardStats
	var js string
	for stats(&js) {
		var st corpus.ShardStats
		if err := json.Unmarshal([]byte(js), &st); err != nil {
			return err
		}
		all = append(all, st)
	}
	slices.SortFunc(all, func(a, b corpus.ShardStats) int { return a.Index - b.Index })
	rep := &corpus.Report{Stage: "beam"}
	rep.Add(all...)
	var n int64
	for counts(&n) {
		rep.DupPairs += n
	}
	m := &data.Manifest{Format: "llm.c", VocabSize: tok.VocabSize(), EOT: tok.EOT()}
	for _, st := range all {
		width := int64(2)
		if st.Version == data.ShardVersion32 {
			width = 4
		}
		m.Shards = append(m.Shards, data.ManifestShard{File: st.Output, Version: st.Version, Tokens: st.Tokens, Documents: st.Kept,
			Bytes: data.ShardHeaderBytes + width*st.Tokens, CRC32C: st.CRC32C, Source: st.Source})
	}
	path, publish, err := outputPath(f.Out, tokenizerFile)
	if err != nil {
		return err
	}
	if err := tokenizer.Save(tok, path); err != nil {
		return err
	}
	if err := publish(ctx); err != nil {
		return err
	}
	if path, publish, err = outputPath(f.Out, data.ManifestFile); err != nil {
		return err
	}
	if err := m.Write(path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := publish(ctx); err != nil {
		return err
	}
	rep.Manifest = filepath.Join(f.Out, data.ManifestFile)
	if isRemote(f.Out) {
		rep.Manifest = strings.TrimSuffix(f.Out, "/") + "/" + data.ManifestFile
	}
	rep.Elapsed = time.Since(time.Unix(0, f.Start))
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if path, publish, err = outputPath(f.Out, ReportFile); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return publish(ctx)
}
