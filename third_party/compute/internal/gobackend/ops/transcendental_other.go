// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package ops

import "github.com/gomlx/compute/internal/gobackend"

// Without AVX-512 kernels the generic loops run (see transcendental_avx512.go).
func execExpFloat32Fast(*gobackend.Backend, []float32, []float32) bool      { return false }
func execLogisticFloat32Fast(*gobackend.Backend, []float32, []float32) bool { return false }
func execTanhFloat32Fast(*gobackend.Backend, []float32, []float32) bool     { return false }
func execErfFloat32Fast(*gobackend.Backend, []float32, []float32) bool      { return false }
func execLogFloat32Fast(*gobackend.Backend, []float32, []float32) bool      { return false }
func execSqrtFloat32Fast(*gobackend.Backend, []float32, []float32) bool     { return false }
