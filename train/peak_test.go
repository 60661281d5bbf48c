package train

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The MFU denominator: the config wins, known GPUs come from the table, anything else is
// measured once and then read from the cache (so it no longer moves from run to run).
func TestPeakSources(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	measured := 0
	measure := func() float64 { measured++; return 61.5 }

	if p := peakFor("NVIDIA H200", "bfloat16", 100, measure); p.GFlops != 100e3 || !strings.Contains(p.Source, "train.peak_tflops") {
		t.Errorf("config override: %+v", p)
	}
	if p := peakFor("NVIDIA H200", "bfloat16", 0, measure); p.GFlops != 790e3 || !strings.HasPrefix(p.Source, "table") {
		t.Errorf("H200 bf16: %+v, want 790 TFLOP/s from the table", p)
	}
	if p := peakFor("NVIDIA H200", "float32", 0, measure); p.GFlops != 395e3 {
		t.Errorf("H200 float32 (TF32): %+v, want 395 TFLOP/s", p)
	}
	if measured != 0 {
		t.Fatalf("measured %d times for known devices", measured)
	}

	cpu := "Some CPU, 2 cores (Go Backend)"
	first := peakFor(cpu, "float32", 0, measure)
	second := peakFor(cpu, "float32", 0, measure)
	if measured != 1 || first.GFlops != 61.5 || second.GFlops != 61.5 {
		t.Fatalf("unknown device: measured %d times, figures %v then %v; want one measurement, then the cache", measured, first.GFlops, second.GFlops)
	}
	if !strings.Contains(second.Source, "cached") {
		t.Errorf("second lookup source %q does not say it is cached", second.Source)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "golem", "peak.json")); err != nil {
		t.Errorf("no cache file: %v", err)
	}
	peakFor(cpu, "bfloat16", 0, measure) // another dtype is another measurement
	if measured != 2 {
		t.Errorf("bfloat16 on the same CPU: measured %d times in all, want 2", measured)
	}
}

// MatmulGFlops returns one finite, positive rate per timed product (the warm-up is not one).
func TestMatmulGFlops(t *testing.T) {
	gs := MatmulGFlops(backend(t), "float32", 64, 3)
	if len(gs) != 3 {
		t.Fatalf("%d rates for 3 timed products: %v", len(gs), gs)
	}
	for _, g := range gs {
		if !(g > 0) || math.IsInf(g, 0) {
			t.Errorf("rates %v: want finite and positive", gs)
		}
	}
}

func TestPeakTFlopsValidated(t *testing.T) {
	_, err := LoadConfig(filepath.Join(repoRoot(), "configs/tiny.yaml"), []string{"train.peak_tflops=-1"})
	if err == nil || !strings.Contains(err.Error(), "train.peak_tflops") {
		t.Fatalf("want an error naming train.peak_tflops, got %v", err)
	}
}

// A test binary carries no VCS stamp; the cache key still names its build (by the executable's
// hash), so a binary with other kernels never reuses another's measured peak.
func TestPeakCacheKeyNamesTheBuild(t *testing.T) {
	k := kernelsBuild()
	if !strings.HasPrefix(k, " | binary ") || len(k) != len(" | binary ")+12 {
		t.Fatalf("kernelsBuild() = %q, want \" | binary <12 hex digits>\"", k)
	}
	if kernelsBuild() != k {
		t.Fatal("kernelsBuild is not stable within one binary")
	}
}
