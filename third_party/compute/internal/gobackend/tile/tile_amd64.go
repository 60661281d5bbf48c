// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package tile

import "simd/archsimd"

var hasAVX512 = archsimd.X86.AVX512()

// transpose16x16AVX512 is in transpose_amd64.s: 16 loads, 64 shuffles, 16 stores.
//
//go:noescape
func transpose16x16AVX512(src *float32, srcStride int, dst *float32, dstStride int)

func transpose16x16(src []float32, srcStride int, dst []float32, dstStride int) {
	if hasAVX512 {
		transpose16x16AVX512(&src[0], srcStride, &dst[0], dstStride)
		return
	}
	transpose16x16Generic(src, srcStride, dst, dstStride)
}
