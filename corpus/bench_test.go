package corpus

import (
	"context"
	"runtime"
	"testing"

	"github.com/golem-ml/golem/tokenizer"
)

// The benchmarks report MB/s of document text (SetBytes) for each stage on the CC-MAIN
// sample (3.3 MB of text, 697 documents). Run them on one core and on all:
//
//	GOEXPERIMENT=simd go test ./corpus/ -run '^$' -bench . -cpu 1,$(nproc)

const benchShard = ccDir + "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"

func benchDocs(b *testing.B) ([]Document, int64) {
	docs := readAll(b, benchShard, ReadOptions{})
	var n int64
	for _, d := range docs {
		n += int64(len(d.Text))
	}
	return docs, n
}

// parallelDocs runs fn over the documents on GOMAXPROCS goroutines.
func parallelDocs(docs []Document, fn func(d *Document)) {
	next := make(chan int, len(docs))
	for i := range docs {
		next <- i
	}
	close(next)
	done := make(chan struct{})
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for i := range next {
				fn(&docs[i])
			}
			done <- struct{}{}
		}()
	}
	for range runtime.GOMAXPROCS(0) {
		<-done
	}
}

// BenchmarkRead is decompress + parse of the jsonl.gz shard (one reader per shard, so
// one core; all cores read different shards).
func BenchmarkRead(b *testing.B) {
	_, n := benchDocs(b)
	b.SetBytes(n)
	for b.Loop() {
		readAll(b, benchShard, ReadOptions{})
	}
}

// BenchmarkReadFilter is read + the default (Gopher) filters across GOMAXPROCS workers.
func BenchmarkReadFilter(b *testing.B) {
	_, n := benchDocs(b)
	f := NewFilter(DefaultFilters())
	b.SetBytes(n)
	for b.Loop() {
		docs := readAll(b, benchShard, ReadOptions{})
		parallelDocs(docs, func(d *Document) { f.Apply(d) })
	}
}

func BenchmarkDedupSignatures(b *testing.B) {
	docs, n := benchDocs(b)
	set := newSigSet(DefaultDedup(), NewMinHasher(DefaultDedup()))
	b.SetBytes(n)
	for b.Loop() {
		parallelDocs(docs, func(d *Document) { set.compute(d.Text) })
	}
}

func BenchmarkTokenizeByte(b *testing.B) {
	docs, n := benchDocs(b)
	tok := tokenizer.NewByte()
	b.SetBytes(n)
	for b.Loop() {
		parallelDocs(docs, func(d *Document) { tok.Encode(d.Text) })
	}
}

// BenchmarkPrepare is the whole pipeline (read, filter, exact+MinHash dedup, tokenize,
// write) with GOMAXPROCS workers.
func BenchmarkPrepare(b *testing.B) {
	_, n := benchDocs(b)
	b.SetBytes(n)
	for b.Loop() {
		out := b.TempDir()
		if _, err := Prepare(context.Background(), PrepareConfig{Inputs: []string{benchShard}, Out: out, Filters: DefaultFilters(), Dedup: DefaultDedup(), MaxBadFraction: 0.2}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilter is the default filters alone (documents already in memory).
func BenchmarkFilter(b *testing.B) {
	docs, n := benchDocs(b)
	f := NewFilter(DefaultFilters())
	b.SetBytes(n)
	for b.Loop() {
		parallelDocs(docs, func(d *Document) { f.Apply(d) })
	}
}

// BenchmarkTokenizeGPT2 is GPT-2 BPE encoding across GOMAXPROCS workers (skipped without
// the shared GPT-2 files).
func BenchmarkTokenizeGPT2(b *testing.B) {
	tok, err := tokenizer.LoadAny("/work/shared/data/tokenizers/gpt2")
	if err != nil {
		b.Skip(err)
	}
	docs, n := benchDocs(b)
	b.SetBytes(n)
	for b.Loop() {
		parallelDocs(docs, func(d *Document) { tok.Encode(d.Text) })
	}
}
