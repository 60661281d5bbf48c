package finetune

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/checkpoint"
	"github.com/golem-ml/golem/config"
	"github.com/golem-ml/golem/inference"
	"github.com/golem-ml/golem/safetensors"
	"github.com/golem-ml/golem/tokenizer"
	"github.com/golem-ml/golem/train"
)

// ReadBase reads a base checkpoint's whole run config (the fine-tuning run starts from its
// model and keeps its settings where the fine-tuning config has none) and its tokenizer,
// checked as inference.Open checks them.
func ReadBase(dir string) (train.Config, tokenizer.Tokenizer, error) {
	_, _, tok, err := inference.ReadConfigAndTokenizer(dir)
	if err != nil {
		return train.Config{}, nil, fmt.Errorf("base: %w", err)
	}
	cfg, err := train.ReadConfig(dir)
	if err != nil {
		return cfg, nil, fmt.Errorf("base: %w", err)
	}
	return cfg, tok, nil
}

// Merged returns every model parameter of m with its adapter folded in: W + scale·A·B,
// computed by the same graph code the unmerged model runs.
func Merged(m *inference.Model) (map[string]safetensors.Tensor, error) {
	out := map[string]safetensors.Tensor{}
	var names []string
	for _, p := range m.Cfg.ParamShapes() {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	exec, err := model.NewExec(m.Backend, m.Store, func(_ *model.Scope, x *Node) []*Node {
		w := m.Weights(x.Graph())
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

// Merge opens base with the adapter of a LoRA run or checkpoint and writes the merged plain
// checkpoint into the run folder out. Returns the checkpoint folder.
func Merge(backend compute.Backend, base, adapter, out string) (string, error) {
	if adapter == "" {
		return "", fmt.Errorf("merge: no adapter given")
	}
	m, err := inference.Open(backend, base, adapter)
	if err != nil {
		return "", err
	}
	return SaveMerged(m, out)
}

// SaveMerged writes a plain checkpoint (no adapter) into the run folder out: model.safetensors
// with m's adapter folded in, the base's config and tokenizer. Returns the checkpoint folder.
func SaveMerged(m *inference.Model, out string) (string, error) {
	ws, err := Merged(m)
	if err != nil {
		return "", err
	}
	step, _ := checkpoint.Step(m.Dir)
	files := map[string][]byte{}
	var buf bytesBuffer
	if err := safetensors.Write(&buf, ws, map[string]string{"format": "golem", "merged_from": m.Dir}); err != nil {
		return "", err
	}
	files[checkpoint.ModelFile] = buf.b
	cfg, err := train.ReadConfig(m.Dir) // the base's run config, as it was
	if err != nil {
		return "", err
	}
	if files[checkpoint.ConfigFile], err = config.Marshal(cfg); err != nil {
		return "", err
	}
	if files[checkpoint.TokenizerFile], err = m.Tok.MarshalJSON(); err != nil {
		return "", err
	}
	if files[checkpoint.StateFile], err = json.MarshalIndent(checkpoint.State{Step: step}, "", "  "); err != nil {
		return "", err
	}
	return (&checkpoint.Manager{Dir: out}).Save(step, files)
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
