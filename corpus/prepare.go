package corpus

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/atomicfile"
	"github.com/golem-ml/golem/tokenizer"
)

// Stages of Prepare. StageAll runs them in order in one process; to spread a corpus over
// n machines with deduplication, run each stage on every job (same --num-shards) and wait
// for all jobs to finish a stage before starting the next.
const (
	StageAll        = "all"
	StageSignatures = "signatures" // filter, hash: work/sig/*
	StageDedup      = "dedup"      // merge hashes: work/dups/*.pairs
	StageTokenize   = "tokenize"   // filter, drop duplicates, tokenize: out/*.bin
)

// PrepareConfig configures the raw-shards -> token-shards pipeline.
type PrepareConfig struct {
	// Inputs are raw shards: files, globs or folders (see data.Expand). Every job must list the
	// same inputs: shard i of the sorted list is job (i mod NumShards)'s.
	Inputs []string
	// Out is the folder for token shards, manifest.json and tokenizer.json.
	Out string
	// WorkDir holds dedup state and per-shard reports; default Out/.work.
	WorkDir string
	Read    ReadOptions
	Filters FilterConfig
	Dedup   DedupConfig
	// Tokenizer encodes kept documents; each is written after an end-of-text token, as
	// llm.c's FineWeb script does.
	Tokenizer tokenizer.Tokenizer
	// ShardIndex and NumShards select this job's share of inputs and dedup tasks.
	ShardIndex, NumShards int
	// Workers is the number of goroutines filtering, hashing and tokenizing; default GOMAXPROCS.
	Workers int
	// Stage is one of StageAll (default), StageSignatures, StageDedup, StageTokenize.
	Stage string
	// MaxBadFraction fails the run when a shard's problems (malformed records, invalid
	// UTF-8, empty documents) exceed this share of its records.
	MaxBadFraction float64
	// DroppedSamples, when positive, keeps that many dropped documents per reason and
	// shard in WorkDir/dropped/<shard>.jsonl ({"reason","where","url","text"}, text cut
	// at 2000 bytes), to check what the filters remove.
	DroppedSamples int
	// Progress, when set, is called as input bytes are consumed (done and total for the run).
	Progress func(done, total int64)
	// Log receives one line per problem and per finished shard; may be nil.
	Log io.Writer
	// OptionNames is how errors name these options: field name (MaxBadFraction,
	// Read.JSONL.TextField) -> the name its user knows, such as a command's flag (see Flags).
	// An option not in it is named by its field name.
	OptionNames map[string]string
}

// name is how errors call an option: its OptionNames entry, else its field name.
func (c *PrepareConfig) name(field string) string {
	if n, ok := c.OptionNames[field]; ok {
		return n
	}
	return field
}

// ShardStats is what happened to one input shard. Its JSON is saved next to the work
// state so a rerun that skips a finished shard still reports it.
type ShardStats struct {
	Source    string           `json:"source"`
	Index     int              `json:"index"`
	Bytes     int64            `json:"bytes"`      // input file size
	TextBytes int64            `json:"text_bytes"` // UTF-8 bytes of documents read
	Records   int64            `json:"records"`    // records or lines, bad ones included
	Documents int64            `json:"documents"`
	Kept      int64            `json:"kept"`
	Dropped   map[string]int64 `json:"dropped"`
	Edited    map[string]int64 `json:"edited,omitempty"` // kept documents changed by cleaning, per edit`
	Problems  map[string]int64 `json:"problems"`
	Samples   []string         `json:"problem_samples,omitempty"`
	Tokens    int64            `json:"tokens"`
	Output    string           `json:"output,omitempty"`
	Version   int              `json:"version,omitempty"`
	CRC32C    string           `json:"crc32c,omitempty"`
	Skipped   bool             `json:"-"` // already complete before this run
}

func (c *PrepareConfig) defaults() error {
	if c.Stage == "" {
		c.Stage = StageAll
	}
	if c.NumShards <= 0 {
		c.NumShards = 1
	}
	if c.ShardIndex < 0 || c.ShardIndex >= c.NumShards {
		return fmt.Errorf("%s %d must be in [0, %s %d)", c.name("ShardIndex"), c.ShardIndex, c.name("NumShards"), c.NumShards)
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.WorkDir == "" {
		c.WorkDir = filepath.Join(c.Out, ".work")
	}
	if c.Out == "" {
		return fmt.Errorf("%s: no output folder given", c.name("Out"))
	}
	switch c.Stage {
	case StageAll, StageSignatures, StageDedup, StageTokenize:
	default:
		return fmt.Errorf("%s %q; use all, signatures, dedup or tokenize", c.name("Stage"), c.Stage)
	}
	if c.Stage == StageAll && c.NumShards > 1 && c.Dedup.Enabled() {
		return fmt.Errorf("%s all with %s %d: deduplication across jobs needs every job's signatures; run %s signatures, then dedup, then tokenize on all jobs (or %s none)", c.name("Stage"), c.name("NumShards"), c.NumShards, c.name("Stage"), c.name("Dedup"))
	}
	if c.Tokenizer == nil {
		c.Tokenizer = tokenizer.NewByte()
	}
	if c.Tokenizer.EOT() < 0 {
		return fmt.Errorf("%s has no end-of-text token to separate documents", c.name("Tokenizer"))
	}
	if c.MaxBadFraction < 0 || c.MaxBadFraction > 1 {
		return fmt.Errorf("%s %g must be in [0, 1]", c.name("MaxBadFraction"), c.MaxBadFraction)
	}
	return c.Filters.Validate(c.name("Filters"))
}

// OutputName is the token shard written for input shard i.
func OutputName(i int) string { return fmt.Sprintf("shard_%06d.bin", i) }

// Prepare runs the pipeline for this job's share of the inputs and returns its report,
// also saved as WorkDir/reports/<stage>-<i>-of-<n>.json.
// Outputs are written atomically and skipped when already complete, so a killed job can
// simply be rerun.
func Prepare(cfg PrepareConfig) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	files, err := InputFiles(cfg.Inputs)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.Out, cfg.WorkDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := checkSettings(&cfg); err != nil {
		return nil, err
	}
	p := &pipeline{cfg: cfg, files: files, filter: NewFilter(cfg.Filters)}
	defer p.stopWorkers()
	var mine []int
	for i := range files {
		if i%cfg.NumShards == cfg.ShardIndex {
			mine = append(mine, i)
			if st, err := os.Stat(files[i]); err == nil {
				p.total += st.Size()
			}
		}
	}
	passes := int64(0)
	if cfg.Stage == StageAll || cfg.Stage == StageSignatures {
		if cfg.Dedup.Enabled() {
			passes++
		}
	}
	if cfg.Stage == StageTokenize || cfg.Stage == StageAll && !cfg.Dedup.Enabled() {
		passes++ // with dedup in the same run, stage 3 copies stage 1's token cache
		p.tokenizeReads = true
	}
	p.total *= passes
	rep := &Report{Stage: cfg.Stage, Dropped: map[string]int64{}, Problems: map[string]int64{}}
	defer func() {
		rep.Elapsed = time.Since(start)
		if b, err := json.MarshalIndent(rep, "", "  "); err == nil {
			name := fmt.Sprintf("%s-%d-of-%d.json", cfg.Stage, cfg.ShardIndex, cfg.NumShards)
			os.MkdirAll(filepath.Join(cfg.WorkDir, "reports"), 0o755)
			atomicfile.WriteFile(filepath.Join(cfg.WorkDir, "reports", name), b)
		}
	}()
	if cfg.Dedup.Enabled() && (cfg.Stage == StageAll || cfg.Stage == StageSignatures) {
		p.mh = NewMinHasher(cfg.Dedup)
		stats, err := p.forShards(mine, p.signatures)
		rep.addAll(stats, cfg.Stage == StageSignatures || err != nil)
		if err != nil {
			return rep, err
		}
	}
	if cfg.Dedup.Enabled() && (cfg.Stage == StageAll || cfg.Stage == StageDedup) {
		if err := p.dedup(rep); err != nil {
			return rep, err
		}
	}
	if cfg.Stage == StageAll || cfg.Stage == StageTokenize {
		if cfg.Dedup.Enabled() {
			if p.drops, err = loadDrops(filepath.Join(cfg.WorkDir, "dups"), dedupTasks(cfg.Dedup)); err != nil {
				return rep, err
			}
		}
		if err := checkTokenizer(&cfg); err != nil {
			return rep, err
		}
		stats, err := p.forShards(mine, p.tokenize)
		rep.addAll(stats, true)
		if err != nil {
			return rep, err
		}
		if rep.Tokens == 0 && rep.Skipped == 0 && len(mine) > 0 {
			return rep, fmt.Errorf("%s %v: no tokens written (%s, %s read, %d kept): the input is empty or every document was filtered out; check %s and %s, or try %s none", cfg.name("Inputs"), cfg.Inputs,
				data.Plural(rep.Records, "record"), data.Plural(rep.Documents, "document"), rep.Kept, cfg.name("Read.Format"), cfg.name("Read.JSONL.TextField"), cfg.name("Filters"))
		}
		if rep.Manifest, err = p.writeManifest(); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// InputFiles lists the input shards of a run in the order that numbers them (and decides
// which duplicate is kept): data.Expand's sorted list without dot files and prepare's own
// .work folder.
func InputFiles(specs []string) ([]string, error) {
	files, err := data.Expand(specs)
	if err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	files = slices.DeleteFunc(files, func(f string) bool {
		return strings.HasPrefix(filepath.Base(f), ".") || strings.Contains(f, string(filepath.Separator)+".work"+string(filepath.Separator))
	})
	if len(files) == 0 {
		return nil, fmt.Errorf("inputs: no files in %v", specs)
	}
	return files, nil
}

// checkSettings records the settings that decide which documents are kept (format,
// fields, filters, dedup) in WorkDir/settings.json, or checks that they match the ones
// recorded by an earlier run or another job: outputs already written are skipped, so
// changed settings would silently mix two corpora.
func checkSettings(cfg *PrepareConfig) error {
	b, err := json.MarshalIndent(struct {
		Format  string
		JSONL   JSONLOptions
		Filters FilterConfig
		Dedup   DedupConfig
	}{cfg.Read.Format, cfg.Read.JSONL.withDefaults(), cfg.Filters, cfg.Dedup}, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.WorkDir, "settings.json")
	if old, err := os.ReadFile(path); err == nil {
		if !bytes.Equal(old, b) {
			return fmt.Errorf("%s: this output was started with other format/filter/dedup settings (see the file); use a new %s, or the same settings", path, cfg.name("Out"))
		}
		return nil
	}
	return atomicfile.WriteFile(path, b)
}

// checkTokenizer saves the tokenizer as out/tokenizer.json, or checks that the one there
// (from an earlier run or another job) is the same, so one folder never mixes tokenizers.
func checkTokenizer(cfg *PrepareConfig) error {
	out := cfg.Out
	b, err := cfg.Tokenizer.MarshalJSON()
	if err != nil {
		return err
	}
	path := filepath.Join(out, "tokenizer.json")
	if old, err := os.ReadFile(path); err == nil {
		if !bytes.Equal(old, b) {
			return fmt.Errorf("%s: the shards in %s were made with another tokenizer; use a new %s or the same %s", path, out, cfg.name("Out"), cfg.name("Tokenizer"))
		}
		return nil
	}
	return atomicfile.WriteFile(path, b)
}

type pipeline struct {
	cfg    PrepareConfig
	files  []string
	filter *Filter
	mh     *MinHasher
	drops  dropSet
	total  int64
	done   atomic.Int64
	// tokenizeReads: stage 3 reads the inputs (its progress counts), rather than copying
	// stage 1's token cache in the same run.
	tokenizeReads bool
	poolOnce      sync.Once
	jobs          chan *docBatch
	queueCap      int // batches in flight per shard
	logMu         sync.Mutex
}

func (p *pipeline) logf(format string, args ...any) {
	if p.cfg.Log == nil {
		return
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	fmt.Fprintf(p.cfg.Log, format+"\n", args...)
}

func (p *pipeline) progress(n int64) {
	d := p.done.Add(n)
	if p.cfg.Progress != nil {
		p.cfg.Progress(d, p.total)
	}
}

// forShards runs fn over shards, Workers at a time; fn itself fans the documents of its
// shard out over Workers goroutines, so one big shard also uses every core.
func (p *pipeline) forShards(shards []int, fn func(i int) (ShardStats, error)) ([]ShardStats, error) {
	stats := make([]ShardStats, len(shards))
	errs := make([]error, len(shards))
	// Enough batches in flight to keep every worker busy, spread over the shards read at once.
	p.queueCap = max(4, 2*p.cfg.Workers/max(1, min(p.cfg.Workers, len(shards))))
	sem := make(chan struct{}, p.cfg.Workers)
	var wg sync.WaitGroup
	for k, i := range shards {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			stats[k], errs[k] = fn(i)
		}()
	}
	wg.Wait()
	return stats, errors.Join(errs...)
}

// docResult is what a worker makes of one document.
type docResult struct {
	ord    uint32 // ordinal among the shard's documents
	reason string // drop reason, "" when kept
	edits  Edits
	sample *DroppedSample // the dropped text, when sampling
	sig    docSig
	tokens []int
}

// docBatch is up to 256 documents (or 1 MiB of text) of one shard on their way through
// the shared worker pool.
type docBatch struct {
	docs  []Document
	res   []docResult
	work  func(d *Document, r *docResult)
	probs *Problems
	done  chan struct{}
}

// startWorkers starts the pool of Workers goroutines that every shard's batches share,
// so concurrent shards never run more than Workers goroutines' worth of work.
func (p *pipeline) startWorkers() {
	p.poolOnce.Do(func() {
		p.jobs = make(chan *docBatch, p.cfg.Workers)
		for range p.cfg.Workers {
			go func() {
				for b := range p.jobs {
					p.runBatch(b)
				}
			}()
		}
	})
}

// stopWorkers ends the pool once no shard is streaming.
func (p *pipeline) stopWorkers() {
	if p.jobs != nil {
		close(p.jobs)
	}
}

func (p *pipeline) runBatch(b *docBatch) {
	for k := range b.docs {
		d, r := &b.docs[k], &b.res[k]
		b.work(d, r)
		if r.reason == "invalid_utf8" || r.reason == "empty" {
			msg := "empty document; dropped"
			if r.reason == "invalid_utf8" {
				msg = "invalid UTF-8; dropped (filters.invalid_utf8: replace keeps it)"
			}
			b.probs.Add(Problem{File: d.Shard, Record: d.Record, Kind: r.reason, Msg: msg})
		}
		if p.cfg.DroppedSamples > 0 && r.reason != "" && p.droppedFiltered(r.reason) {
			r.sample = &DroppedSample{Reason: r.reason, Where: d.Where(), URL: d.URL, Text: clip(d.Text, 2000)}
		}
		d.Text = ""
	}
	close(b.done)
}

// streamShard reads a shard, runs work on every document in the worker pool and hands
// the results to consume in document order. At most queueCap batches of the shard are
// in flight.
func (p *pipeline) streamShard(i int, path string, st *ShardStats, work func(d *Document, r *docResult), consume func(r *docResult) error) error {
	p.startWorkers()
	probs := &Problems{MaxSamples: 20, Log: func(pr Problem) { p.logf("%s", pr) }}
	opts := p.cfg.Read
	opts.Problems = probs
	rd, err := OpenDocs(path, opts)
	if err != nil {
		return err
	}
	defer rd.Close()
	queueCap := p.queueCap
	if queueCap <= 0 {
		queueCap = 2 * p.cfg.Workers
	}
	queue := make(chan *docBatch, queueCap)
	newBatch := func() *docBatch { return &docBatch{work: work, probs: probs, done: make(chan struct{})} }
	var readErr error
	go func() {
		defer close(queue)
		var ord uint32
		last := int64(0)
		b := newBatch()
		size := 0
		flush := func() {
			b.res = make([]docResult, len(b.docs))
			for k := range b.res {
				b.res[k].ord = ord - uint32(len(b.docs)) + uint32(k)
			}
			queue <- b
			p.jobs <- b
			b, size = newBatch(), 0
			off := rd.Offset()
			p.progress(off - last)
			last = off
		}
		for {
			d, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				readErr = err
				break
			}
			st.TextBytes += int64(len(d.Text))
			b.docs = append(b.docs, d)
			ord++
			if size += len(d.Text); size > 1<<20 || len(b.docs) >= 256 {
				flush()
			}
		}
		if len(b.docs) > 0 {
			flush()
		}
		st.Records = rd.Records()
		if fi, err := os.Stat(path); err == nil {
			p.progress(fi.Size() - last)
		}
	}()
	var consumeErr error
	var samples []DroppedSample
	for b := range queue {
		<-b.done
		for k := range b.res {
			r := &b.res[k]
			st.Documents++
			if r.reason != "" {
				st.Dropped[r.reason]++
				if r.sample != nil && int(st.Dropped[r.reason]) <= p.cfg.DroppedSamples {
					samples = append(samples, *r.sample)
				}
			} else {
				st.Kept++
				for b, name := range EditNames {
					if r.edits&(1<<b) != 0 {
						if st.Edited == nil {
							st.Edited = map[string]int64{}
						}
						st.Edited[name]++
					}
				}
			}
			if consumeErr == nil {
				consumeErr = consume(r)
			}
		}
	}
	if len(samples) > 0 {
		if err := writeSamples(filepath.Join(p.cfg.WorkDir, "dropped", shardKey(i)+".jsonl"), samples); err != nil {
			return err
		}
	}
	st.Problems = probs.ByKind()
	for _, s := range probs.Samples() {
		st.Samples = append(st.Samples, s.String())
	}
	if readErr != nil {
		return readErr
	}
	if consumeErr != nil {
		return consumeErr
	}
	if bad := probs.Total(); bad > 0 && float64(bad) > p.cfg.MaxBadFraction*float64(max(st.Records, 1)) {
		return fmt.Errorf("%s: %s in %s is over %s %g (first: %s); fix the input or raise the limit", path, data.Plural(bad, "problem"), data.Plural(st.Records, "record"), p.cfg.name("MaxBadFraction"), p.cfg.MaxBadFraction, st.Samples[0])
	}
	return nil
}

func newStats(i int, path string) ShardStats {
	st := ShardStats{Source: path, Index: i, Dropped: map[string]int64{}}
	if fi, err := os.Stat(path); err == nil {
		st.Bytes = fi.Size()
	}
	return st
}

func (p *pipeline) sigDir() string   { return filepath.Join(p.cfg.WorkDir, "sig") }
func (p *pipeline) statsDir() string { return filepath.Join(p.cfg.WorkDir, "stats") }
func shardKey(i int) string          { return fmt.Sprintf("%06d", i) }

// signatures is stage 1 for one shard. Besides the dedup keys it tokenizes the kept
// documents into a cache (work/tok/<shard>.bin, .idx, .json), so stage 3 only has to
// copy the survivors instead of reading, filtering and tokenizing the shard again.
func (p *pipeline) signatures(i int) (ShardStats, error) {
	st := newStats(i, p.files[i])
	done := filepath.Join(p.sigDir(), shardKey(i)+".done")
	if _, err := os.Stat(done); err == nil {
		st.Skipped = true
		p.progress(st.Bytes)
		return st, nil
	}
	set := newSigSet(p.cfg.Dedup, p.mh)
	tok := p.cfg.Tokenizer
	eot := tok.EOT()
	cache := p.cachePath(i)
	if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
		return st, err
	}
	sw, err := data.CreateShard(cache+".bin", data.ShardVersionFor(tok.VocabSize()))
	if err != nil {
		return st, err
	}
	var idx []byte
	err = p.streamShard(i, p.files[i], &st, p.scanWork(set), func(r *docResult) error {
		if r.reason != "" {
			return nil
		}
		set.add(r.ord, r.sig)
		idx = binary.LittleEndian.AppendUint32(idx, r.ord)
		idx = binary.LittleEndian.AppendUint64(idx, uint64(sw.Tokens()))
		return sw.Write(r.tokens)
	})
	if err != nil {
		sw.Abort()
		return st, err
	}
	if err := sw.Close(); err != nil {
		return st, err
	}
	c := tokenCache{Stats: st, VocabSize: tok.VocabSize(), EOT: eot}
	b, _ := json.Marshal(c)
	if err := atomicfile.WriteFile(cache+".idx", idx); err != nil {
		return st, err
	}
	if err := atomicfile.WriteFile(cache+".json", b); err != nil {
		return st, err
	}
	if err := set.write(p.sigDir(), shardKey(i)); err != nil {
		return st, err
	}
	p.logf("%s: signatures of %d/%d documents", p.files[i], st.Kept, st.Documents)
	return st, atomicfile.WriteFile(done, nil)
}

// scanWork is stage 1's work on one document: clean and filter; for a kept one, its dedup
// keys and its tokens after an end-of-text token.
func (p *pipeline) scanWork(set *sigSet) func(d *Document, r *docResult) {
	tok := p.cfg.Tokenizer
	eot := tok.EOT()
	return func(d *Document, r *docResult) {
		var text string
		if text, r.reason, r.edits = p.filter.ApplyEdits(d); r.reason == "" {
			r.sig = set.compute(text)
			r.tokens = append(append(make([]int, 0, len(text)/3+2), eot), tok.Encode(text)...)
		}
	}
}

// tokenCache describes a shard's cached tokens: stage 1's stats and the tokenizer used.
type tokenCache struct {
	Stats     ShardStats `json:"stats"`
	VocabSize int        `json:"vocab_size"`
	EOT       int        `json:"eot"`
}

func (p *pipeline) cachePath(i int) string { return filepath.Join(p.cfg.WorkDir, "tok", shardKey(i)) }

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
	if err != nil || len(idx)%12 != 0 || int64(len(idx)/12) != c.Stats.Kept {
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
	n := len(idx) / 12
	for k := range n {
		ord := binary.LittleEndian.Uint32(idx[k*12:])
		start := int64(binary.LittleEndian.Uint64(idx[k*12+4:]))
		end := src.Len()
		if k+1 < n {
			end = int64(binary.LittleEndian.Uint64(idx[(k+1)*12+4:]))
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

// dedup is stage 2: this job's share of the merge tasks, in parallel.
func (p *pipeline) dedup(rep *Report) error {
	keys := make([]string, len(p.files))
	for i := range keys {
		keys[i] = shardKey(i)
	}
	tasks := dedupTasks(p.cfg.Dedup)
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, p.cfg.Workers)
	var wg sync.WaitGroup
	for t, task := range tasks {
		if t%p.cfg.NumShards != p.cfg.ShardIndex && p.cfg.Stage == StageDedup {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			n, err := mergeTask(p.sigDir(), filepath.Join(p.cfg.WorkDir, "dups"), keys, task)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if n >= 0 {
				rep.DupPairs += n
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tokenize is stage 3 for one shard: filter, drop duplicates, encode, write.
func (p *pipeline) tokenize(i int) (ShardStats, error) {
	st := newStats(i, p.files[i])
	out := filepath.Join(p.cfg.Out, OutputName(i))
	statsFile := filepath.Join(p.statsDir(), shardKey(i)+".json")
	if prev, err := readShardStats(statsFile); err == nil {
		if prev.Source != p.files[i] {
			return st, fmt.Errorf("%s was made from %s but input %d is now %s; the input list changed: use a new %s (or the same %s)", out, prev.Source, i, p.files[i], p.cfg.name("Out"), p.cfg.name("Inputs"))
		}
		if _, _, err := data.ShardHeader(out); err == nil {
			prev.Skipped = true
			if p.tokenizeReads {
				p.progress(st.Bytes)
			}
			return *prev, nil
		}
	}
	if cst, ok, err := p.fromCache(i, out); ok {
		if err != nil {
			return cst, err
		}
		if err := p.finishShard(i, out, statsFile, cst); err != nil {
			return cst, err
		}
		for _, ext := range []string{".bin", ".idx", ".json"} {
			os.Remove(p.cachePath(i) + ext)
		}
		return cst, nil
	}
	tok := p.cfg.Tokenizer
	eot := tok.EOT()
	version := data.ShardVersionFor(tok.VocabSize())
	sw, err := data.CreateShard(out, version)
	if err != nil {
		return st, err
	}
	drops := p.drops[uint32(i)]
	err = p.streamShard(i, p.files[i], &st, func(d *Document, r *docResult) {
		var text string
		if text, r.reason, r.edits = p.filter.ApplyEdits(d); r.reason != "" {
			return
		}
		if why, ok := drops[r.ord]; ok {
			r.reason = why
			return
		}
		r.tokens = append(append(make([]int, 0, len(text)/3+2), eot), tok.Encode(text)...)
	}, func(r *docResult) error {
		if r.reason != "" {
			return nil
		}
		return sw.Write(r.tokens)
	})
	if err != nil {
		sw.Abort()
		return st, err
	}
	st.Tokens, st.Output, st.Version, st.CRC32C = sw.Tokens(), OutputName(i), version, fmt.Sprintf("%08x", sw.CRC32C())
	if err := sw.Close(); err != nil {
		return st, err
	}
	return st, p.finishShard(i, out, statsFile, st)
}

// finishShard records a finished output shard's stats (the mark that it is complete).
func (p *pipeline) finishShard(i int, out, statsFile string, st ShardStats) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.MkdirAll(p.statsDir(), 0o755); err != nil {
		return err
	}
	p.logf("%s: kept %d/%d documents, %d tokens -> %s", p.files[i], st.Kept, st.Documents, st.Tokens, out)
	return atomicfile.WriteFile(statsFile, b)
}

func readShardStats(path string) (*ShardStats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st ShardStats
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// writeManifest writes Out/manifest.json once every input shard's output is complete
// (whichever job finishes last writes it; all would write the same). It returns its path,
// or "" while other jobs' shards are missing.
func (p *pipeline) writeManifest() (string, error) {
	m := &data.Manifest{Format: "llm.c", VocabSize: p.cfg.Tokenizer.VocabSize(), EOT: p.cfg.Tokenizer.EOT()}
	for i := range p.files {
		st, err := readShardStats(filepath.Join(p.statsDir(), shardKey(i)+".json"))
		if err != nil {
			return "", nil
		}
		fi, err := os.Stat(filepath.Join(p.cfg.Out, st.Output))
		if err != nil {
			return "", nil
		}
		m.Shards = append(m.Shards, data.ManifestShard{File: st.Output, Version: st.Version, Tokens: st.Tokens, Documents: st.Kept, Bytes: fi.Size(), CRC32C: st.CRC32C, Source: st.Source})
	}
	path := filepath.Join(p.cfg.Out, data.ManifestFile)
	return path, m.Write(path)
}

// DroppedSample is a document a filter dropped, kept for inspection.
type DroppedSample struct {
	Reason string `json:"reason"`
	Where  string `json:"where"`
	URL    string `json:"url,omitempty"`
	Text   string `json:"text"`
}

// droppedFiltered reports whether reason comes from the filters (the stage that reads
// text); duplicates are dropped in stage 3, from cached tokens.
func (p *pipeline) droppedFiltered(reason string) bool {
	return reason != "exact_duplicate" && reason != "near_duplicate"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func writeSamples(path string, samples []DroppedSample) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(path, b.Bytes())
}
