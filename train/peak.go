package train

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golem-ml/golem/internal/atomicfile"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// MFU (model FLOPs utilisation) has one definition in golem, used by the run summary and every
// benchmark: achieved model FLOP/s (transformer.Config.FlopsPerToken × tokens/s) divided by the
// device's dense matmul peak for the run's compute dtype, as returned by Peak.
//
// The peak comes, in order, from: the config (train.peak_tflops), the table below for known
// accelerators, or, for CPUs and unknown devices, one measurement per machine cached in the user
// cache folder ($XDG_CACHE_HOME/golem/peak.json), so the denominator does not move from run to run.

// PeakInfo is the MFU denominator and where it came from.
type PeakInfo struct {
	GFlops float64 // dense matmul peak, GFLOP/s
	Source string  // "config", "table: ...", "measured ... (cached in ...)"
}

// KnownPeak is one row of the table of accelerator peaks, in TFLOP/s of dense matmul.
type KnownPeak struct {
	Match string // substring of the device name (nvidia-smi's "name"), case-insensitive
	BF16  float64
	TF32  float64 // float32 matmuls on XLA/CUDA run in TF32 (go-xla's default)
	Note  string
}

// KnownPeaks are the peaks golem trusts without measuring. Measured figures are preferred over
// datasheet ones, and say so.
var KnownPeaks = []KnownPeak{
	// Through GoMLX/XLA on the H200 (bench/gpu TestGPUMatmulPeak, 2026-12-04) an 8192³ product ran
	// at 556-592 TFLOP/s in bf16 and 339-340 in TF32: XLA's own ceiling, below the chip's.
	{"H200", 790, 395, "bf16 measured: 8192³ bf16 products on random data, 769-798 TFLOP/s; tf32 = half of it, as on the datasheet"},
	{"H100", 790, 395, "same chip as the H200 (bf16 989 / tf32 495 on the datasheet); the H200's measured bf16 rate"},
	{"A100", 312, 156, "datasheet, dense"},
	{"L4", 121, 60, "datasheet, dense"},
}

// Peak returns the MFU denominator for backend and compute dtype ("float32" or "bfloat16");
// overrideTFlops > 0 (train.peak_tflops) wins.
func Peak(backend compute.Backend, dtype string, overrideTFlops float64) PeakInfo {
	if overrideTFlops > 0 { // no device query, no measurement
		return PeakInfo{GFlops: overrideTFlops * 1e3, Source: "config train.peak_tflops"}
	}
	return peakFor(DeviceName(backend), dtype, overrideTFlops, func() float64 { return MeasureMatmulPeak(backend, dtype) })
}

// peakFor is Peak for a named device; measure is called only when neither the config, the
// table nor the cache has the figure.
func peakFor(device, dtype string, overrideTFlops float64, measure func() float64) PeakInfo {
	if overrideTFlops > 0 {
		return PeakInfo{GFlops: overrideTFlops * 1e3, Source: "config train.peak_tflops"}
	}
	for _, k := range KnownPeaks {
		if strings.Contains(strings.ToLower(device), strings.ToLower(k.Match)) {
			tf := k.TF32
			if dtype == "bfloat16" {
				tf = k.BF16
			}
			return PeakInfo{GFlops: tf * 1e3, Source: fmt.Sprintf("table: %s %s", k.Match, dtype)}
		}
	}
	return cachedPeak(device, dtype, measure)
}

// DeviceName names the device a backend computes on: the GPU model for XLA/CUDA (from the NVIDIA
// driver), else the CPU model with its core count.
func DeviceName(backend compute.Backend) string {
	desc := strings.ToLower(backend.Name() + " " + backend.Description())
	if strings.Contains(desc, "cuda") {
		if name := nvidiaGPUName(); name != "" {
			return name
		}
		return "unknown CUDA GPU"
	}
	model := "cpu"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores (%s)", model, runtime.NumCPU(), backend.Name())
}

// nvidiaGPUName is the first GPU's model, e.g. "NVIDIA H200", or "".
func nvidiaGPUName() string {
	infos, _ := filepath.Glob("/proc/driver/nvidia/gpus/*/information")
	for _, p := range infos {
		b, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model" {
				return strings.TrimSpace(v)
			}
		}
	}
	out, err := exec.Command("nvidia-smi", "--query-gpu=name", "--format=csv,noheader").Output()
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return name
}

// peakCache is the on-disk cache: device name + dtype -> measured GFLOP/s.
type peakCache map[string]struct {
	GFlops   float64 `json:"gflops"`
	Measured string  `json:"measured"`
}

var peakMu sync.Mutex

// cachedPeak returns the cached measurement for (device, dtype), measuring and caching it the
// first time. Without a usable cache folder it measures every time and says so.
func cachedPeak(device, dtype string, measure func() float64) PeakInfo {
	peakMu.Lock()
	defer peakMu.Unlock()
	key := device + " | " + dtype + kernelsBuild()
	path := ""
	if dir, err := os.UserCacheDir(); err == nil {
		path = filepath.Join(dir, "golem", "peak.json")
	}
	cache := peakCache{}
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			_ = json.Unmarshal(b, &cache) // a corrupt cache is re-measured and rewritten
		}
		if c, ok := cache[key]; ok && c.GFlops > 0 {
			return PeakInfo{GFlops: c.GFlops, Source: fmt.Sprintf("measured %s on %s, cached in %s", c.Measured, device, path)}
		}
	}
	gf := measure()
	info := PeakInfo{GFlops: gf, Source: "measured now on " + device}
	if path == "" {
		return info
	}
	c := cache[key]
	c.GFlops, c.Measured = gf, time.Now().UTC().Format("2006-01-02")
	cache[key] = c
	b, _ := json.MarshalIndent(cache, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		if atomicfile.WriteFile(path, b) == nil {
			info.Source += ", cached in " + path + " (delete it to measure again)"
		}
	}
	return info
}

// kernelsBuild names the build in the cache key, so a binary with other kernels (a faster
// Go-backend matmul, say) measures again instead of reusing a figure that no longer holds (a
// stale one once gave an MFU of 170%): " | build <vcs revision>" for stamped builds, else
// " | binary <sha256 of the executable>" (go run and test binaries carry no VCS stamp; Go builds
// are reproducible, so the same code keeps its entry).
func kernelsBuild() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, modified := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+modified"
				}
			}
		}
		if rev != "" && modified == "" {
			return " | build " + rev[:min(12, len(rev))]
		}
	}
	// Unstamped or modified builds: the executable's own bytes say which kernels it has.
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return fmt.Sprintf(" | binary %x", h.Sum(nil)[:6])
}

// MeasureMatmulPeak is the MFU denominator's measurement: the best GFLOP/s of a few N×N×N
// products in dtype after a warm-up (N = 1024 on CPUs, 8192 on accelerators).
func MeasureMatmulPeak(backend compute.Backend, dtype string) float64 {
	n, reps := 1024, 3
	desc := strings.ToLower(backend.Name() + " " + backend.Description())
	for _, accel := range []string{"cuda", "rocm", "tpu"} {
		if strings.Contains(desc, accel) {
			n, reps = 8192, 9
		}
	}
	return slices.Max(MatmulGFlops(backend, dtype, n, reps))
}

// MatmulGFlops is golem's one matmul-rate measurement (the MFU denominator, bench/cmd/speed's
// peak column): it times reps N×N×N products in dtype ("float32" or "bfloat16") after one
// warm-up call and returns each one's GFLOP/s.
func MatmulGFlops(backend compute.Backend, dtype string, n, reps int) []float64 {
	dt := computeDType(dtype)
	// The product is summed on the device, so only a scalar comes back; a stays on the device
	// after the first call. Random-looking values: zeros run faster than real data on GPUs.
	exec := MustNewExec(backend, func(a, b *Node) *Node {
		return ReduceAllSum(ConvertDType(MatMul(a, b), dtypes.Float32))
	})
	defer exec.Finalize()
	vals := make([]float32, n*n)
	for i := range vals {
		vals[i] = float32((i*7919)%2003)/2003 - 0.5
	}
	a := tensors.FromFlatDataAndDimensions(vals, n, n)
	if dt != dtypes.Float32 {
		a = MustExecOnce(backend, func(x *Node) *Node { return ConvertDType(x, dt) }, a)
	}
	var gs []float64
	for i := 0; i <= reps; i++ {
		start := time.Now()
		out := exec.MustCall1(a, a)
		out.MaterializeLocal()
		if i > 0 { // the first call compiles and warms up
			gs = append(gs, 2*float64(n)*float64(n)*float64(n)/time.Since(start).Seconds()/1e9)
		}
		out.FinalizeAll()
	}
	return gs
}
