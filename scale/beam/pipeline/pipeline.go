package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
)

// tokenizerProbe checks that the tokenizer the workers rebuild from tokenizer.json encodes
// as the one given: spaces, digits, punctuation, accents, CJK, emoji.
const tokenizerProbe = "Hello,  world! 1234 naïve café\n\tdéjà vu — 東京 🙂 <|endoftext|>"

// shardRef is one input shard: its index in the sorted input list (which decides the
// output name and which duplicate is kept) and its path.
type shardRef struct {
	Index int
	Path  string
}

func init() {
	beam.RegisterType(reflect.TypeOf((*shardRef)(nil)).Elem())
	register.DoFn5x1[context.Context, shardRef, func(int, []byte), func([]byte, uint64), func(int, string), error](&scanFn{})
	register.DoFn3x0[[]byte, func(*uint64) bool, func(int, []byte)](&pairsFn{})
	register.DoFn5x0[context.Context, int, func(*[]byte) bool, func(int, []byte), func(int, int64)](&clustersFn{})
	register.DoFn6x1[context.Context, int, func(*[]byte) bool, func(*[]byte) bool, func(*string) bool, func(int, string), error](&writeFn{})
	register.DoFn4x1[context.Context, int, func(*string) bool, func(*int64) bool, error](&finishFn{})
	register.Emitter2[int, []byte]()
	register.Emitter2[[]byte, uint64]()
	register.Emitter2[int, string]()
	register.Emitter2[int, int64]()
	register.Iter1[uint64]()
	register.Iter1[[]byte]()
	register.Iter1[string]()
	register.Iter1[int64]()
}

// Build adds the prepare pipeline to p. The input list is fixed here, at construction, so
// that shard numbers are those of corpus.Prepare.
func Build(ctx context.Context, p *beam.Pipeline, cfg Config) error {
	if cfg.Out == "" {
		return fmt.Errorf("--out: no output folder given")
	}
	if cfg.Dedup.MinHash && cfg.Dedup.Bands > exactTask {
		return fmt.Errorf("dedup bands %d: at most %d", cfg.Dedup.Bands, exactTask)
	}
	enc, err := cfg.encode() // also picks the default tokenizer
	if err != nil {
		return err
	}
	// Check the options here, with prepare's checks, on what the workers will decode.
	pc, err := decodeConfig(enc)
	if err != nil {
		return err
	}
	sc, err := corpus.NewScanner(pc)
	if err != nil {
		return err
	}
	sc.Close()
	if !slices.Equal(pc.Tokenizer.Encode(tokenizerProbe), cfg.Tokenizer.Encode(tokenizerProbe)) || pc.Tokenizer.EOT() != cfg.Tokenizer.EOT() {
		return fmt.Errorf("--tokenizer: the workers get it as tokenizer.json, and that copy encodes differently; convert it to tokenizer.json (tokenizer convert) and check it")
	}
	files, err := listInputs(ctx, cfg.Inputs)
	if err != nil {
		return err
	}
	refs := make([]shardRef, len(files))
	for i, f := range files {
		refs[i] = shardRef{Index: i, Path: f}
	}
	version := data.ShardVersionFor(cfg.Tokenizer.VocabSize())
	s := p.Root()

	// Stage 1: one input shard per element; Reshuffle spreads them over the workers.
	shards := beam.Reshuffle(s, beam.CreateList(s, refs))
	docs, keys, stats := beam.ParDo3(s.Scope("scan"), &scanFn{Config: enc, Version: version}, shards)

	// Stage 2: every document sharing a dedup key meets in one group; the pairs (first,
	// later) of all groups meet on one worker, whose union-find decides the drops.
	pairs := beam.ParDo(s.Scope("pairs"), &pairsFn{}, beam.GroupByKey(s, keys))
	drops, counts := beam.ParDo2(s.Scope("clusters"), &clustersFn{}, beam.GroupByKey(s, pairs))

	// Stage 3: each shard's kept tokens, minus its drops, written in document order.
	joined := beam.CoGroupByKey(s, docs, drops, stats)
	written := beam.ParDo(s.Scope("write"), &writeFn{Out: cfg.Out, Version: version}, joined)
	tok, err := cfg.Tokenizer.MarshalJSON()
	if err != nil {
		return err
	}
	beam.ParDo0(s.Scope("finish"), &finishFn{Out: cfg.Out, Tokenizer: string(tok), Start: time.Now().UnixNano()},
		beam.CoGroupByKey(s, written, counts))
	return nil
}

// Run builds the pipeline and runs it on the runner named by Beam's --runner flag (see
// beamx; prism when unset), then returns the report written to Out.
func Run(ctx context.Context, cfg Config, run func(context.Context, *beam.Pipeline) (beam.PipelineResult, error)) (*corpus.Report, Metrics, error) {
	p := beam.NewPipeline()
	if err := Build(ctx, p, cfg); err != nil {
		return nil, Metrics{}, err
	}
	res, err := run(ctx, p)
	if err != nil {
		return nil, Metrics{}, cause(err)
	}
	m := metricsOf(res)
	b, err := readOutput(ctx, cfg.Out, ReportFile)
	if err != nil {
		return nil, m, fmt.Errorf("the pipeline finished without writing %s: %w", ReportFile, err)
	}
	var rep corpus.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, m, fmt.Errorf("reading %s: %w", ReportFile, err)
	}
	return &rep, m, nil
}

// cause cuts a runner's job error (execution plans, "caused by" chains) down to what the
// failing DoFn returned, which names the input and what to change.
func cause(err error) error {
	msg := err.Error()
	const mark = "] failed:\n"
	if i := strings.LastIndex(msg, mark); i >= 0 {
		return fmt.Errorf("pipeline failed: %s", strings.TrimSpace(msg[i+len(mark):]))
	}
	return err
}
