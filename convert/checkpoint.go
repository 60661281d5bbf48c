package convert

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
)

// importedConfig is the part of a run config (train.Config's config.yaml) an imported
// checkpoint has: its name and model, and where its tokenizer is. Readers fill every other key
// with the training defaults, as for any key a run config leaves out.
type importedConfig struct {
	Name      string             `yaml:"name"`
	OutDir    string             `yaml:"out_dir"`
	Model     transformer.Config `yaml:"model"`
	Tokenizer struct {
		Path string `yaml:"path"`
	} `yaml:"tokenizer"`
}

// Save writes m as a step-0 golem checkpoint under out (out/step-00000000, atomically, via
// checkpoint.Manager) with model.safetensors, config.yaml (m's name and model), state.json
// and tokenizer.json, so that inference.Open (sample, chat, serve, evaluate) and finetune
// --base accept it. It returns the checkpoint folder.
func Save(m *Model, out string) (string, error) {
	mf, err := m.ModelFile()
	if err != nil {
		return "", err
	}
	cfg := importedConfig{Name: m.Name, OutDir: out, Model: m.Config}
	if cfg.Name == "" {
		cfg.Name = "imported"
	}
	cfg.Tokenizer.Path = filepath.Join(out, checkpoint.Name(0), checkpoint.TokenizerFile)
	if err := cfg.Model.Validate(); err != nil { // no data section yet: finetune fills it
		return "", fmt.Errorf("imported model: %w", err)
	}
	files := map[string][]byte{checkpoint.ModelFile: mf}
	if files[checkpoint.ConfigFile], err = config.Marshal(cfg); err != nil {
		return "", err
	}
	if files[checkpoint.StateFile], err = json.MarshalIndent(checkpoint.State{}, "", "  "); err != nil {
		return "", err
	}
	if m.Tokenizer != nil {
		if files[checkpoint.TokenizerFile], err = m.Tokenizer.MarshalJSON(); err != nil {
			return "", fmt.Errorf("encoding tokenizer.json: %w", err)
		}
	}
	return (&checkpoint.Manager{Dir: out}).Save(0, files)
}

// Load reads a golem checkpoint: a step folder, or a run folder (its latest checkpoint).
// Every file is checked against the checkpoint's manifest.
func Load(dir string) (*Model, error) {
	dir, err := checkpoint.Resolve(dir)
	if err != nil {
		return nil, err
	}
	name, mc, err := inference.ReadModelConfig(dir)
	if err != nil {
		return nil, err
	}
	mb, err := checkpoint.Read(dir, checkpoint.ModelFile)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Parse(mb)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, checkpoint.ModelFile, err)
	}
	m := &Model{Config: mc, Params: map[string][]float32{}, Name: name, Source: dir}
	for _, p := range m.Config.ParamShapes() {
		t, ok := f.Tensors[p.Name]
		if !ok {
			return nil, fmt.Errorf("%s/%s: parameter %s is missing (is this a LoRA checkpoint? merge it first)", dir, checkpoint.ModelFile, p.Name)
		}
		if !slices.Equal(t.Shape, p.Dims) || t.DType != "F32" {
			return nil, fmt.Errorf("%s/%s: %s is %s %v, config.yaml wants F32 %v", dir, checkpoint.ModelFile, p.Name, t.DType, t.Shape, p.Dims)
		}
		m.Params[p.Name] = floats(t.Data)
	}
	if len(f.Tensors) != len(m.Params) {
		return nil, fmt.Errorf("%s/%s: %d tensors, config.yaml describes %d parameters", dir, checkpoint.ModelFile, len(f.Tensors), len(m.Params))
	}
	if checkpoint.Has(dir, checkpoint.TokenizerFile) {
		if m.Tokenizer, err = checkpoint.ReadTokenizer(dir); err != nil {
			return nil, err
		}
	}
	return m, nil
}
