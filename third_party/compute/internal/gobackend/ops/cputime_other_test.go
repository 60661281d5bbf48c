// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !unix

package ops

// processCPUTime is not measured on this platform (benchmarks then report 0 cpu-ns).
func processCPUTime() int64 { return 0 }
