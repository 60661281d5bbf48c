// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

// Package tile holds register-level building blocks shared by the Go backend's kernels: the
// 16x16 float32 transpose used by the matmul packing (dot/matmul) and by Transpose (ops).
package tile

//go:generate go run ../../cmd/gemm_kernel_generator -tile

// Transpose16x16Float32 sets dst[j*dstStride+i] = src[i*srcStride+j] for i, j < 16 (strides in
// elements). Both slices must hold the whole 16x16 block they address.
func Transpose16x16Float32(src []float32, srcStride int, dst []float32, dstStride int) {
	_ = src[15*srcStride+15]
	_ = dst[15*dstStride+15]
	transpose16x16(src, srcStride, dst, dstStride)
}

func transpose16x16Generic(src []float32, srcStride int, dst []float32, dstStride int) {
	for i := range 16 {
		for j := range 16 {
			dst[j*dstStride+i] = src[i*srcStride+j]
		}
	}
}
