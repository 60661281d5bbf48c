// Package pipeline is golem's prepare (raw text -> llm.c token shards) as an Apache Beam
// pipeline, with deduplication across the whole corpus: it runs unchanged on the
// in-process Prism runner and on Flink, Spark or Dataflow.
//
// The stages (see Build):
//
//	inputs -> scan (read, clean, filter, dedup keys, tokenize: golem's corpus.Scanner)
//	       -> keys   -> GroupByKey(key) -> duplicate pairs -> union-find (one worker) -> drops
//	       -> tokens, stats, drops -> CoGroupByKey(shard) -> write shard_NNNNNN.bin
//	       -> manifest.json + report
//
// On the same inputs and options it writes the same shards, byte for byte, and the same
// manifest as the single-machine corpus.Prepare.
package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/tokenizer"
)

// Config is one run: the options of cmd/prepare that decide the output.
type Config struct {
	// Inputs are files, folders or globs (local, as corpus.Prepare takes them) or Beam
	// filesystem globs such as gs://bucket/crawl/*.warc.wet.gz or s3://bucket/dir/.
	Inputs []string
	// Out is the output folder (local or a Beam filesystem URL): shard_NNNNNN.bin,
	// manifest.json, tokenizer.json and report.json.
	Out     string
	Read    corpus.ReadOptions
	Filters corpus.FilterConfig
	Dedup   corpus.DedupConfig
	// Tokenizer encodes kept documents (default: byte-level).
	Tokenizer tokenizer.Tokenizer
	// Workers is the goroutines each scan uses on its worker (default: all cores).
	Workers int
	// MaxBadFraction fails a shard whose problems exceed this share of its records.
	MaxBadFraction float64
}

// ReportFile is the run's report (corpus.Report as JSON) in Out.
const ReportFile = "report.json"

// workerConfig is what every worker needs, serialised into the DoFns (Beam ships DoFn
// fields as JSON).
type workerConfig struct {
	Format         string
	JSONL          corpus.JSONLOptions
	Filters        corpus.FilterConfig
	Dedup          corpus.DedupConfig
	Tokenizer      json.RawMessage // tokenizer.json
	Workers        int
	MaxBadFraction float64
}

func (c *Config) encode() (string, error) {
	if c.Tokenizer == nil {
		c.Tokenizer = tokenizer.NewByte()
	}
	tok, err := c.Tokenizer.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("encoding the tokenizer for the workers: %w", err)
	}
	b, err := json.Marshal(workerConfig{c.Read.Format, c.Read.JSONL, c.Filters, c.Dedup, tok, c.Workers, c.MaxBadFraction})
	return string(b), err
}

// decodeConfig rebuilds the corpus.PrepareConfig a worker scans with.
func decodeConfig(s string) (corpus.PrepareConfig, error) {
	var w workerConfig
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return corpus.PrepareConfig{}, fmt.Errorf("decoding the pipeline's config: %w", err)
	}
	tok, err := tokenizer.Parse(w.Tokenizer)
	if err != nil {
		return corpus.PrepareConfig{}, fmt.Errorf("decoding the pipeline's tokenizer: %w", err)
	}
	return corpus.PrepareConfig{
		Read:    corpus.ReadOptions{Format: w.Format, JSONL: w.JSONL},
		Filters: w.Filters, Dedup: w.Dedup, Tokenizer: tok, Workers: w.Workers, MaxBadFraction: w.MaxBadFraction,
		OptionNames: corpus.PrepareFlags, // errors name cmd/prepare's flags, which the Beam command shares
	}, nil
}
