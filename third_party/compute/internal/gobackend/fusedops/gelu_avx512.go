// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fusedops

import (
	"math"
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute/internal/fastmath"
)

// geluChunkFloat32 is the exact GELU, x·(1 + erf(x/√2))/2, 16 lanes at a time with
// fastmath.Erf32x16 (golem, see GOLEM_PATCH.md) instead of one float64 math.Erf per element.
func geluChunkFloat32(input, output []float32) {
	if !softmaxAVX512 {
		geluChunk(input, output)
		return
	}
	n := len(input)
	output = output[:n]
	half := archsimd.BroadcastFloat32x16(0.5)
	sqrt2Inv := archsimd.BroadcastFloat32x16(float32(1 / math.Sqrt2))
	gelu := func(x archsimd.Float32x16) archsimd.Float32x16 {
		return x.Mul(half).Mul(fastmath.Erf32x16(x.Mul(sqrt2Inv)).Add(archsimd.BroadcastFloat32x16(1)))
	}
	i := 0
	for ; i+16 <= n; i += 16 {
		gelu(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&input[i])))).
			Store((*[16]float32)(unsafe.Pointer(&output[i])))
	}
	if i < n {
		var tail [16]float32
		copy(tail[:], input[i:])
		gelu(archsimd.LoadFloat32x16(&tail)).Store(&tail)
		copy(output[i:], tail[:n-i])
	}
}
