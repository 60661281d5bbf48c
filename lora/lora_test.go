package lora

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/janpfeifer/must"

	"github.com/golem-ml/golem/backends"
	"github.com/golem-ml/golem/models/transformer"
)

// TestAdapterDropoutOnlyInTrainingGraphs checks that Wrap's training argument decides whether
// adapter dropout runs: an inference graph reads exactly W + scale·A·B, a training graph reads
// it with whole input rows of A dropped (0) or kept and scaled by 1/(1-p).
func TestAdapterDropoutOnlyInTrainingGraphs(t *testing.T) {
	m := transformer.Config{VocabSize: 32, SeqLen: 8, Layers: 1, Width: 16, Heads: 2, MLPHidden: 32}
	m.Defaults()
	store := model.NewStore()
	ad := must.M1(NewAdapter(store, m, Config{Rank: 2, Alpha: 2, Dropout: 0.5, Targets: []string{"o"}}, 1))
	tg := ad.Targets[0] // h0/attn/o on h0/attn/wo [In, Cols]
	ones := make([]float32, ad.Cfg.Rank*tg.Cols)
	for i := range ones {
		ones[i] = 1
	}
	must.M(store.GetVariable(loraScope + tg.Name + "/b").SetValue(tensors.FromFlatDataAndDimensions(ones, ad.Cfg.Rank, tg.Cols)))
	// A zero base matrix: what the wrapped lookup returns is the adapter's delta alone.
	base := func(g *Graph, _ bool) transformer.Weights {
		return func(name string) *Node { return Zeros(g, shapes.Make(dtypes.Float32, tg.In, tg.Cols)) }
	}
	wrapped := ad.Wrap(base)
	backend := must.M1(backends.New("go"))
	read := func(training bool) []float32 {
		exec := must.M1(model.NewExec(backend, store, func(_ *model.Scope, x *Node) *Node {
			return Add(wrapped(x.Graph(), training)(tg.Param), x)
		}))
		return tensors.MustCopyFlatData[float32](exec.MustCall(tensors.FromScalar(float32(0)))[0])
	}
	plain, dropped := read(false), read(true)
	if again := read(false); !equalFloats(plain, again) {
		t.Fatal("two inference reads of the adapted matrix differ: dropout ran outside training")
	}
	zeroRows, keptRows := 0, 0
	for r := 0; r < tg.In; r++ {
		row, want := dropped[r*tg.Cols:(r+1)*tg.Cols], plain[r*tg.Cols:(r+1)*tg.Cols]
		switch {
		case allEqual(row, func(i int) float32 { return 0 }):
			zeroRows++
		case allEqual(row, func(i int) float32 { return 2 * want[i] }):
			keptRows++
		default:
			t.Fatalf("training row %d is %v: neither dropped (0) nor kept and scaled by 2 (%v)", r, row, want)
		}
	}
	if zeroRows == 0 || keptRows == 0 {
		t.Errorf("training graph dropped %d and kept %d of %d input rows at p = 0.5: dropout did not run", zeroRows, keptRows, tg.In)
	}
}

func equalFloats(a, b []float32) bool {
	return len(a) == len(b) && allEqual(a, func(i int) float32 { return b[i] })
}

func allEqual(xs []float32, want func(i int) float32) bool {
	for i, x := range xs {
		if x != want(i) {
			return false
		}
	}
	return true
}
