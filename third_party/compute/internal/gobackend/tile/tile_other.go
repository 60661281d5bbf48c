// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package tile

func transpose16x16(src []float32, srcStride int, dst []float32, dstStride int) {
	transpose16x16Generic(src, srcStride, dst, dstStride)
}
