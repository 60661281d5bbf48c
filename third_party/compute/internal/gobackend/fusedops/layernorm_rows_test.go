// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package fusedops

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestLayerNormGroupsSplit checks that LayerNorm over trailing axes, split over the workers,
// gives the bits of the sequential loop over all groups, with and without gamma/beta, for group
// sizes that do and do not divide the chunk, on 1 and 2 workers.
func TestLayerNormGroupsSplit(t *testing.T) {
	backendAny, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, c := range []struct {
			dims, axes []int
			affine     bool
		}{
			{[]int{2048, 384}, []int{1}, true},
			{[]int{3, 700, 129}, []int{2}, false},
			{[]int{5, 64, 7, 9}, []int{2, 3}, true},
		} {
			t.Run(fmt.Sprintf("workers=%d/%v/%v/affine=%v", workers, c.dims, c.axes, c.affine), func(t *testing.T) {
				shape := shapes.Make(dtypes.Float32, c.dims...)
				in := make([]float32, shape.Size())
				for i := range in {
					in[i] = float32((i*37)%101)/7 - 5 + float32(i%3)*0.01
				}
				normSize := 1
				for _, a := range c.axes {
					normSize *= c.dims[a]
				}
				var gamma, beta []float32
				var gammaBuf, betaBuf *gobackend.Buffer
				if c.affine {
					gamma, beta = make([]float32, normSize), make([]float32, normSize)
					for i := range gamma {
						gamma[i], beta[i] = 1+float32(i%5)/10, float32(i%7)/10-0.3
					}
					gammaBuf = &gobackend.Buffer{RawShape: shapes.Make(dtypes.Float32, normSize), Flat: gamma}
					betaBuf = &gobackend.Buffer{RawShape: shapes.Make(dtypes.Float32, normSize), Flat: beta}
				}
				want := make([]float32, len(in))
				layerNormTrailingAxes(in, want, gamma, beta, normSize, 1e-5)
				got := &gobackend.Buffer{RawShape: shape, Flat: make([]float32, len(in))}
				layerNorm[float32](backend, &gobackend.Buffer{RawShape: shape, Flat: in}, got, gammaBuf, betaBuf, c.axes, 1e-5)
				for i, w := range want {
					if g := got.Flat.([]float32)[i]; math.Float32bits(g) != math.Float32bits(w) {
						t.Fatalf("output[%d] = %g, want %g", i, g, w)
					}
				}
			})
		}
	}
}

// BenchmarkLayerNormFloat32 prints ns per element of LayerNorm over the last axis of [2048, 384]
// (golem's small config) on 1 worker (the loop before the split) and 2.
func BenchmarkLayerNormFloat32(b *testing.B) {
	backendAny, err := gobackend.New("")
	if err != nil {
		b.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	shape := shapes.Make(dtypes.Float32, 2048, 384)
	in := &gobackend.Buffer{RawShape: shape, Flat: make([]float32, shape.Size())}
	out := &gobackend.Buffer{RawShape: shape, Flat: make([]float32, shape.Size())}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			backend.Workers.SetMaxParallelism(workers)
			for b.Loop() {
				layerNorm[float32](backend, in, out, nil, nil, []int{1}, 1e-5)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*shape.Size()), "ns/elem")
		})
	}
}
