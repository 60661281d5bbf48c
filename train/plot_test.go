package train

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	for _, r := range [][2]float64{{1.8, 2.6}, {0.5, 5.6}, {3.21, 3.29}, {0, 100}} {
		ticks := niceTicks{}.Ticks(r[0], r[1])
		if len(ticks) < 4 || len(ticks) > 10 {
			t.Errorf("%v: %d labels %v", r, len(ticks), ticks)
		}
	}
}

// A run with a single validation point still gets a loss.png (the point is a marker).
func TestPlotLossSingleValidationPoint(t *testing.T) {
	dir := t.TempDir()
	metrics := filepath.Join(dir, "metrics.jsonl")
	os.WriteFile(metrics, []byte(`{"step":1,"loss":5.5}`+"\n"+`{"step":2,"loss":4.1}`+"\n"+`{"step":2,"val_loss":4.3}`+"\n"), 0o644)
	png := filepath.Join(dir, "loss.png")
	if err := PlotLoss(metrics, png, "tiny"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Fatalf("loss.png: %v", err)
	}
}
