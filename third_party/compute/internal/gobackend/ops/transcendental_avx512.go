// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package ops

// Vectorised float32 Exp, Logistic, Tanh, Erf, Log and Sqrt for AVX-512 (golem, see GOLEM_PATCH.md).
//
// Why: the generic kernels call math.Exp/math.Tanh per element in float64. After any AVX-512
// kernel has run (they leave the upper ZMM state dirty), math.Exp's legacy-SSE instructions pay
// the SSE/AVX transition penalty: 0.9-2.7 µs per call instead of 17 ns. These kernels stay in
// ZMM registers (fastmath.Exp32x16: Cephes' expf, 16 lanes at a time), split over the workers
// for large tensors.

import (
	"math"
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute/internal/fastmath"
	"github.com/gomlx/compute/internal/gobackend"
)

var transcendentalAVX512 = archsimd.X86.AVX512()

// unaryFloat32AVX512 applies kernel to 16 lanes at a time (the tail through a zero-padded
// array) over inputs, split over the backend's workers when large.
func unaryFloat32AVX512(backend *gobackend.Backend, inputs, outputs []float32, kernel func(archsimd.Float32x16) archsimd.Float32x16) {
	if OnCaller(backend, len(inputs), 4*unaryMinParallelizeChunk) { // no closure to allocate (golem)
		unaryRun(kernel, inputs, outputs)
		return
	}
	parallelChunks(backend, len(inputs), func(start, end int) { unaryRun(kernel, inputs[start:end], outputs[start:end]) })
}

// unaryRun applies kernel over in into out, 16 lanes at a time.
func unaryRun(kernel func(archsimd.Float32x16) archsimd.Float32x16, in, out []float32) {
	n := len(in)
	out = out[:n]
	i := 0
	for ; i+16 <= n; i += 16 {
		kernel(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&in[i])))).
			Store((*[16]float32)(unsafe.Pointer(&out[i])))
	}
	if i < n {
		var tail [16]float32
		copy(tail[:], in[i:])
		kernel(archsimd.LoadFloat32x16(&tail)).Store(&tail)
		copy(out[i:], tail[:n-i])
	}
}

// parallelChunks calls fn over [0, n) in chunks of 4*unaryMinParallelizeChunk elements.
func parallelChunks(backend *gobackend.Backend, n int, fn func(start, end int)) {
	ParallelRange(backend, n, 4*unaryMinParallelizeChunk, fn)
}

// logistic16 = 1 / (1 + e^-x), exact at the extremes (0 and 1).
func logistic16(x archsimd.Float32x16) archsimd.Float32x16 {
	one := archsimd.BroadcastFloat32x16(1)
	return one.Div(one.Add(fastmath.Exp32x16(x.Mul(archsimd.BroadcastFloat32x16(-1)))))
}

// tanh16 = 1 - 2/(e^(2x) + 1) for |x| >= 0.625, and an odd polynomial (Cephes tanhf) below,
// where the exp form would lose digits to cancellation.
func tanh16(x archsimd.Float32x16) archsimd.Float32x16 {
	const (
		t4 = -5.70498872745e-3
		t3 = 2.06390887954e-2
		t2 = -5.37397155531e-2
		t1 = 1.33314422036e-1
		t0 = -3.33332819422e-1
	)
	one := archsimd.BroadcastFloat32x16(1)
	two := archsimd.BroadcastFloat32x16(2)
	large := one.Sub(two.Div(fastmath.Exp32x16(x.Mul(two)).Add(one)))
	z := x.Mul(x)
	p := z.MulAdd(archsimd.BroadcastFloat32x16(t4), archsimd.BroadcastFloat32x16(t3))
	p = p.MulAdd(z, archsimd.BroadcastFloat32x16(t2))
	p = p.MulAdd(z, archsimd.BroadcastFloat32x16(t1))
	p = p.MulAdd(z, archsimd.BroadcastFloat32x16(t0))
	small := p.Mul(z).MulAdd(x, x)
	absX := x.AsInt32x16().And(archsimd.BroadcastInt32x16(math.MaxInt32)).AsFloat32x16()
	return small.Merge(large, absX.Less(archsimd.BroadcastFloat32x16(0.625)))
}

// execExpFloat32Fast, execLogisticFloat32Fast and execTanhFloat32Fast return false when AVX-512
// is not available (the callers then run the generic loops).
func execExpFloat32Fast(backend *gobackend.Backend, inputs, outputs []float32) bool {
	if !transcendentalAVX512 {
		return false
	}
	unaryFloat32AVX512(backend, inputs, outputs, fastmath.Exp32x16)
	return true
}

func execLogisticFloat32Fast(backend *gobackend.Backend, inputs, outputs []float32) bool {
	if !transcendentalAVX512 {
		return false
	}
	unaryFloat32AVX512(backend, inputs, outputs, logistic16)
	return true
}

func execTanhFloat32Fast(backend *gobackend.Backend, inputs, outputs []float32) bool {
	if !transcendentalAVX512 {
		return false
	}
	unaryFloat32AVX512(backend, inputs, outputs, tanh16)
	return true
}

func execErfFloat32Fast(backend *gobackend.Backend, inputs, outputs []float32) bool {
	if !transcendentalAVX512 {
		return false
	}
	unaryFloat32AVX512(backend, inputs, outputs, fastmath.Erf32x16)
	return true
}

func execLogFloat32Fast(backend *gobackend.Backend, inputs, outputs []float32) bool {
	if !transcendentalAVX512 {
		return false
	}
	unaryFloat32AVX512(backend, inputs, outputs, fastmath.Log32x16)
	return true
}

// execSqrtFloat32Fast is VSQRTPS: correctly rounded, so bit-identical to the generic
// float32(math.Sqrt(float64(x))) (AdamW takes the square root of every second moment).
func execSqrtFloat32Fast(backend *gobackend.Backend, inputs, outputs []float32) bool {
	if !transcendentalAVX512 {
		return false
	}
	unaryFloat32AVX512(backend, inputs, outputs, archsimd.Float32x16.Sqrt)
	return true
}
