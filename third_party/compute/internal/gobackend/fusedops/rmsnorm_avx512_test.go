// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fusedops

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

// TestRMSNormFusion builds RMSNorm as GoMLX writes it (x / sqrt(ReduceSum(x·x)·(1/C) + eps) ·
// gain) and checks that the compiled function fused it into one node and gives the bits of the
// same chain left unfused (the chain's Sqrt also returned as an output: a second user), for
// widths with and without a 16-float tail, with and without the gain, on 1 and 2 workers.
func TestRMSNormFusion(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512: the fusion is off")
	}
	backend := testutil.Must1(gobackend.New("")).(*gobackend.Backend)
	defer backend.Finalize()
	build := func(N, C int, withGain, keepSqrt bool) (compute.Executable, *gobackend.Function) {
		builder := backend.Builder(fmt.Sprintf("rms%d", N))
		f := builder.Main()
		x := testutil.Must1(f.Parameter("x", shapes.Make(dtypes.Float32, N, C), nil))
		q := testutil.Must1(f.Mul(x, x))
		s := testutil.Must1(f.ReduceSum(q, 1))
		m := testutil.Must1(f.Mul(s, testutil.Must1(f.Constant([]float32{1 / float32(C)}))))
		r := testutil.Must1(f.Reshape(m, N, 1))
		a := testutil.Must1(f.Add(r, testutil.Must1(f.Constant([]float32{1e-5}))))
		d := testutil.Must1(f.Sqrt(a))
		y := testutil.Must1(f.Div(x, d))
		if withGain {
			gain := testutil.Must1(f.Parameter("gain", shapes.Make(dtypes.Float32, C), nil))
			y = testutil.Must1(f.Mul(y, testutil.Must1(f.Reshape(gain, 1, C))))
		}
		outs := []compute.Value{y}
		if keepSqrt {
			outs = append(outs, d)
		}
		testutil.Must(f.Return(outs, nil))
		return testutil.Must1(builder.Compile()), f.(*gobackend.Function)
	}
	fused := func(f *gobackend.Function) bool {
		for _, n := range f.Nodes {
			if _, ok := n.Data.(*rmsNorm); ok {
				return true
			}
		}
		return false
	}
	for _, workers := range []int{1, 2} {
		backend.Workers.SetMaxParallelism(workers)
		for _, c := range [][2]int{{1, 64}, {16, 64}, {3, 37}, {600, 128}, {2, 8}} {
			for _, withGain := range []bool{true, false} {
				N, C := c[0], c[1]
				t.Run(fmt.Sprintf("workers=%d/%dx%d/gain=%v", workers, N, C, withGain), func(t *testing.T) {
					xs, gs := make([]float32, N*C), make([]float32, C)
					for i := range xs {
						xs[i] = float32((i*37)%101)/7 - 5 + float32(i%3)*0.013
					}
					for i := range gs {
						gs[i] = 1 + float32(i%5)/10
					}
					run := func(e compute.Executable) []float32 {
						xb := testutil.Must1(backend.BufferFromFlatData(0, xs, shapes.Make(dtypes.Float32, N, C)))
						in := []compute.Buffer{xb}
						if withGain {
							in = append(in, testutil.Must1(backend.BufferFromFlatData(0, gs, shapes.Make(dtypes.Float32, C))))
						}
						outs := testutil.Must1(e.Execute(in, nil, 0))
						got := make([]float32, N*C)
						testutil.Must(outs[0].ToFlatData(got))
						return got
					}
					eFused, fFused := build(N, C, withGain, false)
					ePlain, fPlain := build(N, C, withGain, true)
					if want := N*C >= 16; fused(fFused) != want {
						t.Fatalf("fused = %v, want %v (%d elements)", fused(fFused), want, N*C)
					}
					if fused(fPlain) {
						t.Fatal("fused although the Sqrt is also an output")
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
	}
}
