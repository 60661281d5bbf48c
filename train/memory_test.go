package train

import (
	"math"
	"strings"
	"testing"

	"github.com/golem-ml/golem/internal/memory"
)

// The closed-form parameter count agrees with the parameter list for every shipped shape.
func TestParamCountMatchesParamShapes(t *testing.T) {
	for _, name := range []string{"tiny", "small", "llama-tiny", "gpt2-124m"} {
		cfg, err := LoadConfig(repoRoot()+"/configs/"+name+".yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Model.VocabSize == 0 {
			cfg.Model.VocabSize = 512
		}
		if got, want := memory.ParamCount(cfg.Model), float64(cfg.Model.NumParams()); got != want {
			t.Errorf("%s: ParamCount %v, NumParams %v", name, got, want)
		}
	}
}

// Sizes that cannot fit are refused up front with the estimate and the machine's memory.
func TestHugeSizesRefused(t *testing.T) {
	if memory.MachineMemory() == 0 {
		t.Skip("no /proc/meminfo")
	}
	for _, set := range []string{"model.width=1000000000", "train.batch_size=1000000000", "model.layers=1000000000", "model.vocab_size=1000000000"} {
		_, err := LoadConfig(repoRoot()+"/configs/tiny.yaml", []string{set})
		if err == nil || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "this machine has") {
			t.Errorf("%s: %v", set, err)
		}
	}
	if e := EstimateMemory(DefaultConfig(), 1e6); math.IsNaN(e.Total()) || e.Total() <= 0 {
		t.Errorf("estimate %+v", e)
	}
}

// Activations count only where the backward pass runs in host memory (the Go backend), and the
// optimizer only for the parameters it updates (LoRA's few, not the whole model).
func TestCheckMemoryParts(t *testing.T) {
	have := float64(memory.MachineMemory())
	if have == 0 {
		t.Skip("no /proc/meminfo")
	}
	cfg := tinyConfig(t)
	cfg.Model.VocabSize = 257
	per := EstimateMemory(cfg, 0).Activations / float64(cfg.Train.BatchSize) // per sequence
	cfg.Train.BatchSize = int(2*have/per) + 1
	if err := CheckMemory(cfg, 0, false); err != nil {
		t.Fatalf("host-side parts alone fit, got %v", err)
	}
	if err := CheckMemory(cfg, 0, true); err == nil || !strings.Contains(err.Error(), "activations") {
		t.Fatalf("activations on the host: %v", err)
	}
	big := tinyConfig(t)
	big.Model.VocabSize = 257
	big.Model.Layers, big.Model.Width, big.Model.Heads = 1, 12288, 16 // ~1.8e9 parameters: 7 GB of weights, 29 GB with AdamW
	big.Model.MLPHidden = 0
	big.Model.Defaults()
	p := memory.ParamCount(big.Model)
	if 4*p > have || 16*p < have {
		t.Skipf("machine memory %.0f GB is outside this test's range", have/1e9)
	}
	if err := CheckMemory(big, 1e6, false); err != nil {
		t.Errorf("LoRA-sized optimizer: %v", err)
	}
	if err := CheckMemory(big, p, false); err == nil {
		t.Error("a full optimizer for 1.8e9 parameters accepted")
	}
}
