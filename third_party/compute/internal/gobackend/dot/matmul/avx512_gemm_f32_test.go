// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

import (
	"fmt"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
)

var gemmTestLayouts = []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed,
	dot.LayoutTransposedLHS, dot.LayoutTransposedLHSAndRHS}

// naiveGemm is the reference: output[b, i, j] = sum_k lhs(b, i, k) * rhs(b, k, j) in float64,
// with the operands read through the strides of the layout.
func naiveGemm(layout dot.Layout, lhs, rhs []float32, batch, m, n, k int) []float32 {
	ls, rs := gemmStridesForLayout(layout, m, n, k)
	out := make([]float32, batch*m*n)
	for b := range batch {
		for i := range m {
			for j := range n {
				var sum float64
				for kk := range k {
					sum += float64(lhs[b*ls.batch+i*ls.row+kk*ls.col]) * float64(rhs[b*rs.batch+kk*rs.row+j*rs.col])
				}
				out[(b*m+i)*n+j] = float32(sum)
			}
		}
	}
	return out
}

func randomFloat32s(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

// TestGemmFloat32 checks the 6x64 GEMM against naiveGemm for every layout, on shapes that are not
// multiples of the micro-kernel (6x64) or of the cache blocks (96, 256, 512), on 1 and 2 workers.
func TestGemmFloat32(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	backendAny, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][4]int{ // batch, m, n, k
		{1, 1, 1, 1}, {1, 7, 5, 3}, {2, 13, 67, 70}, {3, 6, 64, 256}, {1, 37, 130, 300},
		{1, 100, 520, 513}, {5, 11, 65, 17}, {1, 200, 33, 40},
	}
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, layout := range gemmTestLayouts {
			for _, s := range shapes {
				batch, m, n, k := s[0], s[1], s[2], s[3]
				t.Run(fmt.Sprintf("workers=%d/%s/%dx%dx%dx%d", workers, layout, batch, m, n, k), func(t *testing.T) {
					lhs := randomFloat32s(rng, batch*m*k)
					rhs := randomFloat32s(rng, batch*k*n)
					want := naiveGemm(layout, lhs, rhs, batch, m, n, k)
					got := make([]float32, batch*m*n)
					for i := range got {
						got[i] = float32(math.NaN()) // Every element must be written.
					}
					gemmFloat32(backend, layout, lhs, rhs, batch, m, n, k, got)
					tol := 1e-5 * float64(k)
					for i := range want {
						if diff := math.Abs(float64(got[i] - want[i])); !(diff <= tol) {
							t.Fatalf("output[%d] (b=%d i=%d j=%d) = %g, want %g", i, i/(m*n), i/n%m, i%n, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

// BenchmarkGemmFloat32 prints GFLOP/s for the golem training shapes (bench/README.md) in each
// layout, on the backend's default workers.
func BenchmarkGemmFloat32(b *testing.B) {
	backendAny, err := gobackend.New("")
	if err != nil {
		b.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name           string
		layout         dot.Layout
		batch, m, n, k int
	}{
		{"2048cubed", dot.LayoutNonTransposed, 1, 2048, 2048, 2048},
		{"mlp-up", dot.LayoutNonTransposed, 1, 2048, 1536, 384},
		{"input-grad-dyWt", dot.LayoutTransposed, 1, 2048, 384, 1536},
		{"weight-grad-xTdy", dot.LayoutTransposedLHS, 1, 384, 1536, 2048},
		{"head-x-wteT", dot.LayoutTransposed, 1, 2048, 8192, 384},
		{"attn-q-kT", dot.LayoutTransposed, 48, 256, 256, 64},
	} {
		lhs := randomFloat32s(rng, c.batch*c.m*c.k)
		rhs := randomFloat32s(rng, c.batch*c.k*c.n)
		out := make([]float32, c.batch*c.m*c.n)
		b.Run(c.name+"/gemm6x64", func(b *testing.B) {
			for b.Loop() {
				gemmFloat32(backend, c.layout, lhs, rhs, c.batch, c.m, c.n, c.k, out)
			}
			b.ReportMetric(2*float64(c.batch*c.m*c.n*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		if c.layout == dot.LayoutNonTransposed || c.layout == dot.LayoutTransposed {
			// Upstream's 4x32 archsimd kernels, for comparison in the same run.
			b.Run(c.name+"/upstream4x32", func(b *testing.B) {
				for b.Loop() {
					avx512RouterFloat32(backend, c.layout, lhs, rhs, c.batch, c.m, c.n, c.k, out)
				}
				b.ReportMetric(2*float64(c.batch*c.m*c.n*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestGemmSplit checks that the tasks of gemmSplit cover every output element of every batch
// item exactly once, in row blocks that are whole micro-panels, and that the weight-gradient
// shape xᵀ·dy (M=384 < N=1536) is split by columns, so its rhs is packed once.
func TestGemmSplit(t *testing.T) {
	shapes := [][4]int{ // batch, m, n, k
		{1, 384, 1536, 2048}, {1, 2048, 384, 1536}, {1, 2048, 1536, 384}, {1, 2048, 8192, 384},
		{1, 2048, 2048, 2048}, {48, 256, 256, 64}, {2, 100, 520, 513}, {1, 7, 5000, 300},
		{3, 1000, 70, 200}, {1, 64, 64, 64},
	}
	for _, workers := range []int{1, 2, 3, 8} {
		for _, s := range shapes {
			batch, m, n, k := s[0], s[1], s[2], s[3]
			tasks := gemmSplit(batch, m, n, k, workers)
			covered := make([]int, batch*m*n)
			for _, task := range tasks {
				if task.rowStart%gemmMR != 0 {
					t.Fatalf("workers=%d %v: task %+v starts inside a micro-panel", workers, s, task)
				}
				for b := task.batchStart; b < task.batchEnd; b++ {
					for i := task.rowStart; i < task.rowEnd; i++ {
						for j := task.colStart; j < task.colEnd; j++ {
							covered[(b*m+i)*n+j]++
						}
					}
				}
			}
			for idx, c := range covered {
				if c != 1 {
					t.Fatalf("workers=%d %v: output %d covered %d times by %+v", workers, s, idx, c, tasks)
				}
			}
		}
	}
	for _, task := range gemmSplit(1, 384, 1536, 2048, 2) {
		if task.rowStart != 0 || task.rowEnd != 384 {
			t.Errorf("xᵀ·dy split into row blocks (%+v): each would pack the whole rhs again", task)
		}
	}
}
