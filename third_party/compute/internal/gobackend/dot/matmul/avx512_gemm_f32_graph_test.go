// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul_test

import (
	"fmt"
	"math"
	"simd/archsimd"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/internal/gobackend/defaultpkgs"
	"github.com/gomlx/compute/support/backendtest"
	"github.com/gomlx/compute/support/testutil"
)

// TestGemmDotGeneralGraph runs DotGeneral through a graph with the default registrations (the
// 6x64 GEMM for float32): upstream's DotGeneral suite, plus a transposed lhs (the weight gradient
// xᵀ·dy, contracting the first axis), batched and with a transposed rhs, at sizes that take the
// packed path, against a float64 reference.
func TestGemmDotGeneralGraph(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	backend, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	t.Run("upstream", func(t *testing.T) { backendtest.TestDotGeneral(t, backend) })

	const b, k, m, n = 3, 70, 45, 130
	lhsFlat := make([]float32, b*k*m)
	rhsFlat := make([]float32, b*k*n)
	for i := range lhsFlat {
		lhsFlat[i] = float32(i%13)/7 - 0.9
	}
	for i := range rhsFlat {
		rhsFlat[i] = float32(i%11)/5 - 1.1
	}
	for _, c := range []struct {
		name                 string
		rhsTransposed        bool
		lhsAt, rhsAt         func(bi, i, kk int) float32
		lhsDims, rhsDims     []int
		lhsContract, rhsCont int
	}{
		{name: "lhs[B,K,M]·rhs[B,K,N]", lhsDims: []int{b, k, m}, rhsDims: []int{b, k, n}, lhsContract: 1, rhsCont: 1,
			lhsAt: func(bi, i, kk int) float32 { return lhsFlat[(bi*k+kk)*m+i] },
			rhsAt: func(bi, j, kk int) float32 { return rhsFlat[(bi*k+kk)*n+j] }},
		{name: "lhs[B,K,M]·rhs[B,N,K]", lhsDims: []int{b, k, m}, rhsDims: []int{b, n, k}, lhsContract: 1, rhsCont: 2,
			lhsAt: func(bi, i, kk int) float32 { return lhsFlat[(bi*k+kk)*m+i] },
			rhsAt: func(bi, j, kk int) float32 { return rhsFlat[(bi*n+j)*k+kk] }},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := testutil.Exec1(backend, nil, func(f compute.Function, _ []compute.Value) (compute.Value, error) {
				lhs, err := f.Constant(lhsFlat, c.lhsDims...)
				if err != nil {
					return nil, err
				}
				rhs, err := f.Constant(rhsFlat, c.rhsDims...)
				if err != nil {
					return nil, err
				}
				return f.DotGeneral(lhs, []int{c.lhsContract}, []int{0}, rhs, []int{c.rhsCont}, []int{0}, compute.DotGeneralConfig{})
			})
			if err != nil {
				t.Fatal(err)
			}
			out := got.([][][]float32)
			for bi := range b {
				for i := range m {
					for j := range n {
						var want float64
						for kk := range k {
							want += float64(c.lhsAt(bi, i, kk)) * float64(c.rhsAt(bi, j, kk))
						}
						if diff := math.Abs(float64(out[bi][i][j]) - want); diff > 1e-3 {
							t.Fatalf("%s: out[%d][%d][%d] = %g, want %g", fmt.Sprint(c.name), bi, i, j, out[bi][i][j], want)
						}
					}
				}
			}
		})
	}
}
