// Command bench measures the Beam pipeline on Prism against the single-machine prepare
// on the same inputs (MB/s of input per core), and how the dedup shuffle grows with the
// input: samples of 1x, 4x, 16x the shipped Common Crawl files, later copies perturbed
// (see writeSample). It prints a Markdown table.
//
//	cd scale/beam && go run ./cmd/bench --scales 1,4,16
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/scale/beam/pipeline"
)

func main() {
	scales := flag.String("scales", "1,4,16", "sample sizes, in copies of the shipped samples")
	cc := flag.String("samples", "../../testdata/commoncrawl", "folder of the Common Crawl samples")
	work := flag.String("work", "", "scratch folder (default: a temporary one, removed after)")
	filters := flag.String("filters", "gopher", "filter preset")
	flag.Parse()
	beam.Init()
	dir := *work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "golem-beam-bench-"); err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
	}
	f, err := corpus.FilterPreset(*filters)
	if err != nil {
		fail(err)
	}
	sources := []string{filepath.Join(*cc, "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"), filepath.Join(*cc, "dolma_documents_000.json.gz"),
		filepath.Join(*cc, "dolma_sample-0000.warc.gz"), filepath.Join(*cc, "whirlwind.warc.wet")}
	cores := runtime.GOMAXPROCS(0)
	fmt.Printf("%d cores; filters %s; dedup exact+minhash 14x8\n\n", cores, *filters)
	fmt.Println("| scale | input MB | kept docs | prepare MB/s (per core; per CPU-s) | beam/prism MB/s (per core; per CPU-s) | dedup keys MB | pairs MB | drops MB | dedup shuffle per input MB | tokens shuffled MB | same shards |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range corpus.SplitList(*scales) {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			fail(fmt.Errorf("--scales: %q is not a positive count", s))
		}
		in := filepath.Join(dir, fmt.Sprintf("x%d", k))
		size, err := writeSample(in, sources, k)
		if err != nil {
			fail(err)
		}
		mb := float64(size) / 1e6
		start, cpu := time.Now(), cpuSeconds()
		single, err := corpus.Prepare(context.Background(), corpus.PrepareConfig{Inputs: []string{in}, Out: in + "-prepare", Filters: f, Dedup: corpus.DefaultDedup(), MaxBadFraction: 0.1})
		if err != nil {
			fail(err)
		}
		tp, cp := time.Since(start).Seconds(), cpuSeconds()-cpu
		start, cpu = time.Now(), cpuSeconds()
		cfg := pipeline.Config{Inputs: []string{in}, Out: in + "-beam", Filters: f, Dedup: corpus.DefaultDedup(), MaxBadFraction: 0.1}
		rep, m, err := pipeline.Run(context.Background(), cfg, func(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) { return prism.Execute(ctx, p) })
		if err != nil {
			fail(err)
		}
		tb, cb := time.Since(start).Seconds(), cpuSeconds()-cpu
		same := sameFiles(in+"-prepare", in+"-beam", data.ManifestFile) && rep.Kept == single.Kept
		fmt.Printf("| %dx | %.1f | %d | %.2f (%.2f; %.2f) | %.2f (%.2f; %.2f) | %.2f | %.3f | %.3f | %.3f | %.1f | %v |\n", k, mb, rep.Kept,
			mb/tp, mb/tp/float64(cores), mb/cp, mb/tb, mb/tb/float64(cores), mb/cb, float64(m.DedupKeyBytes)/1e6, float64(m.DedupPairBytes)/1e6,
			float64(m.DedupDropBytes)/1e6, float64(m.DedupBytes())/float64(size), float64(m.TokenBytes)/1e6, same)
	}
}

// cpuSeconds is the CPU time (user + system) this process has used: a per-core rate that
// holds on a machine shared with other work. Prism runs in this process, so it counts.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// sameFiles reports whether name is byte-identical in both folders.
func sameFiles(a, b, name string) bool {
	x, err1 := os.ReadFile(filepath.Join(a, name))
	y, err2 := os.ReadFile(filepath.Join(b, name))
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
