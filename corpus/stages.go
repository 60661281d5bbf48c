package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/atomicfile"
)

func (p *pipeline) sigDir() string   { return filepath.Join(p.cfg.WorkDir, "sig") }
func (p *pipeline) statsDir() string { return filepath.Join(p.cfg.WorkDir, "stats") }
func shardKey(i int) string          { return fmt.Sprintf("%06d", i) }

// signatures is stage 1 for one shard: the dedup keys of the kept documents, and their
// tokens in the token cache (tokencache.go) for stage 3.
func (p *pipeline) signatures(i int) (ShardStats, error) {
	st := newStats(i, p.files[i])
	done := filepath.Join(p.sigDir(), shardKey(i)+".done")
	if _, err := os.Stat(done); err == nil {
		st.Skipped = true
		p.progress(st.Bytes)
		return st, nil
	}
	set := newSigSet(p.cfg.Dedup, p.mh)
	cache, err := createCache(p.cachePath(i), p.cfg.Tokenizer)
	if err != nil {
		return st, err
	}
	err = p.streamShard(i, p.files[i], &st, p.scanWork(set), func(r *docResult) error {
		if r.reason != "" {
			return nil
		}
		set.add(r.ord, r.sig)
		return cache.add(r.ord, r.tokens)
	})
	if err != nil {
		cache.abort()
		return st, err
	}
	if err := cache.commit(st, p.cfg.Tokenizer); err != nil {
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
		select {
		case sem <- struct{}{}:
		case <-p.ctx.Done():
		}
		if p.ctx.Err() != nil {
			break
		}
		wg.Add(1)
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
	if err := p.ctx.Err(); err != nil {
		return err
	}
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
