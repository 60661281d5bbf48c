// Command prepare turns raw text shards (WET/WARC, JSONL, plain text; plain, .gz or .zst)
// into llm.c token shards: read -> clean and filter -> deduplicate -> tokenize -> write,
// in parallel, idempotently. See corpus.Prepare.
//
//	prepare --out data/cc --tokenizer tok.json 'raw/*.warc.wet.gz'
//	prepare --shard-index 3 --num-shards 64 --stage tokenize --out ... raw/   # job 3 of 64
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/internal/cli"
)

const usage = "usage: prepare [flags] INPUT... (files, folders or globs)"

func main() { cli.Main("prepare", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output folder for token shards and manifest.json")
	work := fs.String("work-dir", "", "dedup state and per-shard reports (default OUT/.work)")
	format := fs.String("format", "auto", "input format: auto, warc, jsonl, text or lines")
	textField := fs.String("text-field", "text", "JSONL field holding the text (dotted path allowed)")
	tokPath := fs.String("tokenizer", "", "tokenizer.json, GPT-2 folder, .tiktoken, .model or llama2.c .bin (default: byte-level)")
	filters := fs.String("filters", "gopher", "filter preset: gopher, fineweb, c4, minimal or none")
	filterFile := fs.String("filter-config", "", "YAML of filter settings over the preset (corpus.FilterConfig keys)")
	langs := fs.String("languages", "", "keep only these languages (ISO 639, comma-separated), e.g. eng,fra")
	minWords := fs.Int("min-words", -1, "override the preset's minimum words per document")
	dedup := fs.String("dedup", "exact,minhash", "deduplication: exact, minhash, both (comma-separated) or none")
	stage := fs.String("stage", "all", "all, or one of signatures, dedup, tokenize for multi-job runs")
	index := fs.Int("shard-index", 0, "this job's index in [0, num-shards)")
	num := fs.Int("num-shards", 1, "number of independent jobs sharing the inputs")
	workers := fs.Int("workers", 0, "worker goroutines (default: all cores)")
	maxBad := fs.Float64("max-bad-fraction", 0.1, "fail when a shard's bad records exceed this share")
	samples := fs.Int("dropped-samples", 0, "keep N dropped documents per reason and shard in WORK-DIR/dropped/ for inspection")
	verbose := fs.Bool("v", false, "log every problem and shard instead of a progress bar")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *out == "" {
		fs.Usage()
		return cli.ExitCode(2)
	}
	cfg := corpus.PrepareConfig{Inputs: fs.Args(), Out: *out, WorkDir: *work, Stage: *stage, ShardIndex: *index, NumShards: *num, Workers: *workers, MaxBadFraction: *maxBad, DroppedSamples: *samples, OptionNames: corpus.PrepareFlags}
	cfg.Read = corpus.ReadOptions{Format: *format, JSONL: corpus.JSONLOptions{TextField: *textField}}
	var err error
	choices := corpus.Choices{Filters: *filters, FilterFile: *filterFile, Languages: *langs, MinWords: *minWords, Dedup: *dedup, Tokenizer: *tokPath}
	if cfg.Filters, cfg.Dedup, cfg.Tokenizer, err = choices.Resolve(); err != nil {
		return err
	}
	if *verbose {
		cfg.Log = stderr
	} else {
		bar := newBar(stderr)
		cfg.Progress = func(done, total int64) {
			if bar.GetMax64() != total {
				bar.ChangeMax64(total)
			}
			bar.Set64(done)
		}
		defer bar.Finish()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM) // Ctrl-C: stop, a rerun continues
	defer stop()
	rep, err := corpus.Prepare(ctx, cfg)
	if rep != nil {
		fmt.Fprint(stderr, "\n", rep)
	}
	return err
}
