// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package fusedops

// geluChunkFloat32 is geluChunk without AVX-512 (see gelu_avx512.go).
func geluChunkFloat32(input, output []float32) { geluChunk(input, output) }
