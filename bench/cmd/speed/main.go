// Command speed trains the same GPT for a fixed number of steps in golem (GoMLX, Go backend)
// and in a PyTorch reference (bench/torch_gpt.py), interleaved step by step in one run, and
// prints tokens/s, achieved GFLOP/s, the fraction of each framework's measured matmul peak,
// peak RSS, first-step (compile) time and golem's ratio to PyTorch.
//
// Both sides start from the same initial weights (golem's GPT-2 init, written to a file the
// PyTorch script loads) and train on the same random tokens, so their losses must agree: the
// table prints both as a check that they compute the same thing.
//
// Each framework runs in its own worker process (so peak RSS is per framework and per config);
// the driver tells them to take one step at a time, alternating which goes first, with a pause
// between so that one side's spinning threads never steal the other's cores. Figures are
// medians over the measured steps after warm-up.
//
//	GOEXPERIMENT=simd go run ./bench/cmd/speed -configs tiny,small
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

var (
	flagConfigs  = flag.String("configs", "tiny,small", "comma-separated presets (tiny, small) or YAML run configs")
	flagSet      = flagList{}
	flagSteps    = flag.Int("steps", 10, "measured steps per framework and config")
	flagWarmup   = flag.Int("warmup", 2, "unmeasured steps first (the first is the compile/first-step time)")
	flagBackend  = flag.String("backend", "go", "GoMLX backend config for golem (e.g. go, go:ops_sequential)")
	flagPython   = flag.String("python", "/usr/bin/python3", "python with torch (Debian's python3-torch)")
	flagThreads  = flag.Int("threads", runtime.NumCPU(), "PyTorch/OpenBLAS threads")
	flagPause    = flag.Duration("pause", 300*time.Millisecond, "idle time between one framework's step and the other's")
	flagTorch    = flag.Bool("torch", true, "run the PyTorch reference (false: golem only)")
	flagProfile  = flag.String("cpuprofile", "", "write golem's CPU profile of the measured steps to FILE.<config>")
	flagPeakN    = flag.Int("peak_n", 2048, "matmul size for the peak measurement (0: skip)")
	flagBase     = flag.String("baseline", "", "also run older builds of bench/cmd/speed, interleaved, to measure changes: comma-separated BIN, LABEL=BIN or LABEL=BIN@BACKEND")
	flagGolemEnv = flagList{}
	flagKeep     = flag.Bool("keep", false, "keep the temporary folder with tokens and weights")
	flagWorker   = flag.String("worker", "", "internal: run as golem worker for this folder")
	flagPeakOnly = flag.Bool("peak_only", false, "internal: worker measures the matmul peak only")
)

type flagList []string

func (f *flagList) String() string     { return strings.Join(*f, ",") }
func (f *flagList) Set(s string) error { *f = append(*f, s); return nil }

func init() {
	flag.Var(&flagSet, "set", "override applied to every config, e.g. -set model.layers=2 (repeatable)")
	flag.Var(&flagGolemEnv, "golem_env", "KEY=VALUE set for the golem worker only (not the baselines), e.g. GODEBUG=asyncpreemptoff=1 (repeatable)")
}

func main() {
	flag.Parse()
	if *flagWorker != "" {
		if err := worker(*flagWorker); err != nil {
			fmt.Fprintln(os.Stderr, "golem worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := drive(); err != nil {
		fmt.Fprintln(os.Stderr, "speed:", err)
		os.Exit(1)
	}
}
