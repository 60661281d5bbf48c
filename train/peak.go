package train

import (
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// MatmulPeak measures the backend's float32 matmul throughput in GFLOP/s: the best of a few
// N×N×N products (N = 1024 on CPUs, 4096 on accelerators). It is the denominator of MFU.
// The result is measured once per backend and cached.
func MatmulPeak(backend compute.Backend) float64 {
	if v, ok := peaks.Load(backend); ok {
		return v.(float64)
	}
	n := 1024
	desc := strings.ToLower(backend.Name() + " " + backend.Description())
	for _, accel := range []string{"cuda", "gpu", "rocm", "tpu"} {
		if strings.Contains(desc, accel) {
			n = 4096
		}
	}
	exec := MustNewExec(backend, func(a, b *Node) *Node { return MatMul(a, b) })
	defer exec.Finalize()
	a := tensors.FromShape(shapes.Make(dtypes.Float32, n, n))
	best := 0.0
	for i := 0; i < 4; i++ {
		start := time.Now()
		out := exec.MustCall1(a, a)
		out.MaterializeLocal()
		if gf := 2 * float64(n*n*n) / time.Since(start).Seconds() / 1e9; i > 0 && gf > best {
			best = gf
		}
		out.FinalizeAll()
	}
	peaks.Store(backend, best)
	return best
}

var peaks sync.Map // compute.Backend -> float64
