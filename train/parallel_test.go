package train

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-ml/golem/corpus"
)

// The sharded path itself needs XLA (the Go backend has no sharding): bench/gpu's
// TestGPUDataParallelMatchesSingleDevice compares its loss curve with the single-device one.
// Here: "auto" on the one-device Go backend trains unsharded, and "on" and bad values get errors
// that name the key.
func TestDataParallelOnTheGoBackend(t *testing.T) {
	cfg := tinyConfig(t, "train.steps=2", "train.eval_every=0", "train.data_parallel=auto")
	if _, err := Pretrain(context.Background(), cfg, Options{Backend: backend(t), Text: corpus.TextSource{}, Quiet: true, Log: &bytes.Buffer{}}); err != nil {
		t.Fatalf("data_parallel=auto on one device: %v", err)
	}
	cfg = tinyConfig(t, "train.steps=2", "train.eval_every=0", "train.data_parallel=on")
	_, err := Pretrain(context.Background(), cfg, Options{Backend: backend(t), Text: corpus.TextSource{}, Quiet: true, Log: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "train.data_parallel") {
		t.Fatalf("data_parallel=on on the Go backend: want an error naming train.data_parallel, got %v", err)
	}
	_, err = LoadConfig(filepath.Join(repoRoot(), "configs/tiny.yaml"), []string{"train.data_parallel=yes"})
	if err == nil || !strings.Contains(err.Error(), "train.data_parallel") {
		t.Fatalf("want an error naming train.data_parallel, got %v", err)
	}
}
