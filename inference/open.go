// Package inference opens a checkpoint for generation, scoring and serving: its model config,
// tokenizer and weights, with a LoRA adapter on top when one is given or the checkpoint
// carries one. It reads only what a checkpoint holds (package checkpoint names the files), so
// the commands that use a model, and the generate, evaluate and serve packages under them,
// never link the training code.
package inference

import (
	"context"
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/chattemplate"
	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/generate"
	"github.com/golem-ml/golem/lora"
	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
)

// paramScope is where Open puts the model's parameters in its store, by transformer name.
const paramScope = "/model/"

// Model is an opened checkpoint, optionally with a LoRA adapter on top (unmerged).
type Model struct {
	Dir     string             // the checkpoint folder
	Name    string             // the run's name in its config.yaml
	Cfg     transformer.Config // the model section of config.yaml
	Tok     tokenizer.Tokenizer
	Backend compute.Backend
	Store   *model.Store
	// Weights builds the parameter lookup inside a graph: the checkpoint's parameters, read
	// through the adapter when there is one.
	Weights func(g *Graph) transformer.Weights
	Adapter *lora.Adapter // nil for a plain model

	engine *generate.Engine // Engine's, made on first use
}

// Open reads a checkpoint (a step-* folder, or a run folder: its newest complete checkpoint).
// adapter, when not empty, is a checkpoint (or run folder) of a LoRA run whose adapter goes on
// top of the base, unmerged; a LoRA run's own checkpoint given as the base opens with its adapter.
func Open(backend compute.Backend, path, adapter string) (*Model, error) {
	dir, err := checkpoint.Resolve(path)
	if err != nil {
		return nil, err
	}
	name, cfg, tok, err := ReadConfigAndTokenizer(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Dir: dir, Name: name, Cfg: cfg, Tok: tok, Backend: backend, Store: model.NewStore()}
	if err := m.loadParams(); err != nil {
		return nil, err
	}
	params := func(g *Graph, _ bool) transformer.Weights {
		return func(name string) *Node { return m.Store.GetVariable(paramScope + name).NodeValue(g) }
	}
	if adapter == "" && checkpoint.Has(dir, lora.AdapterFile) {
		adapter = dir
	}
	if adapter != "" {
		if m.Adapter, err = lora.Load(m.Store, cfg, adapter); err != nil {
			return nil, fmt.Errorf("%w (base %s)", err, dir)
		}
		params = m.Adapter.Wrap(params)
	}
	m.Weights = func(g *Graph) transformer.Weights { return params(g, false) } // never a training graph
	return m, nil
}

// ReadConfigAndTokenizer checks that a checkpoint folder holds a model (config.yaml,
// tokenizer.json and model.safetensors) and reads what every use of it needs besides the
// weights: the run's name and model config (ReadModelConfig) and its tokenizer, checked to
// belong together.
func ReadConfigAndTokenizer(dir string) (string, transformer.Config, tokenizer.Tokenizer, error) {
	for _, f := range []string{checkpoint.ConfigFile, checkpoint.TokenizerFile, checkpoint.ModelFile} {
		if !checkpoint.Has(dir, f) {
			return "", transformer.Config{}, nil, fmt.Errorf("checkpoint %s has no %s; a model checkpoint needs %s, %s and %s (as pretrain, finetune and convert import write them)",
				dir, f, checkpoint.ConfigFile, checkpoint.TokenizerFile, checkpoint.ModelFile)
		}
	}
	name, cfg, err := ReadModelConfig(dir)
	if err != nil {
		return "", cfg, nil, err
	}
	tok, err := checkpoint.ReadTokenizer(dir)
	if err != nil {
		return "", cfg, nil, err
	}
	if tok.VocabSize() > cfg.VocabSize {
		return "", cfg, nil, fmt.Errorf("checkpoint %s: its tokenizer has %d ids but the model's vocabulary is %d (model.vocab_size); tokenizer and weights do not belong together", dir, tok.VocabSize(), cfg.VocabSize)
	}
	return name, cfg, tok, nil
}

// ReadModelConfig reads the run's name and its model section from a checkpoint's config.yaml,
// with the model's defaults filled in and checked. (The rest of the file is the training run's
// config, which package train reads.)
func ReadModelConfig(dir string) (string, transformer.Config, error) {
	var cfg transformer.Config
	b, err := checkpoint.Read(dir, checkpoint.ConfigFile)
	if err != nil {
		return "", cfg, err
	}
	file := dir + "/" + checkpoint.ConfigFile
	var name string
	if err := config.DecodeKey(b, file, "name", &name); err != nil {
		return "", cfg, err
	}
	if err := config.DecodeKey(b, file, "model", &cfg); err != nil {
		return "", cfg, err
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return "", cfg, fmt.Errorf("%s: %w", file, err)
	}
	return name, cfg, nil
}

// loadParams creates one store variable per model parameter from model.safetensors. A missing
// parameter, an extra tensor or a shape that differs from config.yaml's model is an error;
// half-precision tensors are widened to float32.
func (m *Model) loadParams() error {
	b, err := checkpoint.Read(m.Dir, checkpoint.ModelFile)
	if err != nil {
		return err
	}
	file := m.Dir + "/" + checkpoint.ModelFile
	f, err := safetensors.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := m.Cfg.CheckTensors(file, f.Shapes()); err != nil {
		return err
	}
	for _, p := range m.Cfg.ParamShapes() {
		data, err := f.Tensors[p.Name].Float32s()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", file, p.Name, err)
		}
		if _, err := m.Store.CreateVariable(paramScope+p.Name, tensors.FromFlatDataAndDimensions(data, p.Dims...)); err != nil {
			return err
		}
	}
	return nil
}

// Generation is the model for generate.NewEngine.
func (m *Model) Generation() generate.Model {
	return generate.Model{Backend: m.Backend, Store: m.Store, Cfg: m.Cfg, Weights: m.Weights, Tok: m.Tok}
}

// Engine is the model's KV-cache generation engine (generate.NewEngine over Generation), made
// on first use and kept: its compiled graphs serve every later call.
func (m *Model) Engine() (*generate.Engine, error) {
	if m.engine == nil {
		e, err := generate.NewEngine(m.Generation())
		if err != nil {
			return nil, fmt.Errorf("compiling the generation engine for %s: %w", m.Dir, err)
		}
		m.engine = e
	}
	return m.engine, nil
}

// Generate continues prompt (encoded as plain text; an empty one starts from end-of-text) by up
// to p.MaxTokens tokens with the KV-cache engine and returns the continuation's text. With no
// p.StopIDs it stops at the tokenizer's end-of-text id (and BOS, where there is one:
// generate.StopIDs). The prompt's tokens + p.MaxTokens must fit the context (model.seq_len):
// otherwise the error says by how much.
func (m *Model) Generate(prompt string, p generate.Params) (string, error) {
	e, err := m.Engine()
	if err != nil {
		return "", err
	}
	if len(p.StopIDs) == 0 {
		p.StopIDs = generate.StopIDs(m.Tok)
	}
	ids := m.Tok.Encode(prompt)
	if len(ids) == 0 {
		ids = []int{max(m.Tok.EOT(), 0)}
	}
	res, err := e.Generate(context.Background(), [][]int{ids}, p)
	if err != nil {
		return "", fmt.Errorf("generating with %s: %w", m.Dir, err)
	}
	return res[0].Text, nil
}

// OpenEngine is what the generating commands (sample, chat, serve) start with: the backend
// for generation (backends.ForInference: an explicit name, else $GOMLX_BACKEND, else XLA or
// Go), the checkpoint with its adapter, and a KV-cache engine over it.
func OpenEngine(backendName, path, adapter string) (*Model, *generate.Engine, error) {
	backend, err := backends.ForInference(backendName)
	if err != nil {
		return nil, nil, err
	}
	m, err := Open(backend, path, adapter)
	if err != nil {
		return nil, nil, err
	}
	e, err := m.Engine()
	if err != nil {
		return nil, nil, err
	}
	return m, e, nil
}

// OpenChat is what the chat commands (chat, serve) start with: the chat template (a built-in
// name or a file, read first so a bad one fails before the weights load), then OpenEngine.
func OpenChat(backendName, path, adapter, template string) (*Model, *generate.Engine, *chattemplate.Template, error) {
	tmpl, err := chattemplate.Load(template)
	if err != nil {
		return nil, nil, nil, err
	}
	m, e, err := OpenEngine(backendName, path, adapter)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, e, tmpl, nil
}
