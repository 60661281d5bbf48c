// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fusedops

// Float32 softmax over the last axis with AVX-512, rows split over the workers (golem, see
// GOLEM_PATCH.md): the three passes of fusedSoftmax (max, exp and sum, scale) run 16 lanes at a
// time with fastmath.Exp32x16 instead of one fastmath.Exp32 call per element.

import (
	"math"
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute/internal/fastmath"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

var softmaxAVX512 = archsimd.X86.AVX512()

// fusedSoftmaxLastAxisFloat32 returns false when it does not apply (no AVX-512).
func fusedSoftmaxLastAxisFloat32(backend *gobackend.Backend, input, output []float32, rows, cols int) bool {
	if !softmaxAVX512 || cols < 16 {
		return false
	}
	rowsPerChunk := max(1, 16384/cols)
	if ops.OnCaller(backend, rows, rowsPerChunk) { // no closure to allocate (golem: a decode step's softmax)
		softmaxRows(input, output, cols, 0, rows)
	} else {
		ops.ParallelRange(backend, rows, rowsPerChunk, func(start, end int) { softmaxRows(input, output, cols, start, end) })
	}
	return true
}

// softmaxRows computes rows [r0, r1) of cols values each.
func softmaxRows(input, output []float32, cols, r0, r1 int) {
	for r := r0; r < r1; r++ {
		softmaxRowFloat32(input[r*cols:(r+1)*cols], output[r*cols:(r+1)*cols])
	}
}

func softmaxRowFloat32(in, out []float32) {
	n := len(in)
	out = out[:n]
	ptr := func(s []float32, i int) *[16]float32 { return (*[16]float32)(unsafe.Pointer(&s[i])) }
	// Pass 1: max.
	maxV := archsimd.BroadcastFloat32x16(float32(math.Inf(-1)))
	var m float32
	i := 0
	for ; i+16 <= n; i += 16 {
		maxV = maxV.Max(archsimd.LoadFloat32x16(ptr(in, i)))
	}
	// The lanes' maximum by halves (golem: the builtin max per lane, with its NaN and signed-zero
	// branches, cost as much as the row's exponentials at 129 columns). A NaN anywhere makes the
	// whole row NaN whichever maximum is taken, and -0 or +0 as the maximum gives the same x-m.
	m8 := maxV.GetHi().Max(maxV.GetLo())
	m4 := m8.GetHi().Max(m8.GetLo())
	m = max(m4.GetElem(0), m4.GetElem(1), m4.GetElem(2), m4.GetElem(3))
	for j := i; j < n; j++ {
		m = max(m, in[j])
	}
	var lanes [16]float32
	// Pass 2: exp(x - max) and sum.
	mv := archsimd.BroadcastFloat32x16(m)
	var sumV archsimd.Float32x16
	for i = 0; i+16 <= n; i += 16 {
		e := fastmath.Exp32x16(archsimd.LoadFloat32x16(ptr(in, i)).Sub(mv))
		e.Store(ptr(out, i))
		sumV = sumV.Add(e)
	}
	sumV.Store(&lanes)
	var sum float32
	for _, v := range lanes {
		sum += v
	}
	for j := i; j < n; j++ {
		out[j] = fastmath.Exp32(in[j] - m)
		sum += out[j]
	}
	// Pass 3: scale.
	inv := 1 / sum
	iv := archsimd.BroadcastFloat32x16(inv)
	for i = 0; i+16 <= n; i += 16 {
		archsimd.LoadFloat32x16(ptr(out, i)).Mul(iv).Store(ptr(out, i))
	}
	for j := i; j < n; j++ {
		out[j] *= inv
	}
}
