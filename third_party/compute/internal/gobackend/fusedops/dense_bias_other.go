// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package fusedops

import "github.com/gomlx/compute/internal/gobackend"

// addBiasFloat32 is fusedDenseAddBias without AVX-512 (see dense_bias_avx512.go).
func addBiasFloat32(_ *gobackend.Backend, output, bias []float32) { fusedDenseAddBias(output, bias) }
