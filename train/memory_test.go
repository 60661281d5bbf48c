package train

import (
	"math"
	"strings"
	"testing"
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
		if got, want := ParamCount(cfg.Model), float64(cfg.Model.NumParams()); got != want {
			t.Errorf("%s: ParamCount %v, NumParams %v", name, got, want)
		}
	}
}

// Sizes that cannot fit are refused up front with the estimate and the machine's memory.
func TestHugeSizesRefused(t *testing.T) {
	if MachineMemory() == 0 {
		t.Skip("no /proc/meminfo")
	}
	for _, set := range []string{"model.width=1000000000", "train.batch_size=1000000000", "model.layers=1000000000", "model.vocab_size=1000000000"} {
		_, err := LoadConfig(repoRoot()+"/configs/tiny.yaml", []string{set})
		if err == nil || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "this machine has") {
			t.Errorf("%s: %v", set, err)
		}
	}
	if e := EstimateMemory(DefaultConfig()); math.IsNaN(e.Total()) || e.Total() <= 0 {
		t.Errorf("estimate %+v", e)
	}
}
