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
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/golem-ml/golem/bench"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/train"
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

// spec is what both workers read from the run folder (spec.json).
type spec struct {
	Name     string      `json:"name"`
	Vocab    int         `json:"vocab"`
	SeqLen   int         `json:"seq_len"`
	Width    int         `json:"width"`
	Layers   int         `json:"layers"`
	Heads    int         `json:"heads"`
	MLP      int         `json:"mlp_hidden"`
	Batch    int         `json:"batch"`
	Steps    int         `json:"steps"` // batches in tokens.bin
	LR       float64     `json:"lr"`
	Beta1    float64     `json:"beta1"`
	Beta2    float64     `json:"beta2"`
	Eps      float64     `json:"eps"`
	WD       float64     `json:"weight_decay"`
	Clip     float64     `json:"grad_clip"`
	NormEps  float64     `json:"norm_eps"`
	Params   []paramSpec `json:"params"` // in params.bin order
	NParams  int         `json:"num_params"`
	Flops    float64     `json:"flops_per_token"`
	Overides []string    `json:"overrides"`
}

type paramSpec struct {
	Name  string `json:"name"`
	Dims  []int  `json:"dims"`
	Decay bool   `json:"decay"`
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

// loadConfig resolves a preset name or YAML path into a benchmark configuration.
func loadConfig(name string) (train.Config, []string, error) {
	path, sets := name, []string(nil)
	if p, ok := bench.Presets[name]; ok {
		path, sets = "", append([]string(nil), p...)
	}
	// A constant learning rate, no dropout, fp32: the same step every time on both sides.
	sets = append(sets, "optimizer.warmup_steps=0", "optimizer.min_lr=0.001", "optimizer.lr=0.001",
		"model.dropout=0", "train.dtype=float32", "train.micro_batch_size=0", "train.steps=100000")
	sets = append(sets, flagSet...)
	cfg, err := resolve(path, sets)
	if err != nil {
		return cfg, nil, err
	}
	m := cfg.Model
	if m.Positions != "learned" || m.Norm != "layernorm" || m.MLP != "gelu" || !m.Tied || !m.Bias || m.KVHeads != m.Heads {
		return cfg, nil, fmt.Errorf("%s: the PyTorch reference only mirrors GPT-2 style models (learned positions, layernorm, gelu, tied, bias, no GQA)", name)
	}
	return cfg, sets, nil
}

// resolve reads a run config over golem's defaults (no data or tokenizer needed: the benchmark
// feeds random tokens) and checks the model section.
func resolve(path string, sets []string) (train.Config, error) {
	cfg := train.DefaultConfig()
	if err := config.Load(path, sets, &cfg); err != nil {
		return cfg, err
	}
	if cfg.Model.VocabSize == 0 {
		cfg.Model.VocabSize = 257 // the byte tokenizer
	}
	cfg.Model.Defaults()
	return cfg, cfg.Model.Validate()
}

func writeRun(dir string, name string, cfg train.Config, sets []string, nBatches int) (*spec, error) {
	m := cfg.Model
	s := &spec{Name: name, Vocab: m.VocabSize, SeqLen: m.SeqLen, Width: m.Width, Layers: m.Layers, Heads: m.Heads,
		MLP: m.MLPHidden, Batch: cfg.Train.BatchSize, Steps: nBatches, LR: cfg.Optimizer.LR, Beta1: cfg.Optimizer.Beta1,
		Beta2: cfg.Optimizer.Beta2, Eps: cfg.Optimizer.Eps, WD: cfg.Optimizer.WeightDecay, Clip: cfg.Optimizer.GradClip,
		NormEps: m.NormEps, NParams: m.NumParams(), Flops: m.FlopsPerToken(), Overides: sets}
	init := transformer.Init(&m, cfg.Train.Seed)
	pf, err := os.Create(filepath.Join(dir, "params.bin"))
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(pf)
	for _, p := range m.ParamShapes() {
		decay := p.Kind == transformer.KindWeight || p.Kind == transformer.KindResidual ||
			(p.Kind == transformer.KindEmbedding && cfg.Optimizer.DecayEmbed)
		s.Params = append(s.Params, paramSpec{Name: p.Name, Dims: p.Dims, Decay: decay})
		if err := binary.Write(w, binary.LittleEndian, init[p.Name]); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	pf.Close()
	r := rand.New(rand.NewPCG(42, 6))
	toks := make([]int32, nBatches*s.Batch*(s.SeqLen+1))
	for i := range toks {
		toks[i] = int32(r.IntN(s.Vocab))
	}
	tf, err := os.Create(filepath.Join(dir, "tokens.bin"))
	if err != nil {
		return nil, err
	}
	if err := binary.Write(tf, binary.LittleEndian, toks); err != nil {
		return nil, err
	}
	tf.Close()
	b, _ := json.MarshalIndent(s, "", " ")
	return s, os.WriteFile(filepath.Join(dir, "spec.json"), b, 0o644)
}

// proc is a worker speaking the line protocol: "step I" -> "ok MS LOSS", "peak" -> "peak GFLOPS",
// "quit" -> "rss KB".
type proc struct {
	name string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
}

func start(name string, args []string, env []string) (*proc, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	p.out.Buffer(make([]byte, 1<<20), 1<<20)
	return p, nil
}

// ask sends a command and returns the fields of the first reply line that starts with want.
func (p *proc) ask(cmd, want string) ([]string, error) {
	if cmd != "" {
		if _, err := fmt.Fprintln(p.in, cmd); err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	for p.out.Scan() {
		f := strings.Fields(p.out.Text())
		if len(f) > 0 && f[0] == want {
			return f[1:], nil
		}
		if len(f) > 0 && f[0] == "info" {
			fmt.Printf("  [%s] %s\n", p.name, strings.Join(f[1:], " "))
		}
	}
	return nil, fmt.Errorf("%s exited before answering %q", p.name, cmd)
}

func (p *proc) quit() (float64, error) {
	f, err := p.ask("quit", "rss")
	p.in.Close()
	p.cmd.Wait()
	if err != nil || len(f) < 1 {
		return 0, err
	}
	kb, _ := strconv.ParseFloat(f[0], 64)
	return kb / 1024, nil
}

func golemArgs(dir string, extra ...string) []string {
	self, _ := os.Executable()
	return append([]string{self, "-worker", dir, "-backend", *flagBackend}, extra...)
}

func torchArgs(dir string, extra ...string) []string {
	script := filepath.Join(repoDir(), "bench", "torch_gpt.py")
	return append([]string{*flagPython, script, dir, "--threads", strconv.Itoa(*flagThreads)}, extra...)
}

func torchEnv() []string {
	t := strconv.Itoa(*flagThreads)
	return []string{"OMP_NUM_THREADS=" + t, "OPENBLAS_NUM_THREADS=" + t}
}

// repoDir finds bench/torch_gpt.py from the working directory upward.
func repoDir() string {
	d, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(d, "bench", "torch_gpt.py")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			return "."
		}
		d = up
	}
}

type result struct {
	stepMS  []float64 // measured steps
	firstMS float64
	losses  []float64
	rssMB   float64
	nparams string
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

func drive() error {
	fmt.Printf("golem vs PyTorch training speed: %s, GOMAXPROCS %d, torch threads %d, backend %q, load %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOMAXPROCS(0), *flagThreads, *flagBackend, loadavg())
	tmp, err := os.MkdirTemp("", "golem-speed-")
	if err != nil {
		return err
	}
	if !*flagKeep {
		defer os.RemoveAll(tmp)
	} else {
		fmt.Println("run folder:", tmp)
	}
	// Matmul peaks, interleaved: median of a few N^3 products in each framework.
	peakG, peakT := math.NaN(), math.NaN()
	if *flagPeakN > 0 {
		var gs, ts []float64
		for i := 0; i < 3; i++ {
			if v, err := peak(golemArgs(tmp, "-peak_only"), nil); err == nil {
				gs = append(gs, v)
			} else {
				return err
			}
			if *flagTorch {
				if v, err := peak(torchArgs(tmp, "--peak-only"), torchEnv()); err == nil {
					ts = append(ts, v)
				} else {
					return err
				}
			}
		}
		peakG, peakT = median(gs), median(ts)
		fmt.Printf("float32 %d^3 matmul peak: golem (Go backend) %.1f GFLOP/s, PyTorch (OpenBLAS) %.1f GFLOP/s\n", *flagPeakN, peakG, peakT)
	}
	type row struct {
		name       string
		s          *spec
		g, t       *result
		b          []*result
		bn         []string
		loadBefore string
		loadAfter  string
	}
	var rows []row
	for _, name := range strings.Split(*flagConfigs, ",") {
		cfg, sets, err := loadConfig(name)
		if err != nil {
			return err
		}
		dir := filepath.Join(tmp, filepath.Base(name))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		n := *flagWarmup + *flagSteps
		s, err := writeRun(dir, name, cfg, sets, n)
		if err != nil {
			return err
		}
		fmt.Printf("\n== %s: vocab %d, ctx %d, width %d, %d layers, %d heads, batch %d: %d parameters, %.3g FLOP/token\n",
			name, s.Vocab, s.SeqLen, s.Width, s.Layers, s.Heads, s.Batch, s.NParams, s.Flops)
		r := row{name: name, s: s, loadBefore: loadavg()}
		var profArgs []string
		if *flagProfile != "" {
			profArgs = []string{"-cpuprofile", *flagProfile + "." + filepath.Base(name)}
		}
		gp, err := start("golem", golemArgs(dir, profArgs...), flagGolemEnv)
		if err != nil {
			return err
		}
		procs := []*proc{gp}
		var tp *proc
		if *flagTorch {
			if tp, err = start("torch", torchArgs(dir), torchEnv()); err != nil {
				return err
			}
			procs = append(procs, tp)
		}
		var bps []*proc
		if *flagBase != "" {
			for i, b := range strings.Split(*flagBase, ",") {
				label, bin, ok := strings.Cut(b, "=")
				if !ok {
					label, bin = fmt.Sprintf("base%d", i), b
				}
				args := append([]string{bin}, golemArgs(dir)[1:]...)
				if bin2, backend, ok := strings.Cut(bin, "@"); ok { // BIN@BACKEND: another backend config
					args = append([]string{bin2}, golemArgs(dir)[1:]...)
					args[len(args)-1] = backend
				}
				bp, err := start(label, args, nil)
				if err != nil {
					return err
				}
				procs = append(procs, bp)
				bps = append(bps, bp)
			}
		}
		res := map[*proc]*result{}
		for _, p := range procs {
			f, err := p.ask("", "ready")
			if err != nil {
				return err
			}
			res[p] = &result{nparams: strings.Join(f, " ")}
			fmt.Printf("  %-5s %s\n", p.name, res[p].nparams)
		}
		for i := 0; i < n; i++ {
			order := procs
			if i%2 == 1 {
				order = make([]*proc, len(procs))
				for j, p := range procs {
					order[len(procs)-1-j] = p
				}
			}
			line := fmt.Sprintf("  step %2d", i)
			for _, p := range order {
				time.Sleep(*flagPause)
				f, err := p.ask(fmt.Sprintf("step %d", i), "ok")
				if err != nil {
					return err
				}
				ms, _ := strconv.ParseFloat(f[0], 64)
				loss, _ := strconv.ParseFloat(f[1], 64)
				rr := res[p]
				rr.losses = append(rr.losses, loss)
				if i == 0 {
					rr.firstMS = ms
				} else if i >= *flagWarmup {
					rr.stepMS = append(rr.stepMS, ms)
				}
				line += fmt.Sprintf("   %s %8.1f ms loss %.4f", p.name, ms, loss)
			}
			fmt.Println(line)
		}
		for _, p := range procs {
			if res[p].rssMB, err = p.quit(); err != nil {
				return err
			}
		}
		r.g = res[gp]
		if tp != nil {
			r.t = res[tp]
		}
		for _, bp := range bps {
			r.b = append(r.b, res[bp])
			r.bn = append(r.bn, bp.name)
		}
		r.loadAfter = loadavg()
		rows = append(rows, r)
	}

	fmt.Printf("\nMedians over %d steps after %d warm-up steps; load average before/after each config shown.\n\n", *flagSteps, *flagWarmup)
	fmt.Println("| config | framework | step ms | tokens/s | GFLOP/s | % of matmul peak | peak RSS MB | first step s | golem/PyTorch | final loss | load |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, r := range rows {
		tokens := float64(r.s.Batch * r.s.SeqLen)
		line := func(fw string, x *result, pk float64, ratio string) {
			ms := median(x.stepMS)
			tps := tokens / (ms / 1000)
			gf := tps * r.s.Flops / 1e9
			frac := "n/a"
			if !math.IsNaN(pk) {
				frac = fmt.Sprintf("%.0f%%", 100*gf/pk)
			}
			fmt.Printf("| %s | %s | %.1f | %.0f | %.1f | %s | %.0f | %.2f | %s | %.4f | %s → %s |\n",
				r.name, fw, ms, tps, gf, frac, x.rssMB, x.firstMS/1000, ratio, x.losses[len(x.losses)-1], r.loadBefore, r.loadAfter)
		}
		ratio := ""
		if r.t != nil {
			ratio = fmt.Sprintf("**%.2fx**", median(r.t.stepMS)/median(r.g.stepMS))
		}
		line("golem", r.g, peakG, ratio)
		for i, b := range r.b {
			br := fmt.Sprintf("(golem/this %.2fx)", median(b.stepMS)/median(r.g.stepMS))
			if r.t != nil {
				br = fmt.Sprintf("%.2fx %s", median(r.t.stepMS)/median(b.stepMS), br)
			}
			line("golem@"+r.bn[i], b, peakG, br)
		}
		if r.t != nil {
			line("PyTorch", r.t, peakT, "1.00x")
		}
	}
	fmt.Println()
	for _, r := range rows {
		if r.t == nil {
			continue
		}
		maxd := 0.0
		for i := range r.g.losses {
			maxd = math.Max(maxd, math.Abs(r.g.losses[i]-r.t.losses[i]))
		}
		fmt.Printf("%s: max |loss golem - loss PyTorch| over %d steps = %.2g (same weights, same tokens)\n", r.name, len(r.g.losses), maxd)
	}
	return nil
}

func peak(args, env []string) (float64, error) {
	p, err := start("peak", args, env)
	if err != nil {
		return 0, err
	}
	f, err := p.ask("", "peak")
	p.in.Close()
	p.cmd.Wait()
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(f[0], 64)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// worker is the golem side: one trainer, steps on request.
func worker(dir string) error {
	backend, err := compute.NewWithConfig(*flagBackend)
	if err != nil {
		return err
	}
	if *flagPeakOnly {
		fmt.Printf("peak %.2f\n", matmulPeak(backend, *flagPeakN))
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
			r, err := tr.TrainStep(batch, nil, false)
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

// matmulPeak is the median GFLOP/s of a few n×n×n float32 products after one warm-up.
func matmulPeak(backend compute.Backend, n int) float64 {
	exec := MustNewExec(backend, func(a, b *Node) *Node { return MatMul(a, b) })
	defer exec.Finalize()
	data := make([]float32, n*n)
	for i := range data {
		data[i] = float32(i%7) * 0.1
	}
	a := tensors.FromFlatDataAndDimensions(data, n, n)
	_ = shapes.Make(dtypes.Float32, n, n)
	var gs []float64
	for i := 0; i < 5; i++ {
		start := time.Now()
		out := exec.MustCall1(a, a)
		out.MaterializeLocal()
		if i > 0 {
			gs = append(gs, 2*float64(n)*float64(n)*float64(n)/time.Since(start).Seconds()/1e9)
		}
		out.FinalizeAll()
	}
	return median(gs)
}
