package pipeline

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/golem-ml/golem/corpus"
)

// BenchmarkClusters measures the clustering worker's memory: heap bytes per duplicate
// document held by the union-find (the cost model's "memory of the clustering worker").
// Pairs are shaped like the dedup stage's: each duplicate joins an earlier document, by an
// exact key for a third of them and by 1-3 band keys otherwise.
//
//	cd scale/beam && go test ./pipeline -run '^$' -bench Clusters -benchtime 1x
func BenchmarkClusters(b *testing.B) {
	const dups = 1 << 20
	for range b.N {
		r := rand.New(rand.NewPCG(1, 2))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := corpus.NewClusters()
		pairs := 0
		for d := range dups {
			later := corpus.DocKey(1+d/1000, uint32(d%1000))
			first := corpus.DocKey(0, uint32(r.IntN(dups)))
			if d%3 == 0 {
				c.Add(first, later, true)
				pairs++
				continue
			}
			for range 1 + r.IntN(3) {
				c.Add(first, later, false)
				pairs++
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		n := 0
		c.Drops(func(uint64, string) { n++ })
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/dups, "heapB/dup")
		b.ReportMetric(float64(pairs)/dups, "pairs/dup")
		b.ReportMetric(float64(n), "drops")
	}
}
