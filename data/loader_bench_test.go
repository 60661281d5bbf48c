package data

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The loader's figure is tokens/s:
//
//	GOEXPERIMENT=simd go test ./data/ -run '^$' -bench Loader

// BenchmarkLoader serves batches of 8 x 1024 tokens from memory-mapped shards; the
// figure is tokens/s.
func BenchmarkLoader(b *testing.B) {
	dir := b.TempDir()
	for s := range 4 {
		w, err := CreateShard(filepath.Join(dir, fmt.Sprintf("s%d.bin", s)), ShardVersion16)
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]int, 1<<20)
		for i := range ids {
			ids[i] = (i * 7919) % 50257
		}
		w.Write(ids)
		w.Close()
	}
	set, err := OpenShards([]string{dir}, false)
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	l, _ := NewLoader(set, 1024, 8, 1, true)
	var step int64
	b.ResetTimer()
	for b.Loop() {
		l.Batch(step, 0, 8)
		step++
	}
	b.ReportMetric(float64(8*1025)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	os.RemoveAll(dir)
}
