// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"sync/atomic"

	"github.com/gomlx/compute/internal/gobackend"
)

// ParallelRange calls fn over [0, n) in chunks of `chunk`, pulled by the backend's workers (the
// caller works too); n of at most 2 chunks runs on the caller (golem, see GOLEM_PATCH.md).
func ParallelRange(backend *gobackend.Backend, n, chunk int, fn func(start, end int)) {
	if OnCaller(backend, n, chunk) {
		fn(0, n)
		return
	}
	var next atomic.Int64
	backend.Workers.Saturate(func() {
		for {
			start := int(next.Add(int64(chunk)) - int64(chunk))
			if start >= n {
				return
			}
			fn(start, min(start+chunk, n))
		}
	})
}

// OnCaller reports whether ParallelRange(backend, n, chunk, fn) runs fn on the caller alone. A
// kernel on a hot path checks it first and calls its loop directly: a closure passed to
// ParallelRange is heap-allocated at every call, split or not (golem: most ops of a decode step
// are one chunk).
func OnCaller(backend *gobackend.Backend, n, chunk int) bool {
	return backend == nil || !backend.Workers.IsEnabled() || n <= 2*chunk
}
