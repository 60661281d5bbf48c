// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestReduceSumFloat32AVX512 compares the AVX-512 ReduceSum with a float64 sum for rows, columns,
// middle axes and all axes, odd sizes, 1 and 2 workers, and checks that non-contiguous axes fall
// back to the generic executor.
func TestReduceSumFloat32AVX512(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	backend := newTestBackend(t)
	defer backend.Finalize()
	cases := []struct {
		dims, axes []int
	}{
		{[]int{300, 129}, []int{1}},
		{[]int{2049, 385}, []int{0}},
		{[]int{3, 70, 33}, []int{1}},
		{[]int{20, 7, 9, 31}, []int{1, 2}},
		{[]int{17, 19, 23}, []int{0, 1, 2}},
		{[]int{9, 5, 300}, []int{0, 2}}, // Not contiguous: generic.
		{[]int{4, 1000}, []int{0}},
	}
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, c := range cases {
			t.Run(fmt.Sprintf("workers=%d/%v/%v", workers, c.dims, c.axes), func(t *testing.T) {
				in := float32Buffer(c.dims, 3)
				var outDims []int
				isReduced := map[int]bool{}
				for _, a := range c.axes {
					isReduced[a] = true
				}
				for axis, d := range c.dims {
					if !isReduced[axis] {
						outDims = append(outDims, d)
					}
				}
				node := &gobackend.Node{OpType: compute.OpTypeReduceSum, Shape: shapes.Make(dtypes.Float32, outDims...), Data: c.axes}
				want, err := execReduce(backend, node, []*gobackend.Buffer{in}, []bool{false})
				if err != nil {
					t.Fatal(err)
				}
				got, err := execReduceSumFloat32AVX512(backend, node, []*gobackend.Buffer{in}, []bool{false})
				if err != nil {
					t.Fatal(err)
				}
				w, g := want.Flat.([]float32), got.Flat.([]float32)
				for i := range w {
					if diff := math.Abs(float64(w[i] - g[i])); diff > 1e-5*float64(in.RawShape.Size()/len(w)) {
						t.Fatalf("output[%d] = %g, want %g", i, g[i], w[i])
					}
				}
			})
		}
	}
}

// BenchmarkReduceSumFloat32 prints ns per element of ReduceSum over the rows and the columns of
// a [2048, 1536] tensor, AVX-512 vs generic.
func BenchmarkReduceSumFloat32(b *testing.B) {
	backend := newTestBackend(b)
	defer backend.Finalize()
	in := float32Buffer([]int{2048, 1536}, 1)
	for _, c := range []struct {
		name    string
		axis    int
		outDims []int
	}{{"rows", 1, []int{2048}}, {"columns", 0, []int{1536}}} {
		node := &gobackend.Node{OpType: compute.OpTypeReduceSum, Shape: shapes.Make(dtypes.Float32, c.outDims...), Data: []int{c.axis}}
		for _, fast := range []bool{true, false} {
			name := c.name + "/generic"
			exec := execReduce
			if fast {
				name, exec = c.name+"/avx512", execReduceSumFloat32AVX512
			}
			b.Run(name, func(b *testing.B) {
				cpu0 := processCPUTime()
				for b.Loop() {
					res, _ := exec(backend, node, []*gobackend.Buffer{in}, []bool{false})
					backend.PutBuffer(res)
				}
				n := float64(b.N) * float64(in.RawShape.Size())
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/elem")
				b.ReportMetric(float64(processCPUTime()-cpu0)/n, "cpu-ns/elem")
			})
		}
	}
}

// TestReduceMaxMinFloat32AVX512 compares the AVX-512 ReduceMax/ReduceMin over rows with the
// generic executor, bit for bit (any NaN for a NaN), on random rows of odd lengths (vector body and scalar tail),
// rows with a NaN in the body or the tail (NaN), with ±Inf, all -Inf, on 1 and 2 workers; and
// checks that column and non-contiguous reductions still work (generic executor).
func TestReduceMaxMinFloat32AVX512(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	backend := newTestBackend(t)
	defer backend.Finalize()
	cases := []struct {
		dims, axes []int
	}{
		{[]int{300, 129}, []int{1}},
		{[]int{64, 8192}, []int{1}},
		{[]int{3, 70, 33}, []int{2}},
		{[]int{20, 7, 9, 31}, []int{2, 3}},
		{[]int{17, 19, 23}, []int{0, 1, 2}},
		{[]int{300, 17}, []int{0}},      // Columns: generic.
		{[]int{9, 5, 300}, []int{0, 2}}, // Not contiguous: generic.
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, op := range []compute.OpType{compute.OpTypeReduceMax, compute.OpTypeReduceMin} {
		for _, workers := range []int{1, 2} {
			backend.Workers.SetMaxParallelism(workers)
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/workers=%d/%v/%v", op, workers, c.dims, c.axes), func(t *testing.T) {
					shape := shapes.Make(dtypes.Float32, c.dims...)
					flat := make([]float32, shape.Size())
					for i := range flat {
						flat[i] = rng.Float32()*200 - 100
					}
					rowLen := c.dims[len(c.dims)-1]
					special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
					for row := 0; row*rowLen < len(flat) && row < 12; row++ {
						// Rows 0-5: one special value in the vector body or the tail; 6-8: all -Inf.
						switch {
						case row < 6:
							pos := 0
							if row%2 == 1 {
								pos = rowLen - 1
							}
							flat[row*rowLen+pos] = special[row/2]
						case row < 9:
							for j := range rowLen {
								flat[row*rowLen+j] = float32(math.Inf(-1))
							}
						}
					}
					in := &gobackend.Buffer{RawShape: shape, Flat: flat}
					isReduced := map[int]bool{}
					for _, a := range c.axes {
						isReduced[a] = true
					}
					var outDims []int
					for axis, d := range c.dims {
						if !isReduced[axis] {
							outDims = append(outDims, d)
						}
					}
					node := &gobackend.Node{OpType: op, Shape: shapes.Make(dtypes.Float32, outDims...), Data: c.axes}
					want, err := execReduce(backend, node, []*gobackend.Buffer{in}, []bool{false})
					if err != nil {
						t.Fatal(err)
					}
					got, err := execReduceMaxMinFloat32AVX512(backend, node, []*gobackend.Buffer{in}, []bool{false})
					if err != nil {
						t.Fatal(err)
					}
					w, g := want.Flat.([]float32), got.Flat.([]float32)
					for i := range w {
						bothNaN := math.IsNaN(float64(w[i])) && math.IsNaN(float64(g[i]))
						if math.Float32bits(w[i]) != math.Float32bits(g[i]) && !bothNaN {
							t.Fatalf("output[%d] = %g, want %g", i, g[i], w[i])
						}
					}
				})
			}
		}
	}
}

// BenchmarkReduceMaxFloat32 prints ns per element of ReduceMax over the rows of the logits of
// golem's small config, [2048, 8192] (the log-sum-exp max), AVX-512 vs generic.
func BenchmarkReduceMaxFloat32(b *testing.B) {
	backend := newTestBackend(b)
	defer backend.Finalize()
	in := float32Buffer([]int{2048, 8192}, 1)
	node := &gobackend.Node{OpType: compute.OpTypeReduceMax, Shape: shapes.Make(dtypes.Float32, 2048), Data: []int{1}}
	for _, fast := range []bool{true, false} {
		name, exec := "generic", execReduce
		if fast {
			name, exec = "avx512", execReduceMaxMinFloat32AVX512
		}
		b.Run(name, func(b *testing.B) {
			cpu0 := processCPUTime()
			for b.Loop() {
				res, _ := exec(backend, node, []*gobackend.Buffer{in}, []bool{false})
				backend.PutBuffer(res)
			}
			n := float64(b.N) * float64(in.RawShape.Size())
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/elem")
			b.ReportMetric(float64(processCPUTime()-cpu0)/n, "cpu-ns/elem")
		})
	}
}
