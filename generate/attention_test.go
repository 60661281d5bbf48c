package generate_test

import (
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/train"
)

// TestAttentionMaps: one [H, n, n] map per layer, each row a causal probability distribution.
func TestAttentionMaps(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	cfg, err := train.LoadConfig(filepath.Join(root, "configs/tiny.yaml"), []string{"out_dir=" + t.TempDir(), "model.vocab_size=256"})
	if err != nil {
		t.Fatal(err)
	}
	backend, err := backends.New("go")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(cfg, backend)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{82, 79, 77, 69, 79, 58} // "ROMEO:"
	n, H := len(ids), cfg.Model.Heads
	probs, err := generate.Attention(backend, tr.Store, cfg.Model, tr.InferenceWeights, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != cfg.Model.Layers {
		t.Fatalf("%d maps, want one per layer (%d)", len(probs), cfg.Model.Layers)
	}
	for l, p := range probs {
		if len(p) != H*n*n {
			t.Fatalf("layer %d: %d values, want H*n*n = %d", l, len(p), H*n*n)
		}
		for h := 0; h < H; h++ {
			for i := 0; i < n; i++ {
				row, sum := p[(h*n+i)*n:(h*n+i+1)*n], 0.0
				for j, x := range row {
					if j > i && x != 0 {
						t.Fatalf("layer %d head %d: query %d attends to later key %d (%g)", l, h, i, j, x)
					}
					sum += float64(x)
				}
				if math.Abs(sum-1) > 1e-5 {
					t.Fatalf("layer %d head %d row %d sums to %g", l, h, i, sum)
				}
			}
		}
	}
	if _, err := generate.Attention(backend, tr.Store, cfg.Model, tr.InferenceWeights, make([]int, cfg.Model.SeqLen+1)); err == nil || !strings.Contains(err.Error(), "model.seq_len") {
		t.Errorf("too many tokens: want an error naming model.seq_len, got %v", err)
	}
}
