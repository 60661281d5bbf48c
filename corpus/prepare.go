// Package corpus turns raw text into token shards: readers for Common Crawl WET/WARC, JSONL
// (FineWeb, Dolma, C4 style) and plain text, cleaning and quality filters (Gopher, C4,
// FineWeb), repetition rules, exact and MinHash deduplication (in memory or on disk), and
// Prepare, which runs them over many shards and jobs and writes llm.c shards with a manifest
// (package data). TextSource feeds the same reading and cleaning to a training run.
//
// Prepare's files: config.go (PrepareConfig and its checks), prepare.go (the stages in
// order), stages.go (each stage for one shard), pool.go (the worker pool documents flow
// through), tokencache.go (stage 1's tokens, kept for stage 3), dropped.go (samples of
// dropped documents), report.go (what a run did).
package corpus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/internal/atomicfile"
)

// Stages of Prepare. StageAll runs them in order in one process; to spread a corpus over
// n machines with deduplication, run each stage on every job (same NumShards) and wait
// for all jobs to finish a stage before starting the next.
const (
	StageAll        = "all"
	StageSignatures = "signatures" // filter, hash: work/sig/*
	StageDedup      = "dedup"      // merge hashes: work/dups/*.pairs
	StageTokenize   = "tokenize"   // filter, drop duplicates, tokenize: out/*.bin
)

// OutputName is the token shard written for input shard i.
func OutputName(i int) string { return fmt.Sprintf("shard_%06d.bin", i) }

// Prepare runs the pipeline for this job's share of the inputs and returns its report,
// also saved as WorkDir/reports/<stage>-<i>-of-<n>.json.
// Outputs are written atomically and skipped when already complete, so a killed job can
// simply be rerun. Cancelling ctx stops reading at the next document of every shard in
// flight; Prepare then returns what it did so far and an error wrapping ctx.Err(), and a
// rerun continues where it stopped.
func Prepare(ctx context.Context, cfg PrepareConfig) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
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
	p := &pipeline{ctx: ctx, cfg: cfg, files: files, filter: NewFilter(cfg.Filters)}
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
			return rep, stopped(ctx, StageSignatures, err)
		}
	}
	if cfg.Dedup.Enabled() && (cfg.Stage == StageAll || cfg.Stage == StageDedup) {
		if err := p.dedup(rep); err != nil {
			return rep, stopped(ctx, StageDedup, err)
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
			return rep, stopped(ctx, StageTokenize, err)
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

// stopped is a stage's error, or when ctx was cancelled, that the stage stopped.
func stopped(ctx context.Context, stage string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("prepare: stopped in the %s stage: %w", stage, ctx.Err())
	}
	return err
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
