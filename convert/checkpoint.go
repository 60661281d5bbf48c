package convert

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// Save writes m as a step-0 golem checkpoint under out (out/step-00000000, atomically, via
// checkpoint.Manager) with model.safetensors, config.yaml (train defaults with m's model),
// state.json and tokenizer.json, so that train.Trainer.Restore, finetune --base, evaluate
// and sample accept it. It returns the checkpoint folder.
func Save(m *Model, out string) (string, error) {
	mf, err := m.ModelFile()
	if err != nil {
		return "", err
	}
	cfg := train.DefaultConfig()
	cfg.Model = m.Config
	cfg.Name = m.Name
	if cfg.Name == "" {
		cfg.Name = "imported"
	}
	cfg.OutDir = out
	cfg.Tokenizer.Path = filepath.Join(out, checkpoint.Name(0), train.TokenizerFile)
	if err := cfg.Model.Validate(); err != nil { // no data section yet: finetune fills it
		return "", fmt.Errorf("imported model: %w", err)
	}
	files := map[string][]byte{train.ModelFile: mf}
	if files[train.ConfigFile], err = config.Marshal(cfg); err != nil {
		return "", err
	}
	if files[train.StateFile], err = json.MarshalIndent(train.State{}, "", "  "); err != nil {
		return "", err
	}
	if m.Tokenizer != nil {
		if files[train.TokenizerFile], err = m.Tokenizer.MarshalJSON(); err != nil {
			return "", fmt.Errorf("encoding tokenizer.json: %w", err)
		}
	}
	return (&checkpoint.Manager{Dir: out}).Save(0, files)
}

// Load reads a golem checkpoint: a step folder, or a run folder (its latest checkpoint).
// Every file is checked against the checkpoint's manifest.
func Load(dir string) (*Model, error) {
	if _, err := checkpoint.Step(dir); err != nil {
		latest, lerr := (&checkpoint.Manager{Dir: dir}).Latest()
		if lerr != nil || latest == "" {
			return nil, fmt.Errorf("%s is neither a complete checkpoint nor a run folder holding one: %w", dir, err)
		}
		dir = latest
	}
	cb, err := checkpoint.Read(dir, train.ConfigFile)
	if err != nil {
		return nil, err
	}
	cfg := train.DefaultConfig()
	if err := config.Decode(cb, filepath.Join(dir, train.ConfigFile), &cfg); err != nil {
		return nil, err
	}
	cfg.Model.Defaults()
	mb, err := checkpoint.Read(dir, train.ModelFile)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Parse(mb)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, train.ModelFile, err)
	}
	m := &Model{Config: cfg.Model, Params: map[string][]float32{}, Name: cfg.Name, Source: dir}
	if err := m.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, train.ConfigFile, err)
	}
	for _, p := range m.Config.ParamShapes() {
		t, ok := f.Tensors[p.Name]
		if !ok {
			return nil, fmt.Errorf("%s/%s: parameter %s is missing (is this a LoRA checkpoint? merge it first)", dir, train.ModelFile, p.Name)
		}
		if !slices.Equal(t.Shape, p.Dims) || t.DType != "F32" {
			return nil, fmt.Errorf("%s/%s: %s is %s %v, config.yaml wants F32 %v", dir, train.ModelFile, p.Name, t.DType, t.Shape, p.Dims)
		}
		m.Params[p.Name] = floats(t.Data)
	}
	if len(f.Tensors) != len(m.Params) {
		return nil, fmt.Errorf("%s/%s: %d tensors, config.yaml describes %d parameters", dir, train.ModelFile, len(f.Tensors), len(m.Params))
	}
	if checkpoint.Has(dir, train.TokenizerFile) {
		tb, err := checkpoint.Read(dir, train.TokenizerFile)
		if err != nil {
			return nil, err
		}
		if m.Tokenizer, err = tokenizer.Parse(tb); err != nil {
			return nil, fmt.Errorf("%s/%s: %w", dir, train.TokenizerFile, err)
		}
	}
	return m, nil
}
