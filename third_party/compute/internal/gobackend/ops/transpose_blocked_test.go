// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

func newTestBackend(tb testing.TB) *gobackend.Backend {
	backendAny, err := gobackend.New("")
	if err != nil {
		tb.Fatal(err)
	}
	return backendAny.(*gobackend.Backend)
}

// naiveTranspose is the reference: upstream's element iterator.
func naiveTranspose[T any](in []T, dims, perm []int) []T {
	out := make([]T, len(in))
	it := NewTransposeIterator(shapes.Make(dtypes.Float32, dims...), perm)
	for _, v := range in {
		out[it.Next()] = v
	}
	return out
}

func checkTranspose[T comparable](t *testing.T, backend *gobackend.Backend, dtype dtypes.DType, dims, perm []int, fill func(i int) T) {
	shape := shapes.Make(dtype, dims...)
	in := make([]T, shape.Size())
	for i := range in {
		in[i] = fill(i)
	}
	out := make([]T, len(in))
	if !transposeBlocked(backend, &gobackend.Buffer{RawShape: shape, Flat: in}, &gobackend.Buffer{Flat: out}, perm) {
		t.Fatalf("dtype %s not handled", dtype)
	}
	want := naiveTranspose(in, dims, perm)
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("dims=%v perm=%v: output[%d] = %v, want %v", dims, perm, i, out[i], want[i])
		}
	}
}

// TestTransposeBlocked compares the blocked Transpose with upstream's element iterator on random
// shapes (odd sizes, axes of dimension 1, ranks 1-5, every permutation kind) and the attention
// and weight-gradient shapes of a training step, on 1 and 2 workers.
func TestTransposeBlocked(t *testing.T) {
	backend := newTestBackend(t)
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(3, 4))
	cases := [][2][]int{
		{{2, 300, 6, 64}, {0, 2, 1, 3}}, // [B, T, H, D] -> [B, H, T, D]
		{{2, 6, 300, 64}, {0, 2, 1, 3}},
		{{2, 6, 300, 64}, {0, 1, 3, 2}}, // kᵀ
		{{517, 389}, {1, 0}},            // Weight-gradient style 2D.
		{{1, 33, 1, 17}, {3, 2, 1, 0}},
		{{7}, {0}},
		{{3, 5, 7, 11, 2}, {4, 0, 3, 1, 2}},
	}
	for range 30 {
		rank := 1 + rng.IntN(5)
		dims := make([]int, rank)
		for i := range dims {
			dims[i] = 1 + rng.IntN([]int{0, 300, 80, 30, 12, 8}[rank]) // At most ~30K elements.
		}
		perm := rng.Perm(rank)
		cases = append(cases, [2][]int{dims, perm})
	}
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, c := range cases {
			dims, perm := c[0], c[1]
			t.Run(fmt.Sprintf("workers=%d/%v/%v", workers, dims, perm), func(t *testing.T) {
				checkTranspose(t, backend, dtypes.Float32, dims, perm, func(i int) float32 { return float32(i) })
				checkTranspose(t, backend, dtypes.Int64, dims, perm, func(i int) int64 { return int64(i) })
				checkTranspose(t, backend, dtypes.Bool, dims, perm, func(i int) bool { return i%3 == 0 })
			})
		}
	}
}

func TestSimplifyTranspose(t *testing.T) {
	for _, c := range []struct{ dims, perm, wantDims, wantPerm []int }{
		{[]int{2, 3, 4, 5}, []int{0, 2, 1, 3}, []int{2, 3, 4, 5}, []int{0, 2, 1, 3}},
		{[]int{2, 3, 4, 5}, []int{2, 3, 0, 1}, []int{6, 20}, []int{1, 0}},
		{[]int{2, 1, 4}, []int{1, 0, 2}, []int{8}, []int{0}},
		{[]int{2, 3, 4}, []int{0, 1, 2}, []int{24}, []int{0}},
	} {
		gotDims, gotPerm := simplifyTranspose(c.dims, c.perm)
		if !slices.Equal(gotDims, c.wantDims) || !slices.Equal(gotPerm, c.wantPerm) {
			t.Errorf("simplifyTranspose(%v, %v) = %v, %v; want %v, %v", c.dims, c.perm, gotDims, gotPerm, c.wantDims, c.wantPerm)
		}
	}
}

// BenchmarkTranspose prints ns per element of the blocked Transpose and of upstream's iterator
// for the transposes of a small-config training step.
func BenchmarkTranspose(b *testing.B) {
	backend := newTestBackend(b)
	defer backend.Finalize()
	for _, c := range []struct {
		name       string
		dims, perm []int
	}{
		{"heads-BTHD-to-BHTD", []int{8, 256, 6, 64}, []int{0, 2, 1, 3}},
		{"2D-2048x1536", []int{2048, 1536}, []int{1, 0}},
		{"kT-BHTD-to-BHDT", []int{8, 6, 256, 64}, []int{0, 1, 3, 2}},
	} {
		shape := shapes.Make(dtypes.Float32, c.dims...)
		in := make([]float32, shape.Size())
		out := make([]float32, shape.Size())
		b.Run(c.name+"/blocked", func(b *testing.B) {
			cpu0 := processCPUTime()
			for b.Loop() {
				transposeBlocked(backend, &gobackend.Buffer{RawShape: shape, Flat: in}, &gobackend.Buffer{Flat: out}, c.perm)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/elem")
			b.ReportMetric(float64(processCPUTime()-cpu0)/float64(b.N)/float64(len(in)), "cpu-ns/elem")
		})
		b.Run(c.name+"/upstream-iterator", func(b *testing.B) {
			cpu0 := processCPUTime()
			for b.Loop() {
				it := NewTransposeIterator(shape, c.perm)
				for _, v := range in {
					out[it.Next()] = v
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/elem")
			b.ReportMetric(float64(processCPUTime()-cpu0)/float64(b.N)/float64(len(in)), "cpu-ns/elem")
		})
	}
}
