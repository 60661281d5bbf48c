package finetune

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/janpfeifer/must"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/corpus"
	"github.com/golem-ml/golem/data"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/lora"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

var (
	testBackend compute.Backend
	baseOnce    sync.Once
	baseDir     string
	baseErr     error
	tmpRoot     string
)

func TestMain(m *testing.M) {
	tmpRoot = must.M1(os.MkdirTemp("", "golem-finetune-test-"))
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

func backend() compute.Backend {
	if testBackend == nil {
		testBackend = must.M1(backends.New("go"))
	}
	return testBackend
}

// tinyBase pretrains configs/tiny.yaml (context 128, batch 4) for 40 steps on Shakespeare,
// once per test binary, and saves it as a checkpoint. It drives the trainer directly rather
// than through train.Pretrain (no loop, plot or sample needed here).
func tinyBase(t testing.TB) string {
	baseOnce.Do(func() {
		root := repoRoot()
		baseDir = filepath.Join(tmpRoot, "base")
		cfg, err := train.LoadConfig(filepath.Join(root, "configs/tiny.yaml"), []string{
			"data.train=[" + filepath.Join(root, "testdata/tinyshakespeare.txt") + "]", "out_dir=" + baseDir,
			"model.seq_len=128", "train.steps=40", "train.batch_size=4",
		})
		if baseErr = err; err != nil {
			return
		}
		tok := tokenizer.NewByte()
		cfg.Model.VocabSize = tok.VocabSize()
		toks, _, err := data.Open(cfg.Data, tok, corpus.TextSource{})
		if baseErr = err; err != nil {
			return
		}
		loader, err := data.NewLoader(toks, cfg.Model.SeqLen, cfg.Train.BatchSize, cfg.Train.Seed, true)
		if baseErr = err; err != nil {
			return
		}
		tr, err := train.New(cfg, backend())
		if baseErr = err; err != nil {
			return
		}
		if baseErr = tr.InitOptimizer(); baseErr != nil {
			return
		}
		for s := int64(0); s < int64(cfg.Train.Steps); s++ {
			if _, baseErr = tr.TrainStep(loader.Batch(s, 0, cfg.Train.BatchSize), nil); baseErr != nil {
				return
			}
		}
		files, err := tr.Files(checkpoint.State{Step: tr.Step}, tok)
		if baseErr = err; err != nil {
			return
		}
		_, baseErr = (&checkpoint.Manager{Dir: baseDir}).Save(tr.Step, files)
	})
	if baseErr != nil {
		t.Fatalf("pretraining the tiny base: %v", baseErr)
	}
	return baseDir
}

// ftConfig is a fine-tuning config on the tiny base and the short Alpaca slice.
func ftConfig(t testing.TB, sets ...string) Config {
	cfg, err := LoadConfig("", append([]string{
		"base=" + tinyBase(t), "out_dir=" + t.TempDir(), "data.train=[" + sft("alpaca_short.jsonl") + "]",
		`data.fields={prompt: "{instruction}\n{input}\n=> ", completion: output}`,
		"optimizer.lr=2e-3", "optimizer.warmup_steps=2", "train.batch_size=4", "train.log_every=1", "sample.tokens=0",
		"data.val_fraction=0.05",
	}, sets...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestMaskingGradientsOnlyFromCompletion(t *testing.T) {
	// A hand-made example: prompt "Q: 1+1=" (untrained), completion " 2" + EOT (trained).
	tok := tokenizer.NewByte()
	ds := must.M1(ReadBytes("hand.jsonl", []byte(`{"prompt": "Q: 1+1=", "completion": " 2"}`), dataCfg(nil)))
	T := 16
	rows, ws := Rows(Encode(ds, tok, T, dataCfg(nil)), T, false, 256)
	wantW := make([]float32, T)
	wantW[6], wantW[7], wantW[8] = 1, 1, 1 // targets " ", "2", EOT (predicted at positions 6, 7, 8)
	if !slices.Equal(ws[0], wantW) {
		t.Fatalf("weights %v, want %v", ws[0], wantW)
	}
	cfg := train.DefaultConfig()
	cfg.Model = transformer.Config{VocabSize: 257, SeqLen: T, Layers: 1, Width: 16, Heads: 2, Bias: true, Tied: true}
	cfg.Model.Defaults()
	tr := must.M1(train.New(cfg, backend()))
	// d(loss)/d(logits): rows of untrained positions must be exactly zero.
	exec := must.M1(model.NewExec(backend(), tr.Store, func(_ *model.Scope, tokens, weights *Node) *Node {
		m := &transformer.Model{Cfg: cfg.Model, W: tr.InferenceWeights(tokens.Graph())}
		in := Slice(tokens, AxisRange(), AxisRange(0, T))
		tg := Slice(tokens, AxisRange(), AxisRange(1, T+1))
		logits := m.Head(m.Hidden(in))
		loss := transformer.CrossEntropy(logits, Reshape(tg, T), Reshape(weights, T))
		return Gradient(loss, logits)[0]
	}))
	out := must.M1(exec.Call(tensors.FromFlatDataAndDimensions(rows[0], 1, T+1), tensors.FromFlatDataAndDimensions(ws[0], 1, T)))
	g := tensors.MustCopyFlatData[float32](out[0])
	V := 257
	for pos := 0; pos < T; pos++ {
		var norm float64
		for _, x := range g[pos*V : (pos+1)*V] {
			norm += float64(x) * float64(x)
		}
		if trained := wantW[pos] == 1; trained != (norm > 0) {
			t.Errorf("position %d (target %q): gradient norm² %g, trained=%v", pos, rune(rows[0][pos+1]), norm, trained)
		}
	}
}

// modelTensors reads the model.safetensors of a checkpoint.
func modelTensors(t testing.TB, dir string) map[string][]float32 {
	f := must.M1(safetensors.Parse(must.M1(checkpoint.Read(dir, checkpoint.ModelFile))))
	out := map[string][]float32{}
	for n, ten := range f.Tensors {
		out[n] = must.M1(ten.Float32s())
	}
	return out
}

// TestLoRA trains adapters (with adapter and model dropout) under early stopping, checks the
// base stays bit-identical, only adapters are optimized, a run interrupted and resumed matches
// the straight run bit for bit, and the merged model computes what base + adapter computes.
func TestLoRA(t *testing.T) {
	// min_delta is huge: after the first validation pass (step 1) nothing counts as an
	// improvement, so patience 2 stops the run after the pass at step 3 of 6.
	sets := []string{"method=lora", "lora.rank=4", "lora.targets=[q, v, o, mlp]", "lora.dropout=0.1", "dropout=0.1",
		"train.steps=6", "train.eval_every=1", "checkpoint.every=1", "checkpoint.keep_last=0", "optimizer.lr=1e-2",
		"early_stop.patience=2", "early_stop.min_delta=100"}
	cfg := ftConfig(t, sets...)
	var log bytes.Buffer
	res, err := Run(context.Background(), cfg, train.Options{Backend: backend(), Quiet: true, Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !res.StoppedEarly || res.Steps != 3 || !strings.Contains(log.String(), "early stop") || filepath.Base(res.Best) != "step-00000001" {
		t.Errorf("stopped early %v at step %d with best %s; want a stop at step 3 and the best at step 1:\n%s", res.StoppedEarly, res.Steps, res.Best, log.String())
	}
	checkResume(t, cfg, res, sets)
	base := must.M1(checkpoint.Resolve(tinyBase(t)))
	// Base weights are bit-identical after training.
	before, after := modelTensors(t, base), modelTensors(t, res.Checkpoint)
	for n, b := range before {
		for i := range b {
			if math.Float32bits(b[i]) != math.Float32bits(after[n][i]) {
				t.Fatalf("base weight %s[%d] changed: %v -> %v", n, i, b[i], after[n][i])
			}
		}
	}
	// Only adapter weights were optimized; the adapter trained (B left zero).
	ad := must.M1(safetensors.Parse(must.M1(checkpoint.Read(res.Checkpoint, lora.AdapterFile))))
	var bnorm float64
	for n, ten := range ad.Tensors {
		if strings.HasSuffix(n, "/b") {
			for _, x := range must.M1(ten.Float32s()) {
				bnorm += float64(x * x)
			}
		}
	}
	if bnorm == 0 {
		t.Error("every LoRA B is still zero after 6 steps")
	}
	// q, v, o, up, down (the gelu MLP has no gate) in 2 layers: rank·(in+out) each.
	if want := 2 * 4 * (3*(64+64) + 2*(64+256)); len(ad.Tensors) != 20 || res.Trainable != want {
		t.Errorf("adapter has %d tensors and %d trainable parameters, want 20 and %d", len(ad.Tensors), res.Trainable, want)
	}
	opt := must.M1(safetensors.Parse(must.M1(checkpoint.Read(res.Checkpoint, checkpoint.OptimizerFile))))
	for n := range opt.Tensors {
		if strings.HasPrefix(n, "adam/") && !strings.HasPrefix(n, "adam/m/lora/") && !strings.HasPrefix(n, "adam/v/lora/") && n != "adam/t" {
			t.Errorf("optimizer state %s is not an adapter's", n)
		}
	}

	// The merged model computes what base + unmerged adapter computes.
	unmerged := must.M1(inference.Open(backend(), base, res.Checkpoint))
	mergedDir := must.M1(SaveMerged(unmerged, filepath.Join(t.TempDir(), "merged")))
	if checkpoint.Has(mergedDir, lora.AdapterFile) {
		t.Error("the merged checkpoint still carries an adapter")
	}
	merged := must.M1(inference.Open(backend(), mergedDir, ""))
	if merged.Adapter != nil {
		t.Fatal("merged checkpoint loaded with an adapter")
	}
	plain := must.M1(inference.Open(backend(), base, ""))
	// Greedy text (KV-cache engine) on base + adapter and on the merged model is the
	// full-recompute sampler's on base + adapter.
	g := must.M1(generate.New(unmerged.Backend, unmerged.Store, unmerged.Cfg, unmerged.Weights))
	prompt := unmerged.Tok.Encode("Name a color.\n=> ")
	var ref strings.Builder
	must.M(g.WriteSliding(unmerged.Tok, prompt, generate.Options{MaxTokens: 8, StopAt: unmerged.Tok.EOT()}, &ref))
	want := strings.TrimPrefix(ref.String(), unmerged.Tok.Decode(prompt))
	for name, m := range map[string]*inference.Model{"base+adapter": unmerged, "merged": merged} {
		if got := must.M1(m.Generate("Name a color.\n=> ", generate.Params{MaxTokens: 8})); got != want {
			t.Errorf("%s: KV-cache greedy %q, full recompute %q", name, got, want)
		}
	}
	tok := unmerged.Tok
	prompt, cont := tok.Encode("Name three colors.\n\n=> "), tok.Encode("Red, green and blue.")
	var lp [3]float64
	for i, m := range []*inference.Model{unmerged, merged, plain} {
		lp[i] = must.M1(must.M1(NewScorer(m)).LogProb(prompt, cont))
	}
	if d := math.Abs(lp[0] - lp[1]); d > 1e-4 {
		t.Errorf("log p %v unmerged, %v merged", lp[0], lp[1])
	}
	differs := math.Abs(lp[0]-lp[2]) > 1e-4
	if !differs {
		t.Error("the adapter does not change the model's outputs")
	}
	// The run folder also holds a best checkpoint with its adapter.
	if res.Best == "" || !checkpoint.Has(res.Best, lora.AdapterFile) {
		t.Errorf("best checkpoint %q lacks an adapter", res.Best)
	}
}

func TestLoRATargets(t *testing.T) {
	// Llama-style: grouped-query attention (6 query heads, 2 key/value heads of 8) and SwiGLU.
	m := transformer.Config{VocabSize: 300, SeqLen: 16, Layers: 2, Width: 48, Heads: 6, KVHeads: 2, MLP: "swiglu", Positions: "rope", Norm: "rmsnorm"}
	m.Defaults()
	ts := must.M1(lora.ResolveTargets(m, []string{"q", "k", "v", "mlp"}))
	if len(ts) != 2*6 {
		t.Fatalf("%d targets, want 6 per layer", len(ts))
	}
	byName := map[string]lora.Target{}
	for _, x := range ts {
		byName[x.Name] = x
	}
	for name, want := range map[string]lora.Target{
		"h1/attn/q":   {Param: "h1/attn/wqkv", In: 48, Col0: 0, Cols: 48},
		"h1/attn/k":   {Param: "h1/attn/wqkv", In: 48, Col0: 48, Cols: 16},
		"h1/attn/v":   {Param: "h1/attn/wqkv", In: 48, Col0: 64, Cols: 16},
		"h0/mlp/gate": {Param: "h0/mlp/w_gate", In: 48, Col0: 0, Cols: m.MLPHidden},
		"h0/mlp/down": {Param: "h0/mlp/w_down", In: m.MLPHidden, Col0: 0, Cols: 48},
	} {
		want.Name = name
		if byName[name] != want {
			t.Errorf("%s: %+v, want %+v", name, byName[name], want)
		}
	}
	if _, err := lora.ResolveTargets(m, []string{"lm_head"}); err != nil {
		t.Errorf("untied lm_head: %v", err)
	}
	m.Tied, m.MLP = true, "gelu"
	for _, bad := range []string{"lm_head", "gate"} {
		if _, err := lora.ResolveTargets(m, []string{bad}); err == nil {
			t.Errorf("%s on a tied gelu model: no error", bad)
		}
	}
	if ts := must.M1(lora.ResolveTargets(m, []string{"all"})); len(ts) != 2*4 {
		t.Errorf("all on a gelu model: %d targets, want qkv, o, up, down per layer", len(ts))
	}
}

func TestAdapterSizeScalesWithRank(t *testing.T) {
	size := func(vocab, rank int) (adapter, full int) {
		cfg := train.DefaultConfig()
		cfg.Model = transformer.Config{VocabSize: vocab, SeqLen: 64, Layers: 2, Width: 64, Heads: 4, Bias: true, Tied: true}
		cfg.Model.Defaults()
		tr := must.M1(train.New(cfg, backend()))
		ad := must.M1(lora.NewAdapter(tr.Store, cfg.Model, lora.Config{Rank: rank, Alpha: 16, Targets: []string{"all"}}, 1))
		b := must.M1(ad.Files("base"))[lora.AdapterFile]
		header := int(binary.LittleEndian.Uint64(b[:8]))
		return len(b) - 8 - header, cfg.Model.NumParams() * 4 // tensor bytes, without the JSON header
	}
	a2, m1 := size(257, 2)
	a8, _ := size(257, 8)
	b8, m2 := size(8192, 8)
	// 4 bytes · rank · Σ(in+out): exactly linear in rank.
	if a8 != 4*a2 {
		t.Errorf("rank 8 adapter is %d bytes, rank 2 is %d: want 4 times as many", a8, a2)
	}
	if b8 != a8 || m2 < 3*m1 {
		t.Errorf("adapter %d bytes on a %d-byte model, %d bytes on a %d-byte model: want equal", a8, m1, b8, m2)
	}
	if a8*5 > m1 {
		t.Errorf("rank-8 adapter (%d bytes) is not small next to the model (%d bytes)", a8, m1)
	}
}

// valLoss is the masked validation loss of a model on the run's validation rows.
func valLoss(t testing.TB, cfg Config, ckpt string) float64 {
	dir := must.M1(checkpoint.Resolve(ckpt))
	bc, tok := must.M2(ReadBase(dir))
	d := must.M1(PrepareData(cfg.Data, tok, bc.Model.SeqLen, cfg.Train.Seed, io.Discard))
	rows, ws := Rows(d.ValToks, bc.Model.SeqLen, false, int32(tok.EOT()))
	src := NewSource(rows, ws, rows, ws, cfg.Train.BatchSize, 1, 100, int32(tok.EOT()))
	tr := must.M1(train.New(bc, backend()))
	must.M1(tr.Restore(dir, false))
	return must.M1(tr.EvalLoss(src.Eval()))
}

func TestFullFinetuneLowersValLoss(t *testing.T) {
	cfg := ftConfig(t, "train.steps=30", "train.eval_every=10", "optimizer.lr=3e-3")
	res, err := Run(context.Background(), cfg, train.Options{Backend: backend(), Quiet: true, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	before, after := valLoss(t, cfg, tinyBase(t)), valLoss(t, cfg, res.Best)
	t.Logf("masked validation loss on held-out Alpaca answers: base %.4f, fine-tuned %.4f (best at %s)", before, after, filepath.Base(res.Best))
	if after > before-0.15 || math.Abs(after-res.BestValLoss) > 1e-6 {
		t.Errorf("validation loss %.4f -> %.4f (run reported %.4f): want a drop of at least 0.15 nats", before, after, res.BestValLoss)
	}
	// Zero-shot, 2-shot and fine-tuned on the same held-out examples.
	d := must.M1(PrepareData(cfg.Data, must.M1(inference.Open(backend(), tinyBase(t), "")).Tok, 128, cfg.Train.Seed, io.Discard))
	opts := ShotOptions{Seed: 3, MaxTokens: 12, Limit: 4}
	var nll [3]float64
	for i, c := range []struct {
		ckpt string
		k    int
	}{{tinyBase(t), 0}, {tinyBase(t), 2}, {res.Best, 0}} {
		opts.K = c.k
		r := must.M1(must.M1(NewScorer(must.M1(inference.Open(backend(), c.ckpt, "")))).Evaluate(d.ValEx, d.TrainEx, opts))
		if r.N != 4 || len(r.Samples) != 4 {
			t.Fatalf("evaluated %d queries", r.N)
		}
		nll[i] = r.NLL
		t.Logf("%s: %s", filepath.Base(c.ckpt), r)
	}
	if nll[2] >= nll[0] {
		t.Errorf("fine-tuned answer NLL %.4f is not below zero-shot %.4f", nll[2], nll[0])
	}
}

// checkResume runs cfg again one step per process (resuming twice) and compares with the
// straight run a: every logged loss, the adapter, optimizer state and best checkpoint.
func checkResume(t *testing.T, cfg Config, a *Result, sets []string) {
	split := ftConfig(t, sets...)
	must.M1(Run(context.Background(), split, train.Options{Backend: backend(), Quiet: true, Log: io.Discard, StopAfter: 1}))
	var b *Result
	for i := 0; i < 2; i++ {
		var log bytes.Buffer
		var err error
		b, err = Run(context.Background(), split, train.Options{Backend: backend(), Quiet: true, Log: &log, Resume: true, StopAfter: 1})
		if err != nil || !strings.Contains(log.String(), "resumed from") {
			t.Fatalf("did not resume: %v\n%s", err, log.String())
		}
	}
	la := must.M1(train.ReadMetrics(filepath.Join(cfg.OutDir, "metrics.jsonl")))
	lb := must.M1(train.ReadMetrics(filepath.Join(split.OutDir, "metrics.jsonl")))
	// The interrupted process adds a validation pass at step 1; every line of the straight run
	// must be in the resumed run, bit for bit.
	type key struct {
		step int64
		val  bool
	}
	resumed := map[key]float64{}
	for _, m := range lb {
		resumed[key{m.Step, m.ValLoss != 0}] = m.Loss + m.ValLoss
	}
	for _, m := range la {
		k := key{m.Step, m.ValLoss != 0}
		if r, ok := resumed[k]; !ok || math.Float64bits(r) != math.Float64bits(m.Loss+m.ValLoss) {
			t.Errorf("step %d (validation %v): %v straight, %v resumed", m.Step, k.val, m.Loss+m.ValLoss, r)
		}
	}
	if len(la) < 5 {
		t.Errorf("%d metric lines in the straight run", len(la))
	}
	for _, f := range []string{lora.AdapterFile, checkpoint.OptimizerFile, checkpoint.ModelFile, StateFile} {
		if !bytes.Equal(must.M1(checkpoint.Read(a.Checkpoint, f)), must.M1(checkpoint.Read(b.Checkpoint, f))) {
			t.Errorf("%s differs between the straight and the resumed run", f)
		}
	}
	if a.BestValLoss != b.BestValLoss || filepath.Base(a.Best) != filepath.Base(b.Best) || a.Steps != b.Steps || !b.StoppedEarly {
		t.Errorf("best %v at %s, stop at %d straight; best %v at %s, stop at %d resumed", a.BestValLoss, a.Best, a.Steps, b.BestValLoss, b.Best, b.Steps)
	}
	// Resuming a run that stopped early trains no further.
	var log bytes.Buffer
	c := must.M1(Run(context.Background(), split, train.Options{Backend: backend(), Quiet: true, Log: &log, Resume: true}))
	if c.Steps != b.Steps || !c.StoppedEarly || !strings.Contains(log.String(), "nothing to resume") || filepath.Base(c.Best) != filepath.Base(b.Best) {
		t.Errorf("resuming a finished run: steps %d, best %s:\n%s", c.Steps, c.Best, log.String())
	}
}

func TestBadBase(t *testing.T) {
	base := must.M1(checkpoint.Resolve(tinyBase(t)))
	files := map[string][]byte{}
	for _, f := range []string{checkpoint.ModelFile, checkpoint.ConfigFile, checkpoint.StateFile} {
		files[f] = must.M1(checkpoint.Read(base, f))
	}
	noTok := must.M1((&checkpoint.Manager{Dir: t.TempDir()}).Save(1, files))
	cfg := ftConfig(t, "base="+noTok, "train.steps=1")
	if _, err := Run(context.Background(), cfg, train.Options{Backend: backend(), Quiet: true, Log: io.Discard}); err == nil || !strings.Contains(err.Error(), "has no tokenizer.json") {
		t.Errorf("base without a tokenizer: %v", err)
	}
	gpt2 := must.M1(tokenizer.LoadGPT2(filepath.Join(repoRoot(), "testdata/tokenizer/gpt2")))
	files[checkpoint.TokenizerFile] = must.M1(gpt2.MarshalJSON())
	wrongVocab := must.M1((&checkpoint.Manager{Dir: t.TempDir()}).Save(1, files))
	cfg = ftConfig(t, "base="+wrongVocab, "train.steps=1")
	if _, err := Run(context.Background(), cfg, train.Options{Backend: backend(), Quiet: true, Log: io.Discard}); err == nil || !strings.Contains(err.Error(), "tokenizer has 50257 ids but the model's vocabulary is 257") {
		t.Errorf("base with a mismatched tokenizer: %v", err)
	}
	if _, err := Run(context.Background(), ftConfig(t, "base="+t.TempDir()), train.Options{Backend: backend(), Quiet: true, Log: io.Discard}); err == nil || !strings.Contains(err.Error(), "holds no complete step-* checkpoint") {
		t.Errorf("empty base folder: %v", err)
	}
}

// TestLoRAAccumulationAndBFloat16 checks adapters train with gradient accumulation (the same
// update as one full batch) and in bfloat16 compute (close to the float32 update).
func TestLoRAAccumulationAndBFloat16(t *testing.T) {
	mk := func(micro int, dtype string) (*train.Trainer, *lora.Adapter) {
		cfg := train.DefaultConfig()
		cfg.Model = transformer.Config{VocabSize: 257, SeqLen: 16, Layers: 1, Width: 32, Heads: 2, Bias: true, Tied: true}
		cfg.Model.Defaults()
		cfg.Train.BatchSize, cfg.Train.MicroBatchSize, cfg.Train.DType, cfg.Optimizer.WarmupSteps = 4, micro, dtype, 0
		tr := must.M1(train.New(cfg, backend()))
		ad := must.M1(lora.NewAdapter(tr.Store, cfg.Model, lora.Config{Rank: 2, Alpha: 4, Targets: []string{"all"}}, 1))
		tr.Params, tr.Weights = adapterParams(ad), ad.Wrap(tr.Weights)
		must.M(tr.InitOptimizer())
		return tr, ad
	}
	batch := make([]int32, 4*17)
	for i := range batch {
		batch[i] = int32((i * 7) % 250)
	}
	var bs [3][]float32
	for i, c := range []struct {
		micro int
		dtype string
	}{{0, "float32"}, {2, "float32"}, {0, "bfloat16"}} {
		tr, ad := mk(c.micro, c.dtype)
		for s := 0; s < 3; s++ {
			if r := must.M1(tr.TrainStep(batch, nil)); r.Skipped || math.IsNaN(r.Loss) {
				t.Fatalf("%+v: step %d skipped, loss %v", c, s, r.Loss)
			}
		}
		bs[i] = tensors.MustCopyFlatData[float32](must.M1(tr.Store.GetVariable(ad.Paths()[1]).Value()))
	}
	var norm float64
	for i := range bs[0] {
		norm += float64(bs[0][i] * bs[0][i])
		if d := math.Abs(float64(bs[0][i] - bs[1][i])); d > 2e-4 {
			t.Fatalf("B[%d]: %v with one batch, %v with two micro-batches", i, bs[0][i], bs[1][i])
		}
	}
	if norm == 0 {
		t.Error("adapter B did not train")
	}
	// bfloat16 compute keeps float32 master weights: after 3 steps its adapter must be close
	// to the float32 one (relative L2 distance), and not equal to it (bf16 really ran).
	var diff float64
	for i := range bs[0] {
		d := float64(bs[2][i] - bs[0][i])
		diff += d * d
	}
	rel := math.Sqrt(diff / norm)
	t.Logf("bfloat16 adapter B vs float32: relative L2 distance %.4f", rel)
	if rel > 0.1 || rel == 0 {
		t.Errorf("bfloat16 adapter B is %.4f (relative L2) from the float32 one: want a small nonzero distance (under 0.1)", rel)
	}
}

// TestEvalFitsContext (issue 10, item 14): an answer longer than the context is skipped and
// counted instead of aborting the evaluation, and k-shot prompts whose shots are cut to fit
// are counted and reported, so k=0 and k=3 scoring alike is never silent.
func TestEvalFitsContext(t *testing.T) {
	s := must.M1(NewScorer(must.M1(inference.Open(backend(), tinyBase(t), ""))))
	gsm := read(t, dataCfg(nil), sft("gsm8k_first40.jsonl"))
	r, err := s.Evaluate(gsm.Examples[:6], gsm.Examples, ShotOptions{MaxTokens: 2})
	if err != nil {
		t.Fatalf("eval aborted: %v", err)
	}
	if r.Skipped == 0 || r.N+r.Skipped != 6 || len(r.Samples) != r.N {
		t.Errorf("GSM8K answers in a 128-byte context: %d scored, %d skipped of 6", r.N, r.Skipped)
	}
	cfg := ftConfig(t)
	ds := must.M1(ReadFiles(cfg.Data.Train, cfg.Data))
	var log strings.Builder
	r0 := must.M1(s.Evaluate(ds.Examples[:4], ds.Examples, ShotOptions{MaxTokens: 2, Log: &log}))
	r3 := must.M1(s.Evaluate(ds.Examples[:4], ds.Examples, ShotOptions{K: 3, MaxTokens: 2, Log: &log}))
	if r0.ShotsCut != 0 || r3.ShotsCut == 0 || r3.Truncated < r3.ShotsCut {
		t.Errorf("shots cut: k=0 %d, k=3 %d (truncated %d)", r0.ShotsCut, r3.ShotsCut, r3.Truncated)
	}
	if !strings.Contains(log.String(), "their shots were cut") || !strings.Contains(r3.String(), "lost shots") {
		t.Errorf("no warning about cut shots: %q / %s", log.String(), r3)
	}
}
