// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package fusedops

import "github.com/gomlx/compute/internal/gobackend"

// Without AVX-512 fusedSoftmax runs (see softmax_avx512.go).
func fusedSoftmaxLastAxisFloat32(*gobackend.Backend, []float32, []float32, int, int) bool {
	return false
}
