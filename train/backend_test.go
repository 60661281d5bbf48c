package train

import (
	"os"
	"strings"
	"testing"
)

// TestPatchedWorkerPoolIsLinked checks the build uses third_party/compute's deadlock-free pool,
// so NewBackend keeps the Go backend's parallel op execution instead of falling back.
func TestPatchedWorkerPoolIsLinked(t *testing.T) {
	b, err := NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(poolPatchedEnv) != "1" {
		t.Fatalf("%s is not set: go.mod's replace of github.com/gomlx/compute by third_party/compute is not in effect", poolPatchedEnv)
	}
	if b.Name() == "" {
		t.Fatal("no backend name")
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
