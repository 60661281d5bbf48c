// Package memory reads what the machine and the process have (memory limit, peak resident
// set) and sizes a model's weights, for the checks that refuse a model or run that cannot fit
// before anything is allocated.
package memory

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/golem-ml/golem/models/transformer"
)

// PeakRSS is the process's peak resident set size in bytes (VmHWM in /proc/self/status;
// 0 where /proc is not available).
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// MachineMemory is the memory this process may use, in bytes: the smaller of MemTotal in
// /proc/meminfo and the cgroup limit (memory.max); 0 when neither can be read.
func MachineMemory() int64 {
	var total int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				total = kb * 1024
			}
		}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if lim, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && lim > 0 && (total == 0 || lim < total) {
			total = lim
		}
	}
	return total
}

// ParamCount is cfg.NumParams in closed form and float64: it never builds the per-layer
// parameter list, so a hostile layer count or width costs nothing.
func ParamCount(c transformer.Config) float64 {
	C, F, V, T, L := float64(c.Width), float64(c.MLPHidden), float64(c.VocabSize), float64(c.SeqLen), float64(c.Layers)
	D := 0.0
	if c.Heads > 0 {
		D = float64(c.Width / c.Heads)
	}
	qkv := float64(c.Heads+2*c.KVHeads) * D
	norm := C
	if c.Bias && c.Norm == transformer.LayerNorm {
		norm = 2 * C
	}
	layer := 2*norm + C*qkv + float64(c.Heads)*D*C + 2*C*F
	if c.MLP == transformer.SwiGLU {
		layer += C * F
	}
	if c.Bias {
		layer += qkv + C + F + C
	}
	n := V*C + L*layer + norm
	if c.Positions == transformer.Learned {
		n += T * C
	}
	if !c.Tied {
		n += C * V
	}
	return n
}

// FormatBytes writes a size in binary units: "23.4 GiB".
func FormatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == len(units)-1 && b >= 1024 {
		return fmt.Sprintf("%.3g EiB", b)
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

// CheckModel refuses to allocate m's float32 weights (importing, converting) when they
// alone exceed the machine's memory.
func CheckModel(m transformer.Config) error {
	have, need := MachineMemory(), 4*ParamCount(m)
	if have <= 0 || need <= float64(have) {
		return nil
	}
	return fmt.Errorf("model (width %d, layers %d, vocab %d, mlp_hidden %d: %.3g parameters) needs %s for its float32 weights but this machine has %s",
		m.Width, m.Layers, m.VocabSize, m.MLPHidden, ParamCount(m), FormatBytes(need), FormatBytes(float64(have)))
}
