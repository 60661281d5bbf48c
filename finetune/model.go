package finetune

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/evaluate"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// ResolveCheckpoint turns a checkpoint folder or a run folder (its newest complete checkpoint)
// into a checkpoint folder.
func ResolveCheckpoint(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("checkpoint %s is a file; give a checkpoint folder (step-NNNNNNNN) or a run folder", path)
	}
	if checkpoint.Has(path, checkpoint.Marker) {
		return path, nil
	}
	latest, err := (&checkpoint.Manager{Dir: path}).Latest()
	if err != nil {
		return "", err
	}
	if latest == "" {
		return "", fmt.Errorf("checkpoint %s: not a checkpoint (no %s marker) and holds no complete step-* checkpoint", path, checkpoint.Marker)
	}
	return latest, nil
}

// ReadBase reads a checkpoint's run config and tokenizer, and checks they fit together.
func ReadBase(dir string) (train.Config, tokenizer.Tokenizer, error) {
	cfg := train.DefaultConfig()
	for _, f := range []string{train.ConfigFile, train.TokenizerFile, train.ModelFile} {
		if !checkpoint.Has(dir, f) {
			return cfg, nil, fmt.Errorf("base %s has no %s; a base checkpoint needs %s, %s and %s (as pretrain writes them)", dir, f, train.ConfigFile, train.TokenizerFile, train.ModelFile)
		}
	}
	b, err := checkpoint.Read(dir, train.ConfigFile)
	if err != nil {
		return cfg, nil, err
	}
	if err := config.Decode(b, dir+"/"+train.ConfigFile, &cfg); err != nil {
		return cfg, nil, err
	}
	cfg.Model.Defaults()
	if err := cfg.Model.Validate(); err != nil {
		return cfg, nil, fmt.Errorf("base %s/%s: %w", dir, train.ConfigFile, err)
	}
	tb, err := checkpoint.Read(dir, train.TokenizerFile)
	if err != nil {
		return cfg, nil, err
	}
	tok, err := tokenizer.Parse(tb)
	if err != nil {
		return cfg, nil, fmt.Errorf("base %s/%s: %w", dir, train.TokenizerFile, err)
	}
	if tok.VocabSize() > cfg.Model.VocabSize {
		return cfg, nil, fmt.Errorf("base %s: its tokenizer has %d ids but the model's vocabulary is %d (model.vocab_size); tokenizer and weights do not belong together", dir, tok.VocabSize(), cfg.Model.VocabSize)
	}
	return cfg, tok, nil
}

// Model is a loaded checkpoint, optionally with a LoRA adapter on top, for generation,
// scoring, evaluation and merging.
type Model struct {
	Dir     string // the base checkpoint folder
	Cfg     train.Config
	Tok     tokenizer.Tokenizer
	Trainer *train.Trainer // holds the store and the weights function
	Adapter *Adapter       // nil for a plain model

	gen *generate.Generator
}

// Load reads a checkpoint (folder or run folder). adapter, when not empty, is a checkpoint (or
// run folder) of a LoRA run whose adapter is put on top of the base, unmerged. A LoRA run's own
// checkpoint given as base loads with its adapter.
func Load(backend compute.Backend, base, adapter string) (*Model, error) {
	dir, err := ResolveCheckpoint(base)
	if err != nil {
		return nil, err
	}
	cfg, tok, err := ReadBase(dir)
	if err != nil {
		return nil, err
	}
	t, err := train.New(cfg, backend)
	if err != nil {
		return nil, err
	}
	if _, err := t.Restore(dir, false); err != nil {
		return nil, err
	}
	m := &Model{Dir: dir, Cfg: cfg, Tok: tok, Trainer: t}
	if adapter == "" && checkpoint.Has(dir, AdapterFile) {
		adapter = dir
	}
	if adapter != "" {
		if err := m.loadAdapter(adapter); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Model) loadAdapter(path string) error {
	dir, err := ResolveCheckpoint(path)
	if err != nil {
		return err
	}
	if !checkpoint.Has(dir, AdapterFile) {
		return fmt.Errorf("adapter %s has no %s (not a LoRA run checkpoint?)", dir, AdapterFile)
	}
	mb, err := checkpoint.Read(dir, AdapterConfigFile)
	if err != nil {
		return err
	}
	var meta AdapterMeta
	if err := json.Unmarshal(mb, &meta); err != nil {
		return fmt.Errorf("%s/%s: %w", dir, AdapterConfigFile, err)
	}
	if !sameShape(meta.Model, m.Cfg.Model) {
		return fmt.Errorf("adapter %s was trained on a different model (%+v) than base %s (%+v)", dir, meta.Model, m.Dir, m.Cfg.Model)
	}
	ab, err := checkpoint.Read(dir, AdapterFile)
	if err != nil {
		return err
	}
	f, err := safetensors.Parse(ab)
	if err != nil {
		return fmt.Errorf("%s/%s: %w", dir, AdapterFile, err)
	}
	ad, err := NewAdapter(m.Trainer.Store, m.Cfg.Model, LoRAConfig{Rank: meta.Rank, Alpha: meta.Alpha, Targets: meta.Targets}, 0)
	if err != nil {
		return fmt.Errorf("adapter %s: %w", dir, err)
	}
	if err := ad.SetFrom(f, dir+"/"+AdapterFile); err != nil {
		return err
	}
	m.Adapter = ad
	m.Trainer.Weights = ad.Wrap(m.Trainer.Weights)
	return nil
}

// Weights is the model's parameter lookup (with the adapter, if any).
func (m *Model) Weights() func(g *Graph) transformer.Weights { return m.Trainer.InferenceWeights }

// Generate continues prompt (encoded as plain text) by up to opts.MaxTokens tokens, stopping at
// the end-of-text id when opts.StopAt is 0; returns the decoded continuation.
func (m *Model) Generate(prompt string, opts generate.Options) (string, error) {
	if m.gen == nil {
		g, err := generate.New(m.Trainer.Backend, m.Trainer.Store, m.Cfg.Model, m.Weights())
		if err != nil {
			return "", err
		}
		m.gen = g
	}
	if opts.StopAt == 0 {
		opts.StopAt = m.Tok.EOT()
	}
	ids := m.Tok.Encode(prompt)
	if len(ids) == 0 {
		ids = []int{max(m.Tok.EOT(), 0)}
	}
	out, err := m.gen.Generate(ids, opts)
	if n := len(out); n > 0 && out[n-1] == m.Tok.EOT() {
		out = out[:n-1]
	}
	return m.Tok.Decode(out), err
}

// Merged returns every model parameter with the adapter folded in: W + scale·A·B, computed by
// the same graph code the unmerged model runs.
func (m *Model) Merged() (map[string]safetensors.Tensor, error) {
	out := map[string]safetensors.Tensor{}
	var names []string
	for _, p := range m.Cfg.Model.ParamShapes() {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	exec, err := model.NewExec(m.Trainer.Backend, m.Trainer.Store, func(_ *model.Scope, x *Node) []*Node {
		w := m.Trainer.InferenceWeights(x.Graph())
		nodes := make([]*Node, len(names))
		for i, n := range names {
			nodes[i] = Add(w(n), ZerosLike(x)) // ZerosLike(x) makes every output a fresh buffer
		}
		return nodes
	})
	if err != nil {
		return nil, err
	}
	vals, err := exec.Call(tensors.FromScalar(float32(0)))
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	for i, n := range names {
		out[n] = safetensors.F32(tensors.MustCopyFlatData[float32](vals[i]), vals[i].Shape().Dimensions...)
	}
	return out, nil
}

// Merge loads base with the adapter of a LoRA run or checkpoint and writes the merged plain
// checkpoint into the run folder out. Returns the checkpoint folder.
func Merge(backend compute.Backend, base, adapter, out string) (string, error) {
	if adapter == "" {
		return "", fmt.Errorf("merge: no adapter given")
	}
	m, err := Load(backend, base, adapter)
	if err != nil {
		return "", err
	}
	return m.SaveMerged(out)
}

// SaveMerged writes a plain checkpoint (no adapter) into the run folder out: model.safetensors
// with the adapter folded in, the base's config and tokenizer. Returns the checkpoint folder.
func (m *Model) SaveMerged(out string) (string, error) {
	ws, err := m.Merged()
	if err != nil {
		return "", err
	}
	step, _ := checkpoint.Step(m.Dir)
	files := map[string][]byte{}
	var buf bytesBuffer
	if err := safetensors.Write(&buf, ws, map[string]string{"format": "golem", "merged_from": m.Dir}); err != nil {
		return "", err
	}
	files[train.ModelFile] = buf.b
	if files[train.ConfigFile], err = config.Marshal(m.Cfg); err != nil {
		return "", err
	}
	if files[train.TokenizerFile], err = m.Tok.MarshalJSON(); err != nil {
		return "", err
	}
	if files[train.StateFile], err = json.MarshalIndent(train.State{Step: step}, "", "  "); err != nil {
		return "", err
	}
	return (&checkpoint.Manager{Dir: out}).Save(step, files)
}

// sameShape compares model configs, ignoring training-only settings (dropout).
func sameShape(a, b transformer.Config) bool {
	a.Dropout, b.Dropout = 0, 0
	return reflect.DeepEqual(a, b)
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// LM is the model as the evaluation scorer sees it (weights with the adapter, if any).
func (m *Model) LM() evaluate.LM {
	return evaluate.LM{Backend: m.Trainer.Backend, Store: m.Trainer.Store, Cfg: m.Cfg.Model, Weights: m.Weights(), Tok: m.Tok}
}

// Generation is the model (with its adapter, if any) for generate.NewEngine.
func (m *Model) Generation() generate.Model {
	return generate.Model{Backend: m.Trainer.Backend, Store: m.Trainer.Store, Cfg: m.Cfg.Model, Weights: m.Weights(), Tok: m.Tok}
}
