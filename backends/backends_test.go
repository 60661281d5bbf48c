package backends

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"

	"github.com/gomlx/go-xla/compute/xla"
)

// TestWorkerPoolNeverDeadlocks runs, on the Go backend, the pattern that hangs upstream's worker
// pool: graph nodes run as pool tasks, and a node holding the only slot fans its fused GELU out
// over the pool (WaitToStart per chunk, then waits for them). Upstream's pool waits forever for a
// free slot; third_party/compute's (go.mod replaces github.com/gomlx/compute with it) runs the
// chunks on the caller. So this fails, by its watchdog, when the build links upstream's pool,
// and New's parallel op execution would hang training.
func TestWorkerPoolNeverDeadlocks(t *testing.T) {
	b, err := compute.NewWithConfig("go:parallelism=1,ops_parallel")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	const n = 256 // GELU over n² = 65,536 elements: 16 chunks of the pool's 4,096
	a := make([]float32, n*n)
	for i := 0; i < n; i++ {
		a[i*n+i] = 0.5
	}
	exec := MustNewExec(b, func(x *Node) *Node {
		return ReduceAllSum(activation.Gelu(ConvertDType(MatMul(x, x), dtypes.Float32)))
	})
	defer exec.Finalize()
	done := make(chan float64, 1)
	go func() {
		done <- float64(tensors.ToScalar[float32](exec.MustCall1(tensors.FromFlatDataAndDimensions(a, n, n))))
	}()
	select {
	case got := <-done:
		// (a·a) = 0.25·I: n values of gelu(0.25) = 0.25·Φ(0.25), the rest gelu(0) = 0.
		want := n * 0.25 * 0.5 * (1 + math.Erf(0.25/math.Sqrt2))
		if math.Abs(got-want) > 1e-4*want {
			t.Errorf("sum of GELU(a·a) = %v, want %v", got, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("a graph node fanning out over a full worker pool deadlocked: the build links upstream's worker pool, not third_party/compute's (is go.mod's replace of github.com/gomlx/compute in effect?)")
	}
}

// The goexperiment.simd build tag files agree with how the test binary was built, so the
// start-up warning fires exactly when the SIMD kernels are missing.
func TestSIMDBuildTag(t *testing.T) {
	exp, ok := os.LookupEnv("GOEXPERIMENT")
	if !ok {
		t.Skip("GOEXPERIMENT not set in the environment")
	}
	if want := strings.Contains(exp, "simd") && !strings.Contains(exp, "nosimd"); simdBuild != want {
		t.Errorf("GOEXPERIMENT=%q but simdBuild = %v", exp, simdBuild)
	}
}

// With no name and no $GOMLX_BACKEND, New falls back to the Go backend where no PJRT plugin
// is installed (as on the build machines); names it cannot create are errors, never panics.
func TestNewFallsBackAndNeverPanics(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	b, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if len(xla.GetAvailablePlugins()) == 0 && b.String() != "go" {
		t.Errorf("no PJRT plugin installed, but New(\"\") chose %q", b.String())
	}
	for _, name := range []string{"nosuch", "xla:/nonexistent/pjrt_plugin.so"} {
		if _, err := New(name); err == nil || !strings.Contains(err.Error(), "backend") {
			t.Errorf("New(%q): %v, want an error naming the backend", name, err)
		}
	}
}
