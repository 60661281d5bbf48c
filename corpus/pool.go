package corpus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/golem-ml/golem/data"
)

// pipeline is one run of Prepare's machinery (also behind Scanner and TextSource): the
// options, the input shards, the shared worker pool, progress and dedup state.
type pipeline struct {
	ctx    context.Context // cancelling it stops reading, so every stage ends promptly
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
// shard out over Workers goroutines, so one big shard also uses every core. Once p.ctx is
// cancelled no shard starts, and it returns the stats of those started and ctx's error.
func (p *pipeline) forShards(shards []int, fn func(i int) (ShardStats, error)) ([]ShardStats, error) {
	stats := make([]ShardStats, len(shards))
	errs := make([]error, len(shards))
	// Enough batches in flight to keep every worker busy, spread over the shards read at once.
	p.queueCap = max(4, 2*p.cfg.Workers/max(1, min(p.cfg.Workers, len(shards))))
	sem := make(chan struct{}, p.cfg.Workers)
	var wg sync.WaitGroup
	started := 0
	for k, i := range shards {
		select {
		case sem <- struct{}{}:
		case <-p.ctx.Done():
		}
		if p.ctx.Err() != nil {
			break // the shards started stop at their next document
		}
		started++
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			stats[k], errs[k] = fn(i)
		}()
	}
	wg.Wait()
	if err := p.ctx.Err(); err != nil {
		return stats[:started], err
	}
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
	stop := p.ctx.Done()
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
			select {
			case <-stop:
				readErr = fmt.Errorf("reading %s: %w", path, p.ctx.Err())
				return
			default:
			}
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
