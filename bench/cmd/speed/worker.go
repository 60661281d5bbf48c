// The golem worker: one trainer in its own process, a step per request from the driver.

package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/bench"
	"github.com/golem-ml/golem/train"
)

// worker is the golem side: one trainer, steps on request.
func worker(dir string) error {
	backend, err := backends.New(*flagBackend)
	if err != nil {
		return err
	}
	if *flagPeakOnly {
		fmt.Printf("peak %.2f\n", median(train.MatmulGFlops(backend, "float32", *flagPeakN, 4)))
		return nil
	}
	var s spec
	b, err := os.ReadFile(filepath.Join(dir, "spec.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	name := s.Name
	if _, ok := bench.Presets[name]; ok {
		name = ""
	}
	cfg, err := resolve(name, s.Overides)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "tokens.bin"))
	if err != nil {
		return err
	}
	toks := make([]int32, len(raw)/4)
	for i := range toks {
		toks[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	tr, err := train.New(cfg, backend)
	if err != nil {
		return err
	}
	if err := tr.InitOptimizer(); err != nil {
		return err
	}
	fmt.Printf("ready params=%d backend=%q\n", cfg.Model.NumParams(), backend.Description())
	per := s.Batch * (s.SeqLen + 1)
	in := bufio.NewScanner(os.Stdin)
	var prof *os.File
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "step":
			i, _ := strconv.Atoi(f[1])
			if i == *flagWarmup && *flagProfile != "" && prof == nil {
				if prof, err = os.Create(*flagProfile); err != nil {
					return err
				}
				pprof.StartCPUProfile(prof)
			}
			batch := toks[i*per : (i+1)*per]
			start := time.Now()
			r, err := tr.TrainStep(batch, nil)
			ms := float64(time.Since(start).Microseconds()) / 1000
			if err != nil {
				return err
			}
			fmt.Printf("ok %.2f %.6f %.6f\n", ms, r.Loss, r.GradNorm)
		case "quit":
			if prof != nil {
				pprof.StopCPUProfile()
				prof.Close()
			}
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			fmt.Printf("rss %d\n", ru.Maxrss)
			return nil
		}
	}
	return in.Err()
}
