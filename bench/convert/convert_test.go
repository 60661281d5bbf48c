// Package convert_test measures importing and exporting a checkpoint of a few hundred MB:
// wall time and the peak resident memory of a child process doing only that, against the
// file size. Run it with
//
//	GOEXPERIMENT=simd go test -run XXX -bench . -benchtime 1x ./bench/convert/
//
// GOLEM_BENCH_MB sets the model's float32 size (default 350), GOLEM_BENCH_DTYPE the file's
// dtype (F32 default, or BF16: half the file, converted to float32 on import);
// GOLEM_BENCH_DIR keeps the files. The checkpoint is sharded (200 MB shards, with an index).
package convert_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golem-ml/golem/bench"
	"github.com/golem-ml/golem/convert"
)

// TestMain doubles as the measured child: GOLEM_BENCH_CHILD=import|load|export runs one step.
func TestMain(m *testing.M) {
	if op := os.Getenv("GOLEM_BENCH_CHILD"); op != "" {
		if err := child(op, os.Getenv("GOLEM_BENCH_SRC"), os.Getenv("GOLEM_BENCH_DST")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// The child's own high-water mark: rusage of a vfork'ed child also counts the parent's pages.
		status, _ := os.ReadFile("/proc/self/status")
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Println(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")))
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(op, src, dst string) error {
	switch op {
	case "import":
		m, err := convert.Import(src, "")
		if err != nil {
			return err
		}
		_, err = convert.Save(m, dst)
		return err
	case "load":
		_, err := convert.Load(src)
		return err
	case "export":
		m, err := convert.Load(src)
		if err != nil {
			return err
		}
		return convert.ExportHF(m, dst, convert.ExportOptions{})
	}
	return fmt.Errorf("unknown op %s", op)
}

// measure runs one step in a child process and returns its wall time and peak RSS in bytes
// (VmHWM, Linux only).
func measure(b *testing.B, op, src, dst string) (time.Duration, int64) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GOLEM_BENCH_CHILD="+op, "GOLEM_BENCH_SRC="+src, "GOLEM_BENCH_DST="+dst)
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s: %v", op, err)
	}
	wall := time.Since(start)
	var kb int64
	if _, err := fmt.Sscanf(string(out), "%d kB", &kb); err != nil {
		b.Fatalf("%s: no VmHWM in %q", op, out)
	}
	return wall, kb << 10
}

func BenchmarkImportHF(b *testing.B) {
	mb := 350
	if s := os.Getenv("GOLEM_BENCH_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	dir := os.Getenv("GOLEM_BENCH_DIR") // keep the files there (default: a temporary folder)
	if dir == "" {
		dir = b.TempDir()
	}
	m, err := bench.LlamaModel(mb)
	if err != nil {
		b.Fatal(err)
	}
	hf := filepath.Join(dir, "hf")
	if err := convert.ExportHF(m, hf, convert.ExportOptions{ShardBytes: 200 << 20, DType: os.Getenv("GOLEM_BENCH_DTYPE")}); err != nil {
		b.Fatal(err)
	}
	m = nil
	var size int64
	files, _ := filepath.Glob(filepath.Join(hf, "*.safetensors"))
	for _, f := range files {
		st, _ := os.Stat(f)
		size += st.Size()
	}
	for i := 0; i < b.N; i++ {
		run := filepath.Join(dir, fmt.Sprintf("run%d", i))
		wall, rss := measure(b, "import", hf, run)
		b.ReportMetric(float64(size)/(1<<20), "file-MB")
		b.ReportMetric(wall.Seconds(), "import-s")
		b.ReportMetric(float64(rss)/(1<<20), "import-peakRSS-MB")
		wall, rss = measure(b, "load", run, "")
		b.ReportMetric(wall.Seconds(), "load-s")
		b.ReportMetric(float64(rss)/(1<<20), "load-peakRSS-MB")
		wall, rss = measure(b, "export", run, filepath.Join(dir, fmt.Sprintf("out%d", i)))
		b.ReportMetric(wall.Seconds(), "export-s")
		b.ReportMetric(float64(rss)/(1<<20), "export-peakRSS-MB")
	}
}
