// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package ops

import (
	"fmt"
	"math"
	"simd/archsimd"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

func float32Buffer(dims []int, seed int) *gobackend.Buffer {
	shape := shapes.Make(dtypes.Float32, dims...)
	flat := make([]float32, shape.Size())
	for i := range flat {
		flat[i] = float32((i*7+seed)%23)/5 - 2.1 // Never 0: Div stays finite.
	}
	return &gobackend.Buffer{RawShape: shape, Flat: flat}
}

// TestBinaryFloat32AVX512 compares the AVX-512 Add/Sub/Mul/Div with the generic executors
// (bit for bit) for every operand layout: same shape, bias rows, per-row columns, scalars,
// blocks repeated over middle axes, on either side, odd and small sizes, 1 and 2 workers; and checks that unsupported layouts still work.
func TestBinaryFloat32AVX512(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	backend := newTestBackend(t)
	defer backend.Finalize()
	ops := []struct {
		name    string
		op      binaryFloat32Op
		generic gobackend.NodeExecutor
	}{{"Add", binaryAdd, execAdd}, {"Sub", binarySub, execSub}, {"Mul", binaryMul, execMul}, {"Div", binaryDiv, execDiv}}
	cases := [][3][]int{ // lhs, rhs, output
		{{37, 129}, {37, 129}, {37, 129}},
		{{300, 7, 33}, {1, 1, 33}, {300, 7, 33}},
		{{1, 7, 33}, {300, 7, 33}, {300, 7, 33}},
		{{300, 7, 33}, {300, 7, 1}, {300, 7, 33}},
		{{300, 1, 1}, {300, 7, 33}, {300, 7, 33}},
		{{1, 1}, {513, 65}, {513, 65}},
		{{513, 65}, {1, 1}, {513, 65}},
		{{513, 1}, {1, 65}, {513, 65}},                   // Both broadcast: generic.
		{{40, 1, 30}, {40, 50, 30}, {40, 50, 30}},        // Middle axis broadcast.
		{{8, 4, 2, 129}, {8, 1, 1, 129}, {8, 4, 2, 129}}, // An attention mask.
		{{8, 1, 16}, {8, 6, 16}, {8, 6, 16}},             // A RoPE table.
		{{3, 1, 5, 1}, {3, 7, 5, 1}, {3, 7, 5, 1}},       // Middle, inner block of 5 (and a trailing 1).
		{{1, 4, 8}, {2, 4, 8}, {2, 4, 8}},                // Small ops (16-255 elements) take the fast path too.
		{{2, 3, 1, 4}, {2, 1, 1, 4}, {2, 3, 1, 4}},       // 24 elements.
		{{6, 1, 20}, {6, 3, 20}, {6, 3, 20}},
		{{5000, 64}, {5000, 64}, {5000, 64}},
		{{300, 7, 33}, {}, {300, 7, 33}}, // Rank-0 scalars.
		{{}, {300, 7, 33}, {300, 7, 33}},
	}
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, c := range cases {
			for _, o := range ops {
				t.Run(fmt.Sprintf("workers=%d/%s/%v%v", workers, o.name, c[0], c[1]), func(t *testing.T) {
					node := &gobackend.Node{Shape: shapes.Make(dtypes.Float32, c[2]...)}
					lhs, rhs := float32Buffer(c[0], 1), float32Buffer(c[1], 5)
					want, err := o.generic(backend, node, []*gobackend.Buffer{lhs, rhs}, []bool{false, false})
					if err != nil {
						t.Fatal(err)
					}
					got, err := execBinaryFloat32AVX512(o.op, o.generic, backend, node, []*gobackend.Buffer{lhs, rhs}, []bool{false, false})
					if err != nil {
						t.Fatal(err)
					}
					w, g := want.Flat.([]float32), got.Flat.([]float32)
					for i := range w {
						if math.Float32bits(w[i]) != math.Float32bits(g[i]) {
							t.Fatalf("output[%d] = %g, want %g", i, g[i], w[i])
						}
					}
				})
			}
		}
	}
	_ = compute.OpTypeAdd
}

// BenchmarkBinaryFloat32 prints ns per element of Mul, AVX-512 vs generic, for the layouts of a
// training step ([2048, 1536] activations, a [1536] bias row, a [2048, 1] per-row scale, a
// rank-0 scalar).
func BenchmarkBinaryFloat32(b *testing.B) {
	backend := newTestBackend(b)
	defer backend.Finalize()
	out := []int{2048, 1536}
	for _, c := range []struct {
		name string
		rhs  []int
	}{{"same-shape", out}, {"bias-row", []int{1, 1536}}, {"per-row-column", []int{2048, 1}}, {"scalar", []int{}}} {
		node := &gobackend.Node{Shape: shapes.Make(dtypes.Float32, out...)}
		lhs, rhs := float32Buffer(out, 1), float32Buffer(c.rhs, 2)
		for _, fast := range []bool{true, false} {
			name := c.name + "/generic"
			if fast {
				name = c.name + "/avx512"
			}
			b.Run(name, func(b *testing.B) {
				cpu0 := processCPUTime()
				for b.Loop() {
					inputs := []*gobackend.Buffer{lhs, rhs}
					var res *gobackend.Buffer
					if fast {
						res, _ = execBinaryFloat32AVX512(binaryMul, execMul, backend, node, inputs, []bool{false, false})
					} else {
						res, _ = execMul(backend, node, inputs, []bool{false, false})
					}
					backend.PutBuffer(res)
				}
				n := float64(b.N) * float64(node.Shape.Size())
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/elem")
				b.ReportMetric(float64(processCPUTime()-cpu0)/n, "cpu-ns/elem")
			})
		}
	}
}
