package transformer

import (
	"math"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/janpfeifer/must"
)

// TestFusedVJPsMatchAutodiff checks the hand-written backward passes of fused.go and of
// CrossEntropy against autodiff of the plain formulas, on inputs wide enough that every term
// matters (the whole-model finite-difference test runs at small activations, where GELU's x·φ(x)
// term is tiny).
func TestFusedVJPsMatchAutodiff(t *testing.T) {
	backend := must.M1(compute.NewWithConfig("go"))
	const N, F = 6, 37
	xs := make([]float32, N*F)
	ws := make([]float32, N*F)
	for i := range xs {
		xs[i] = float32(6 * math.Sin(float64(i)*1.7))
		ws[i] = float32(math.Cos(float64(i) * 0.9))
	}
	xs[3] = 0 // GELU at exactly zero
	targets := []int32{0, 5, 36, 7, 7, 20}
	rowW := []float32{1, 0, 0.5, 2, 1, 1}
	cases := map[string][2]func(x *Node) *Node{
		"softmax": {softmax, func(x *Node) *Node {
			e := Exp(Sub(x, StopGradient(ReduceAndKeep(x, ReduceMax, -1))))
			return Div(e, ReduceAndKeep(e, ReduceSum, -1))
		}},
		"gelu": {gelu, func(x *Node) *Node { return Mul(x, MulScalar(AddScalar(Erf(MulScalar(x, 1/math.Sqrt2)), 1), 0.5)) }},
	}
	for name, fns := range cases {
		t.Run(name, func(t *testing.T) {
			exec := must.M1(NewExec(backend, func(x, w *Node) []*Node {
				var outs []*Node
				for _, fn := range fns {
					y := fn(x)
					outs = append(outs, y, Gradient(ReduceAllSum(Mul(y, w)), x)[0])
				}
				return outs
			}))
			out := exec.MustCall(tensors.FromFlatDataAndDimensions(xs, N, F), tensors.FromFlatDataAndDimensions(ws, N, F))
			for k, what := range []string{"value", "gradient"} {
				got, want := tensors.MustCopyFlatData[float32](out[k]), tensors.MustCopyFlatData[float32](out[2+k])
				for i := range got {
					if d := math.Abs(float64(got[i] - want[i])); d > 2e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("%s %s[%d] (x=%g): fused %g, plain %g", name, what, i, xs[i], got[i], want[i])
					}
				}
			}
		})
	}
	t.Run("cross-entropy", func(t *testing.T) {
		exec := must.M1(NewExec(backend, func(x, tg, w *Node) []*Node {
			plain := func(x *Node) *Node {
				maxes := StopGradient(ReduceAndKeep(x, ReduceMax, -1))
				lse := Add(Log(ReduceSum(Exp(Sub(x, maxes)), -1)), Reshape(maxes, N))
				onehot := OneHot(tg, F, x.DType())
				losses := Sub(lse, ReduceSum(Mul(x, onehot), -1))
				return Div(ReduceAllSum(Mul(losses, w)), ReduceAllSum(w))
			}
			a, b := CrossEntropy(x, tg, w), plain(x)
			return []*Node{a, Gradient(a, x)[0], b, Gradient(b, x)[0]}
		}))
		out := exec.MustCall(tensors.FromFlatDataAndDimensions(xs, N, F), targets, rowW)
		for k, what := range []string{"loss", "gradient"} {
			got, want := tensors.MustCopyFlatData[float32](out[k]), tensors.MustCopyFlatData[float32](out[2+k])
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 2e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%s[%d]: fused %g, plain %g", what, i, got[i], want[i])
				}
			}
		}
	})
}
