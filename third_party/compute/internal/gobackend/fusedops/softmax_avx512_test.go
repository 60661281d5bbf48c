// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fusedops

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/fastmath"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestFusedSoftmaxLastAxisFloat32 compares the AVX-512 row softmax with the scalar fusedSoftmax
// on odd row lengths (tails), large and -Inf logits (masked attention), 1 and 2 workers.
func TestFusedSoftmaxLastAxisFloat32(t *testing.T) {
	if !softmaxAVX512 {
		t.Skip("no AVX-512")
	}
	backendAny, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, dims := range [][2]int{{1, 16}, {7, 33}, {300, 257}, {64, 1000}} {
			t.Run(fmt.Sprintf("workers=%d/%v", workers, dims), func(t *testing.T) {
				rows, cols := dims[0], dims[1]
				in := make([]float32, rows*cols)
				for i := range in {
					in[i] = float32((i*37)%101)/7 - 5
					if i%cols > cols/2 && (i/cols)%2 == 1 {
						in[i] = float32(math.Inf(-1)) // Causal mask.
					}
				}
				in[0] = 80
				want := make([]float32, len(in))
				fusedSoftmax(in, want, 1, shapes.Make(dtypes.Float32, rows, cols), fastmath.Exp32)
				got := make([]float32, len(in))
				if !fusedSoftmaxLastAxisFloat32(backend, in, got, rows, cols) {
					t.Fatal("not applied")
				}
				for i := range want {
					if diff := math.Abs(float64(got[i] - want[i])); diff > 1e-6*math.Max(1, float64(want[i])) {
						t.Fatalf("output[%d] = %g, want %g", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// BenchmarkFusedSoftmaxFloat32 prints ns per element of softmax over [2048, 256] rows (the
// attention scores of one head batch), AVX-512 vs the scalar loop.
func BenchmarkFusedSoftmaxFloat32(b *testing.B) {
	backendAny, err := gobackend.New("")
	if err != nil {
		b.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	rows, cols := 2048, 256
	in := make([]float32, rows*cols)
	for i := range in {
		in[i] = float32(i%97)/10 - 4
	}
	out := make([]float32, len(in))
	b.Run("avx512", func(b *testing.B) {
		for b.Loop() {
			fusedSoftmaxLastAxisFloat32(backend, in, out, rows, cols)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/elem")
	})
	b.Run("scalar", func(b *testing.B) {
		for b.Loop() {
			fusedSoftmax(in, out, 1, shapes.Make(dtypes.Float32, rows, cols), fastmath.Exp32)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/elem")
	})
}

// TestGeluChunkFloat32 compares the AVX-512 exact GELU with the float64 math.Erf loop.
func TestGeluChunkFloat32(t *testing.T) {
	in := make([]float32, 100003)
	for i := range in {
		in[i] = float32(i-50000) / 5000 // [-10, 10]
	}
	want := make([]float32, len(in))
	got := make([]float32, len(in))
	geluChunk(in, want)
	geluChunkFloat32(in, got)
	for i := range want {
		if diff := math.Abs(float64(got[i] - want[i])); diff > 2e-6*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("gelu(%g) = %g, want %g", in[i], got[i], want[i])
		}
	}
}
