// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build unix

package ops

import "syscall"

// processCPUTime returns the user+system CPU time of the process in nanoseconds: benchmarks
// report it next to wall time because on a shared machine the wall time mostly measures waiting.
func processCPUTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
