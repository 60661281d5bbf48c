// Command prepare is golem's prepare on Apache Beam: raw text (WET/WARC, JSONL, text;
// local paths or gs://, s3:// globs) -> clean, filter -> exact and MinHash dedup across
// the whole corpus -> llm.c token shards + manifest.json, the same files the
// single-machine `prepare` writes. It takes prepare's flags plus Beam's; see
// scale/beam/README.md.
//
//	cd scale/beam && go run ./cmd/prepare --runner prism --out /tmp/cc ../../testdata/commoncrawl/
//	... --runner flink --endpoint localhost:8099 --environment_type DOCKER --out gs://b/out gs://b/crawl/
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/scale/beam/pipeline"
)

var (
	out        = flag.String("out", "", "output folder (local or gs://, s3://) for token shards, manifest.json, report.json")
	format     = flag.String("format", "auto", "input format: auto, warc, jsonl, text or lines")
	textField  = flag.String("text-field", "text", "JSONL field holding the text (dotted path allowed)")
	tokPath    = flag.String("tokenizer", "", "tokenizer.json, GPT-2 folder, .tiktoken, .model or llama2.c .bin (default: byte-level)")
	filters    = flag.String("filters", "gopher", "filter preset: gopher, fineweb, c4, minimal or none")
	filterFile = flag.String("filter-config", "", "YAML of filter settings over the preset (corpus.FilterConfig keys)")
	langs      = flag.String("languages", "", "keep only these languages (ISO 639, comma-separated), e.g. eng,fra")
	minWords   = flag.Int("min-words", -1, "override the preset's minimum words per document")
	dedup      = flag.String("dedup", "exact,minhash", "deduplication: exact, minhash, both (comma-separated) or none")
	workers    = flag.Int("workers", 0, "goroutines per input file on a worker (default: all its cores)")
	maxBad     = flag.Float64("max-bad-fraction", 0.1, "fail when a shard's bad records exceed this share")
	verbose    = flag.Bool("v", false, "show the runner's log (Prism logs every stage and the full job error)")
)

func main() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: prepare --runner prism|flink|spark|dataflow [beam flags] [flags] INPUT... (files, folders, globs)\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	beam.Init() // on a worker, this runs the worker and never returns
	if !*verbose {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})))
	}
	if flag.NArg() == 0 || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	cfg := pipeline.Config{Inputs: flag.Args(), Out: *out, Workers: *workers, MaxBadFraction: *maxBad}
	cfg.Read = corpus.ReadOptions{Format: *format, JSONL: corpus.JSONLOptions{TextField: *textField}}
	var err error
	choices := corpus.Choices{Filters: *filters, FilterFile: *filterFile, Languages: *langs, MinWords: *minWords, Dedup: *dedup, Tokenizer: *tokPath}
	if cfg.Filters, cfg.Dedup, cfg.Tokenizer, err = choices.Resolve(); err != nil {
		fail(err)
	}
	rep, m, err := pipeline.Run(context.Background(), cfg, beamx.RunWithMetrics)
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "%s  %s\n", rep, m)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "prepare:", err)
	os.Exit(1)
}
