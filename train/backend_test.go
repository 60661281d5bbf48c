package train

import (
	"os"
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
