// The driver: it writes each config's run folder (weights, tokens, spec.json), starts one
// worker process per framework (and per -baseline build), steps them in turn and collects
// their timings for report.go.

package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/golem-ml/golem/bench"

	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/train"
)

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
	if m.Positions != transformer.Learned || m.Norm != transformer.LayerNorm || m.MLP != transformer.GELU || !m.Tied || !m.Bias || m.KVHeads != m.Heads {
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
	toks := bench.RandomTokens(r, nBatches*s.Batch*(s.SeqLen+1), s.Vocab)
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

func drive() error {
	// OpenBLAS picks its kernels for the CPU unless told otherwise; this project's build machines
	// pin OPENBLAS_CORETYPE=Haswell (AVX2 kernels) and OPENBLAS_L2_SIZE in the environment, which
	// PyTorch's workers would inherit: 1024³ on one thread ran at 70 GFLOP/s pinned against 190
	// with the kernels OpenBLAS picks itself (Cooperlake), 2026-12-04. golem does not use OpenBLAS.
	for _, k := range []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} {
		os.Unsetenv(k)
	}
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

	printReport(rows, peakG, peakT)
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
