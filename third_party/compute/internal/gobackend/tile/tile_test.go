// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package tile

import "testing"

func TestTranspose16x16Float32(t *testing.T) {
	const srcStride, dstStride = 19, 23
	src := make([]float32, 15*srcStride+16)
	for i := range src {
		src[i] = float32(i)
	}
	dst := make([]float32, 15*dstStride+16)
	Transpose16x16Float32(src, srcStride, dst, dstStride)
	for i := range 16 {
		for j := range 16 {
			if got, want := dst[j*dstStride+i], src[i*srcStride+j]; got != want {
				t.Fatalf("dst[%d][%d] = %v, want %v", j, i, got, want)
			}
		}
	}
}
