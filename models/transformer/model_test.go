package transformer

import (
	"math"
	"sort"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/janpfeifer/must"
)

func testConfigs() map[string]Config {
	gpt := Config{VocabSize: 11, SeqLen: 6, Layers: 2, Width: 8, Heads: 2, Positions: "learned", Norm: "layernorm", MLP: "gelu", Bias: true, Tied: true, InitStd: 0.3}
	llama := Config{VocabSize: 11, SeqLen: 6, Layers: 2, Width: 8, Heads: 4, KVHeads: 2, Positions: "rope", Norm: "rmsnorm", MLP: "swiglu", Tied: false, InitStd: 0.3}
	gpt2 := gpt
	gpt2.MLP, gpt2.Tied = "gelu_tanh", false
	out := map[string]Config{"gpt": gpt, "llama-gqa": llama, "gpt-untied-tanh": gpt2}
	for k, c := range out {
		c.Defaults()
		if err := c.Validate(); err != nil {
			panic(err)
		}
		out[k] = c
	}
	return out
}

// TestGradientMatchesFiniteDifferences checks autodiff of the whole model and loss against
// central differences, on the largest-gradient coordinates of every parameter.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	backend := must.M1(compute.NewWithConfig("go"))
	for name, cfg := range testConfigs() {
		t.Run(name, func(t *testing.T) {
			store := model.NewStore()
			params := cfg.ParamShapes()
			for pname, data := range Init(&cfg, 7) {
				var dims []int
				for _, p := range params {
					if p.Name == pname {
						dims = p.Dims
					}
				}
				// Non-trivial norm gains and biases, so their gradients are exercised too.
				for i := range data {
					if data[i] == 1 || data[i] == 0 {
						data[i] += float32(0.1 * math.Sin(float64(i+len(pname))))
					}
				}
				must.M1(store.CreateVariable("/p/"+pname, tensors.FromFlatDataAndDimensions(data, dims...)))
			}
			tokens := []int32{1, 5, 9, 2, 2, 7, 3, 0, 4, 10, 6, 8, 1, 3}
			lossOf := func(g *Graph, toks *Node) *Node {
				m := &Model{Cfg: cfg, W: func(n string) *Node { return store.GetVariable("/p/" + n).NodeValue(g) }}
				in := Slice(toks, AxisRange(), AxisRange(0, cfg.SeqLen))
				tgt := Slice(toks, AxisRange(), AxisRange(1, cfg.SeqLen+1))
				return CrossEntropy(m.Head(m.Hidden(in)), Reshape(tgt, 2*cfg.SeqLen), nil)
			}
			gradExec := must.M1(model.NewExec(backend, store, func(_ *model.Scope, toks *Node) []*Node {
				loss := lossOf(toks.Graph(), toks)
				nodes := make([]*Node, len(params))
				for i, p := range params {
					nodes[i] = store.GetVariable("/p/" + p.Name).NodeValue(toks.Graph())
				}
				return append([]*Node{loss}, Gradient(loss, nodes...)...)
			}))
			lossExec := must.M1(model.NewExec(backend, store, func(_ *model.Scope, toks *Node) *Node { return lossOf(toks.Graph(), toks) }))
			in := func() *tensors.Tensor {
				return tensors.FromFlatDataAndDimensions(append([]int32{}, tokens...), 2, cfg.SeqLen+1)
			}
			out := gradExec.MustCall(in())
			loss := func() float64 { return float64(tensors.ToScalar[float32](lossExec.MustCall(in())[0])) }
			const eps = 1e-2
			// significant counts the coordinates whose gradient is large enough for the
			// comparison to mean something: a model whose gradients vanished would pass the
			// tolerance at every coordinate, but fails here.
			significant := 0
			for i, p := range params {
				grad := tensors.MustCopyFlatData[float32](out[i+1])
				order := make([]int, len(grad))
				for j := range order {
					order[j] = j
				}
				sort.Slice(order, func(a, b int) bool { return math.Abs(float64(grad[order[a]])) > math.Abs(float64(grad[order[b]])) })
				v := store.GetVariable("/p/" + p.Name)
				orig := tensors.MustCopyFlatData[float32](v.MustValue())
				set := func(j int, x float32) {
					d := append([]float32{}, orig...)
					d[j] = x
					must.M(v.SetValue(tensors.FromFlatDataAndDimensions(d, p.Dims...)))
				}
				for _, j := range order[:2] {
					set(j, orig[j]+eps)
					up := loss()
					set(j, orig[j]-eps)
					down := loss()
					set(j, orig[j])
					num, ana := (up-down)/(2*eps), float64(grad[j])
					if math.Abs(num-ana) > 2e-3+0.05*math.Abs(ana) {
						t.Errorf("%s[%d]: autodiff %.6f, finite differences %.6f", p.Name, j, ana, num)
					}
					if math.Abs(ana) > 1e-3 {
						significant++
					}
				}
			}
			// Each parameter's two largest gradient coordinates: all should be well above 1e-3.
			if significant < 2*len(params) {
				t.Fatalf("only %d of the %d coordinates checked have a gradient above 1e-3", significant, 2*len(params))
			}
		})
	}
}

// TestCrossEntropyMatchesReference compares the gather-based loss with a direct computation.
func TestCrossEntropyMatchesReference(t *testing.T) {
	backend := must.M1(compute.NewWithConfig("go"))
	logits := []float32{1, 2, 3, -1, 0.5, 0.25, 4, 4, 4}
	targets := []int32{2, 0, 1}
	weights := []float32{1, 0, 1}
	got := tensors.ToScalar[float32](MustExecOnce(backend, func(l, tg, w *Node) *Node { return CrossEntropy(l, tg, w) },
		tensors.FromFlatDataAndDimensions(logits, 3, 3), targets, weights))
	var want, n float64
	for r := 0; r < 3; r++ {
		var z float64
		for c := 0; c < 3; c++ {
			z += math.Exp(float64(logits[r*3+c]))
		}
		want += float64(weights[r]) * (math.Log(z) - float64(logits[r*3+int(targets[r])]))
		n += float64(weights[r])
	}
	want /= n
	if math.Abs(float64(got)-want) > 1e-5 {
		t.Fatalf("cross-entropy %v, want %v", got, want)
	}
}
