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
	"github.com/gomlx/compute/support/testutil"
)

// TestRoPEFusion builds RoPE as golem writes it (x·cos + [-x₂, x₁]·sin) and checks that the
// compiled function fused it into one node with the bits of the same chain left unfused (its
// rotated halves also returned: a second user), for tables broadcast over heads and batch,
// half-widths below and at 16 floats (scalar and vector rows), operands in either order.
func TestRoPEFusion(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512: the fusion is off")
	}
	backend := newTestBackend(t)
	defer backend.Finalize()
	for _, c := range []struct {
		x, table []int
		swap     bool
	}{
		{[]int{1, 8, 16}, []int{1, 1, 16}, false},       // a decode step: [B, heads, D], tables [B, 1, D]
		{[]int{3, 6, 16}, []int{3, 1, 16}, true},        // batch 3, operands swapped
		{[]int{2, 4, 5, 64}, []int{1, 1, 5, 64}, false}, // prefill: [B, heads, T, D], tables [1, 1, T, D]
		{[]int{2, 3, 32}, []int{2, 3, 32}, true},        // full tables, vector rows
	} {
		t.Run(fmt.Sprint(c.x, c.table, c.swap), func(t *testing.T) {
			rank, D := len(c.x), c.x[len(c.x)-1]
			build := func(keepRotated bool) (compute.Executable, *gobackend.Function) {
				builder := backend.Builder("rope")
				f := builder.Main()
				x := testutil.Must1(f.Parameter("x", shapes.Make(dtypes.Float32, c.x...), nil))
				cos := testutil.Must1(f.Parameter("cos", shapes.Make(dtypes.Float32, c.table...), nil))
				sin := testutil.Must1(f.Parameter("sin", shapes.Make(dtypes.Float32, c.table...), nil))
				starts, limits, strides := make([]int, rank), append([]int{}, c.x...), make([]int, rank)
				for i := range strides {
					strides[i] = 1
				}
				limits[rank-1] = D / 2
				x1 := testutil.Must1(f.Slice(x, starts, limits, strides))
				starts2 := append([]int{}, starts...)
				starts2[rank-1] = D / 2
				x2 := testutil.Must1(f.Slice(x, starts2, c.x, strides))
				r := testutil.Must1(f.Concatenate(rank-1, testutil.Must1(f.Neg(x2)), x1))
				a, b := testutil.Must1(f.Mul(x, cos)), testutil.Must1(f.Mul(r, sin))
				if c.swap {
					a, b = testutil.Must1(f.Mul(cos, x)), testutil.Must1(f.Mul(sin, r))
					a, b = b, a
				}
				y := testutil.Must1(f.Add(a, b))
				outs := []compute.Value{y}
				if keepRotated {
					outs = append(outs, r)
				}
				testutil.Must(f.Return(outs, nil))
				return testutil.Must1(builder.Compile()), f.(*gobackend.Function)
			}
			fill := func(dims []int, seed int) []float32 {
				v := make([]float32, shapes.Make(dtypes.Float32, dims...).Size())
				for i := range v {
					v[i] = float32((i*seed)%97)/13 - 3.3 + float32(i%7)*0.0123
				}
				return v
			}
			xs, cs, ss := fill(c.x, 37), fill(c.table, 11), fill(c.table, 23)
			run := func(e compute.Executable) []float32 {
				in := []compute.Buffer{
					testutil.Must1(backend.BufferFromFlatData(0, xs, shapes.Make(dtypes.Float32, c.x...))),
					testutil.Must1(backend.BufferFromFlatData(0, cs, shapes.Make(dtypes.Float32, c.table...))),
					testutil.Must1(backend.BufferFromFlatData(0, ss, shapes.Make(dtypes.Float32, c.table...))),
				}
				outs := testutil.Must1(e.Execute(in, nil, 0))
				got := make([]float32, len(xs))
				testutil.Must(outs[0].ToFlatData(got))
				return got
			}
			fused := func(f *gobackend.Function) bool {
				for _, n := range f.Nodes {
					if _, ok := n.Data.(*ropeFused); ok {
						return true
					}
				}
				return false
			}
			eFused, fFused := build(false)
			ePlain, fPlain := build(true)
			if !fused(fFused) || fused(fPlain) {
				t.Fatalf("fused: %v alone, %v with the rotated halves also an output; want true, false", fused(fFused), fused(fPlain))
			}
			got, want := run(eFused), run(ePlain)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("output[%d] = %g, want %g (unfused)", i, got[i], want[i])
				}
			}
		})
	}
}
