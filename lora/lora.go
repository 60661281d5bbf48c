// Package lora is low-rank adaptation of a transformer's matrices: the adapter's variables,
// the weights function that reads W + (alpha/rank)·A·B, and its files in a checkpoint.
// Fine-tuning trains an adapter (package finetune); inference loads one onto its base (Load).
package lora

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/golem-ml/golem/models/transformer"
	"github.com/golem-ml/golem/safetensors"
)

// Files of an adapter (inside every checkpoint of a LoRA run).
const (
	AdapterFile       = "adapter.safetensors" // A and B of every target, "<target>/a", "<target>/b"
	AdapterConfigFile = "adapter_config.json" // AdapterMeta
)

// Store paths of LoRA state.
const (
	loraScope = "/lora/"
	loraRNG   = "/lora_rng"
)

var targetAliases = map[string][]string{
	"q": {"q"}, "k": {"k"}, "v": {"v"}, "qkv": {"qkv"}, "o": {"o"}, "gate": {"gate"}, "up": {"up"}, "down": {"down"},
	"lm_head": {"lm_head"}, "attn": {"qkv", "o"}, "mlp": {"gate", "up", "down"}, "all": {"qkv", "o", "gate", "up", "down"},
}

// Config is low-rank adaptation (the lora section of a fine-tuning config): each target matrix W [in, out] is read as
// W + (alpha/rank)·A·B with A [in, rank] and B [rank, out] (B starts at zero) and only A and B train.
type Config struct {
	Rank    int     `yaml:"rank"`
	Alpha   float64 `yaml:"alpha"`
	Dropout float64 `yaml:"dropout"` // on the adapter's input features, one mask per step
	// Targets: q, k, v (column blocks of the fused attention matrix), qkv, o, gate, up, down,
	// lm_head; aliases attn (qkv, o), mlp (gate, up, down) and all (attn, mlp).
	Targets []string `yaml:"targets"`
}

// Validate checks the keys of a lora section; errors name the key and the accepted values.
func (l Config) Validate() error {
	switch {
	case l.Rank <= 0:
		return fmt.Errorf("lora.rank: %d must be positive", l.Rank)
	case l.Alpha <= 0:
		return fmt.Errorf("lora.alpha: %g must be positive", l.Alpha)
	case l.Dropout < 0 || l.Dropout >= 1:
		return fmt.Errorf("lora.dropout: %g must be in [0, 1)", l.Dropout)
	case len(l.Targets) == 0:
		return fmt.Errorf("lora.targets: empty; name at least one of q, k, v, qkv, o, gate, up, down, lm_head, attn, mlp, all")
	}
	for _, t := range l.Targets {
		if _, ok := targetAliases[t]; !ok {
			return fmt.Errorf("lora.targets: %q is not one of q, k, v, qkv, o, gate, up, down, lm_head, attn, mlp, all", t)
		}
	}
	return nil
}

// Target is one adapted block of a model matrix: columns [Col0, Col0+Cols) of Param [In, *].
type Target struct {
	Name  string // adapter name, e.g. h0/attn/q
	Param string // model parameter, e.g. h0/attn/wqkv
	In    int
	Col0  int
	Cols  int
}

// AdapterMeta is adapter_config.json: enough to load an adapter onto its base and check they match.
type AdapterMeta struct {
	Rank    int                `json:"rank"`
	Alpha   float64            `json:"alpha"`
	Dropout float64            `json:"dropout"`
	Targets []string           `json:"targets"`
	Base    string             `json:"base"` // the base checkpoint the adapter was trained on
	Model   transformer.Config `json:"model"`
}

// Adapter holds the LoRA variables of a model in its store and reads the model through them.
type Adapter struct {
	Cfg     Config
	Model   transformer.Config
	Targets []Target
	Store   *model.Store

	byParam map[string][]Target
}

// ResolveTargets lists the adapted blocks for target names on a model.
func ResolveTargets(m transformer.Config, names []string) ([]Target, error) {
	want := map[string]bool{}
	for _, n := range names {
		al, ok := targetAliases[n]
		if !ok {
			return nil, fmt.Errorf("lora.targets: unknown target %q", n)
		}
		for _, a := range al {
			if a == "gate" && m.MLP != transformer.SwiGLU && n != "gate" {
				continue // the alias covers the gate only where there is one
			}
			want[a] = true
		}
	}
	D, H, K, C, F := m.HeadDim(), m.Heads, m.KVHeads, m.Width, m.MLPHidden
	var ts []Target
	for l := 0; l < m.Layers; l++ {
		p := transformer.LayerPrefix(l)
		add := func(kind, param string, in, col0, cols int) {
			if want[kind] {
				ts = append(ts, Target{Name: p + strings.Split(param, "/")[0] + "/" + kind, Param: p + param, In: in, Col0: col0, Cols: cols})
			}
		}
		qkv := (H + 2*K) * D
		add("qkv", "attn/wqkv", C, 0, qkv)
		add("q", "attn/wqkv", C, 0, H*D)
		add("k", "attn/wqkv", C, H*D, K*D)
		add("v", "attn/wqkv", C, (H+K)*D, K*D)
		add("o", "attn/wo", H*D, 0, C)
		if want["gate"] && m.MLP != transformer.SwiGLU {
			return nil, fmt.Errorf("lora.targets: gate: the model's MLP is %s, which has no gate matrix", m.MLP)
		}
		add("gate", "mlp/w_gate", C, 0, F)
		add("up", "mlp/w_up", C, 0, F)
		add("down", "mlp/w_down", F, 0, C)
	}
	if want["lm_head"] {
		if m.Tied {
			return nil, fmt.Errorf("lora.targets: lm_head: the model ties its head to the embeddings; there is no lm_head matrix")
		}
		ts = append(ts, Target{Name: "lm_head/lm_head", Param: "lm_head", In: C, Col0: 0, Cols: m.VocabSize})
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("lora.targets: %v selects no matrix of this model", names)
	}
	return ts, nil
}

// NewAdapter creates the adapter variables in store: A from U(-1/sqrt(in), 1/sqrt(in)) seeded
// per target (as PEFT's Kaiming init), B zero, so the adapted model starts equal to its base.
func NewAdapter(store *model.Store, m transformer.Config, cfg Config, seed uint64) (*Adapter, error) {
	ts, err := ResolveTargets(m, cfg.Targets)
	if err != nil {
		return nil, err
	}
	a := &Adapter{Cfg: cfg, Model: m, Targets: ts, Store: store, byParam: map[string][]Target{}}
	for _, t := range ts {
		h := fnv.New64a()
		h.Write([]byte(t.Name))
		r := rand.New(rand.NewPCG(seed, h.Sum64()))
		av := make([]float32, t.In*cfg.Rank)
		bound := 1 / math.Sqrt(float64(t.In))
		for i := range av {
			av[i] = float32((2*r.Float64() - 1) * bound)
		}
		if _, err := store.CreateVariable(loraScope+t.Name+"/a", tensors.FromFlatDataAndDimensions(av, t.In, cfg.Rank)); err != nil {
			return nil, err
		}
		if _, err := store.CreateVariable(loraScope+t.Name+"/b", tensors.FromShape(shapes.Make(dtypes.Float32, cfg.Rank, t.Cols))); err != nil {
			return nil, err
		}
		a.byParam[t.Param] = append(a.byParam[t.Param], t)
	}
	if cfg.Dropout > 0 {
		rng, err := RNGStateFromSeed(int64(seed) ^ 0x10ba)
		if err != nil {
			return nil, err
		}
		if _, err := store.CreateVariable(loraRNG, rng); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Paths are the store paths of the trained variables: every A and B.
func (a *Adapter) Paths() []string {
	var ps []string
	for _, t := range a.Targets {
		ps = append(ps, loraScope+t.Name+"/a", loraScope+t.Name+"/b")
	}
	return ps
}

// Scale is alpha/rank.
func (a *Adapter) Scale() float64 { return a.Cfg.Alpha / float64(a.Cfg.Rank) }

// Wrap reads target matrices as W + scale·A·B (columns outside a target block unchanged); in a
// training graph with dropout > 0, each target's input features are dropped with one mask per step.
func (a *Adapter) Wrap(base func(g *Graph, training bool) transformer.Weights) func(g *Graph, training bool) transformer.Weights {
	return func(g *Graph, training bool) transformer.Weights {
		w := base(g, training)
		dropout := training && a.Cfg.Dropout > 0
		return func(name string) *Node {
			x := w(name)
			for _, t := range a.byParam[name] {
				d := a.delta(g, t, dropout)
				if t.Cols != x.Shape().Dim(1) {
					parts := []*Node{}
					if t.Col0 > 0 {
						parts = append(parts, Zeros(g, shapes.Make(dtypes.Float32, t.In, t.Col0)))
					}
					parts = append(parts, d)
					if rest := x.Shape().Dim(1) - t.Col0 - t.Cols; rest > 0 {
						parts = append(parts, Zeros(g, shapes.Make(dtypes.Float32, t.In, rest)))
					}
					d = Concatenate(parts, 1)
				}
				x = Add(x, d)
			}
			return x
		}
	}
}

// delta is scale·A·B of one target, [In, Cols].
func (a *Adapter) delta(g *Graph, t Target, dropout bool) *Node {
	av := a.Store.GetVariable(loraScope + t.Name + "/a").NodeValue(g)
	bv := a.Store.GetVariable(loraScope + t.Name + "/b").NodeValue(g)
	if dropout {
		rv := a.Store.GetVariable(loraRNG)
		state, u := RandomUniform(rv.NodeValue(g), shapes.Make(dtypes.Float32, t.In, 1))
		rv.SetNodeValue(state)
		keep := GreaterOrEqual(u, Scalar(g, dtypes.Float32, a.Cfg.Dropout))
		av = Mul(av, Where(keep, Scalar(g, dtypes.Float32, 1/(1-a.Cfg.Dropout)), Scalar(g, dtypes.Float32, 0)))
	}
	return MulScalar(MatMul(av, bv), a.Scale())
}

// Files returns adapter.safetensors and adapter_config.json for the current adapter values.
func (a *Adapter) Files(base string) (map[string][]byte, error) {
	ts := map[string]safetensors.Tensor{}
	for _, t := range a.Targets {
		for _, ab := range []string{"/a", "/b"} {
			v := a.Store.GetVariable(loraScope + t.Name + ab)
			val, err := v.Value()
			if err != nil {
				return nil, err
			}
			ts[t.Name+ab] = safetensors.F32(tensors.MustCopyFlatData[float32](val), val.Shape().Dimensions...)
		}
	}
	var buf bytes.Buffer
	meta := map[string]string{"format": "golem-lora", "rank": fmt.Sprint(a.Cfg.Rank), "alpha": fmt.Sprint(a.Cfg.Alpha)}
	if err := safetensors.Write(&buf, ts, meta); err != nil {
		return nil, err
	}
	mb, err := json.MarshalIndent(AdapterMeta{Rank: a.Cfg.Rank, Alpha: a.Cfg.Alpha, Dropout: a.Cfg.Dropout, Targets: a.Cfg.Targets, Base: base, Model: a.Model}, "", "  ")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{AdapterFile: buf.Bytes(), AdapterConfigFile: mb}, nil
}

// SetFrom loads A and B from an adapter.safetensors, checking every target is there with its shape.
func (a *Adapter) SetFrom(f *safetensors.File, name string) error {
	for _, t := range a.Targets {
		for _, ab := range []string{"/a", "/b"} {
			st, ok := f.Tensors[t.Name+ab]
			if !ok {
				return fmt.Errorf("%s: missing %s%s", name, t.Name, ab)
			}
			v := a.Store.GetVariable(loraScope + t.Name + ab)
			if !slices.Equal(st.Shape, v.Shape().Dimensions) {
				return fmt.Errorf("%s: %s%s has shape %v, the base model wants %v (adapter for a different base?)", name, t.Name, ab, st.Shape, v.Shape().Dimensions)
			}
			data, err := st.Float32s()
			if err != nil {
				return fmt.Errorf("%s: %s%s: %w", name, t.Name, ab, err)
			}
			if err := v.SetValue(tensors.FromFlatDataAndDimensions(data, st.Shape...)); err != nil {
				return err
			}
		}
	}
	if len(f.Tensors) != 2*len(a.Targets) {
		var extra []string
		for n := range f.Tensors {
			if !slices.ContainsFunc(a.Targets, func(t Target) bool { return n == t.Name+"/a" || n == t.Name+"/b" }) {
				extra = append(extra, n)
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("%s: tensors %v are not targets of this adapter config", name, extra)
	}
	return nil
}

// NumParams counts the adapter's trainable parameters.
func (a *Adapter) NumParams() int {
	n := 0
	for _, t := range a.Targets {
		n += a.Cfg.Rank * (t.In + t.Cols)
	}
	return n
}
