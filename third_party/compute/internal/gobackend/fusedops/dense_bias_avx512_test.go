// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fusedops

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/gomlx/compute/internal/gobackend"
)

// TestAddBiasFloat32 compares the AVX-512 bias add of FusedDense with a naive loop, bit for
// bit, for feature counts below, at and around 16 lanes (tails), many rows, 1 and 2 workers.
func TestAddBiasFloat32(t *testing.T) {
	backendAny, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, dims := range [][2]int{{3, 1}, {5, 15}, {7, 16}, {9, 17}, {2048, 384}, {300, 1539}, {1, 4099}} {
			t.Run(fmt.Sprintf("workers=%d/%v", workers, dims), func(t *testing.T) {
				rows, f := dims[0], dims[1]
				out, bias := make([]float32, rows*f), make([]float32, f)
				for i := range out {
					out[i] = float32((i*37)%101)/7 - 5
				}
				for j := range bias {
					bias[j] = float32(j%13)/3 - 2
				}
				want := make([]float32, len(out))
				for i := range want {
					want[i] = out[i] + bias[i%f]
				}
				addBiasFloat32(backend, out, bias)
				for i := range want {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Fatalf("output[%d] (row %d, feature %d) = %g, want %g", i, i/f, i%f, out[i], want[i])
					}
				}
			})
		}
	}
}

// BenchmarkAddBiasFloat32 prints ns per element of the FusedDense bias add on [2048, 1536] (the
// MLP up-projection of golem's small config), AVX-512 vs upstream's modulo loop.
func BenchmarkAddBiasFloat32(b *testing.B) {
	backendAny, err := gobackend.New("")
	if err != nil {
		b.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	defer backend.Finalize()
	const rows, f = 2048, 1536
	out, bias := make([]float32, rows*f), make([]float32, f)
	for _, name := range []string{"avx512", "upstream-modulo"} {
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				if name == "avx512" {
					addBiasFloat32(backend, out, bias)
				} else {
					for i, v := range out {
						out[i] = v + bias[i%f]
					}
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*rows*f), "ns/elem")
		})
	}
}
