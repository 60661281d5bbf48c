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
	"io"
	"log/slog"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/internal/cli"
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

const usage = "usage: prepare --runner prism|flink|spark|dataflow [beam flags] [flags] INPUT... (files, folders, globs)"

func main() { cli.Main("prepare", run) }

// run parses args into flag.CommandLine, not a FlagSet of its own: Beam registers its flags
// (--runner, --endpoint, ...) there and reads them back with flag.Visit, and a worker started
// by a runner parses its flags there too.
func run(args []string, stdout, stderr io.Writer) error {
	flag.CommandLine.Init("prepare", flag.ContinueOnError)
	flag.CommandLine.SetOutput(stderr)
	flag.CommandLine.Usage = func() {
		fmt.Fprintln(stderr, usage)
		flag.PrintDefaults()
	}
	if err := cli.Parse(flag.CommandLine, args); err != nil {
		return err
	}
	beam.Init() // on a worker, this runs the worker and never returns
	if !*verbose {
		slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})))
	}
	if flag.NArg() == 0 || *out == "" {
		flag.CommandLine.Usage()
		return cli.ExitCode(2)
	}
	cfg := pipeline.Config{Inputs: flag.Args(), Out: *out, Workers: *workers, MaxBadFraction: *maxBad}
	cfg.Read = corpus.ReadOptions{Format: *format, JSONL: corpus.JSONLOptions{TextField: *textField}}
	var err error
	choices := corpus.Choices{Filters: *filters, FilterFile: *filterFile, Languages: *langs, MinWords: *minWords, Dedup: *dedup, Tokenizer: *tokPath}
	if cfg.Filters, cfg.Dedup, cfg.Tokenizer, err = choices.Resolve(); err != nil {
		return err
	}
	rep, m, err := pipeline.Run(context.Background(), cfg, beamx.RunWithMetrics)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s  %s\n", rep, m)
	return nil
}
