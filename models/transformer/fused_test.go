package transformer

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
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
	// The fused node each case must build: without it the test would compare the plain
	// formula with itself, and pass whatever the hand-written backward pass computes.
	fusedType := map[string]NodeType{"softmax": NodeTypeFusedSoftmax, "gelu": NodeTypeFusedGelu}
	if os.Getenv(FusionEnv) == "0" || os.Getenv(FusionEnv) == "false" {
		t.Skipf("%s turns fused ops off: nothing fused to check", FusionEnv)
	}
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
				for i, fn := range fns {
					y := fn(x)
					if i == 0 && y.Type() != fusedType[name] {
						t.Errorf("%s built a %s node, not %s: the fused path did not run", name, y.Type(), fusedType[name])
					}
					outs = append(outs, y, Gradient(ReduceAllSum(Mul(y, w)), x)[0])
				}
				return outs
			}))
			out := exec.MustCall(tensors.FromFlatDataAndDimensions(xs, N, F), tensors.FromFlatDataAndDimensions(ws, N, F))
			for k, what := range []string{"value", "gradient"} {
				requireClose(t, name+" "+what+" (fused vs plain)", out[k], out[2+k], 2e-5)
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
			requireClose(t, what+" (fused vs plain)", out[k], out[2+k], 2e-5)
		}
	})
}

// TestMatmulVJPsMatchAutodiff checks the closed-form backward passes of dense, matmulT,
// batchedQKt and batchedPV against GoMLX's autodiff of the same products.
func TestMatmulVJPsMatchAutodiff(t *testing.T) {
	backend := must.M1(compute.NewWithConfig("go"))
	fill := func(dims ...int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(math.Sin(float64(i*7+n) * 0.37))
		}
		return tensors.FromFlatDataAndDimensions(d, dims...)
	}
	type tc struct {
		dims   [][]int
		custom func(in []*Node) *Node
		plain  func(in []*Node) *Node
	}
	cases := map[string]tc{
		"dense": {[][]int{{5, 3}, {3, 4}, {4}}, func(in []*Node) *Node { return dense(in[0], in[1], in[2]) },
			func(in []*Node) *Node { return Add(MatMul(in[0], in[1]), ExpandAxes(in[2], 0)) }},
		"dense-wide": {[][]int{{5, 9}, {9, 2}, {2}}, func(in []*Node) *Node { return dense(in[0], in[1], in[2]) },
			func(in []*Node) *Node { return Add(MatMul(in[0], in[1]), ExpandAxes(in[2], 0)) }},
		"qkT-long": {[][]int{{2, 3, 8, 2}, {2, 3, 8, 2}}, func(in []*Node) *Node { return batchedQKt(in[0], in[1]) },
			func(in []*Node) *Node {
				return DotGeneral(in[0], []int{3}, []int{0, 1}, in[1], []int{3}, []int{0, 1})
			}},
		"pv-long": {[][]int{{2, 3, 8, 8}, {2, 3, 8, 2}}, func(in []*Node) *Node { return batchedPV(in[0], in[1]) },
			func(in []*Node) *Node {
				return DotGeneral(in[0], []int{3}, []int{0, 1}, in[1], []int{2}, []int{0, 1})
			}},
		"matmulT": {[][]int{{5, 3}, {6, 3}}, func(in []*Node) *Node { return matmulT(in[0], in[1]) },
			func(in []*Node) *Node { return MatMul(in[0], Transpose(in[1], 0, 1)) }},
		"qkT": {[][]int{{2, 3, 4, 5}, {2, 3, 6, 5}}, func(in []*Node) *Node { return batchedQKt(in[0], in[1]) },
			func(in []*Node) *Node {
				return DotGeneral(in[0], []int{3}, []int{0, 1}, in[1], []int{3}, []int{0, 1})
			}},
		"pv": {[][]int{{2, 3, 4, 6}, {2, 3, 6, 5}}, func(in []*Node) *Node { return batchedPV(in[0], in[1]) },
			func(in []*Node) *Node {
				return DotGeneral(in[0], []int{3}, []int{0, 1}, in[1], []int{2}, []int{0, 1})
			}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var args []any
			for _, d := range c.dims {
				args = append(args, fill(d...))
			}
			exec := must.M1(NewExec(backend, func(in []*Node) []*Node {
				var outs []*Node
				for _, fn := range []func([]*Node) *Node{c.custom, c.plain} {
					y := fn(in)
					w := Sin(MulScalar(Iota(y.Graph(), y.Shape(), -1), 0.7))
					outs = append(outs, y)
					outs = append(outs, Gradient(ReduceAllSum(Mul(y, w)), in...)...)
				}
				return outs
			}))
			out := exec.MustCall(args...)
			half := len(out) / 2
			for k := 0; k < half; k++ {
				requireClose(t, fmt.Sprintf("output %d (custom vs autodiff)", k), out[k], out[half+k], 1e-5)
			}
		})
	}
}

// TestSplitHeadsAttentionMatchesAutodiff checks splitHeads (one Concatenate for the gradient,
// transposes merged with contractFirst's) inside attention, at T > 2D where contractFirst swaps.
func TestSplitHeadsAttentionMatchesAutodiff(t *testing.T) {
	backend := must.M1(compute.NewWithConfig("go"))
	const B, T, H, D = 2, 9, 2, 3
	d := make([]float32, B*T*3*H*D)
	for i := range d {
		d[i] = float32(math.Sin(float64(i) * 0.61))
	}
	exec := must.M1(NewExec(backend, func(qkv *Node) []*Node {
		w := Sin(MulScalar(Iota(qkv.Graph(), shapes.Make(qkv.DType(), B, H, T, D), -1), 0.7))
		hs := splitHeads(qkv, B, T, D, H, H, H)
		a := batchedPV(softmax(batchedQKt(hs[0], hs[1])), hs[2])
		plainHead := func(i int) *Node {
			return TransposeAllAxes(Reshape(Slice(qkv, AxisRange(), AxisRange(i*H*D, (i+1)*H*D)), B, T, H, D), 0, 2, 1, 3)
		}
		q, k, v := plainHead(0), plainHead(1), plainHead(2)
		s := DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1})
		b := DotGeneral(Softmax(s, -1), []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1})
		return []*Node{a, Gradient(ReduceAllSum(Mul(a, w)), qkv)[0], b, Gradient(ReduceAllSum(Mul(b, w)), qkv)[0]}
	}))
	out := exec.MustCall(tensors.FromFlatDataAndDimensions(d, B*T, 3*H*D))
	for k := 0; k < 2; k++ {
		requireClose(t, fmt.Sprintf("output %d (custom vs autodiff)", k), out[k], out[2+k], 1e-5)
	}
}

// TestLayerNormVJPMatchesAutodiff checks layerNorm's closed-form backward against autodiff of
// GoMLX's decomposed LayerNorm, with and without bias.
func TestLayerNormVJPMatchesAutodiff(t *testing.T) {
	backend := must.M1(compute.NewWithConfig("go"))
	const N, C = 5, 7
	d := make([]float32, N*C)
	for i := range d {
		d[i] = float32(3 * math.Sin(float64(i)*1.3))
	}
	gd, bd := make([]float32, C), make([]float32, C)
	for i := range gd {
		gd[i], bd[i] = float32(1+0.3*math.Cos(float64(i))), float32(0.2*math.Sin(float64(i)))
	}
	for _, withBias := range []bool{true, false} {
		exec := must.M1(NewExec(backend, func(x, gain, bias *Node) []*Node {
			if !withBias {
				bias = nil
			}
			w := Sin(MulScalar(Iota(x.Graph(), x.Shape(), -1), 0.9))
			ins := []*Node{x, gain}
			if bias != nil {
				ins = append(ins, bias)
			}
			a := layerNorm(x, gain, bias, 1e-5)
			xc := Sub(x, ReduceAndKeep(x, ReduceMean, -1))
			b := Mul(Div(xc, Sqrt(AddScalar(ReduceAndKeep(Square(xc), ReduceMean, -1), 1e-5))), ExpandAxes(gain, 0))
			if bias != nil {
				b = Add(b, ExpandAxes(bias, 0))
			}
			outs := append([]*Node{a}, Gradient(ReduceAllSum(Mul(a, w)), ins...)...)
			outs = append(outs, b)
			return append(outs, Gradient(ReduceAllSum(Mul(b, w)), ins...)...)
		}))
		out := exec.MustCall(tensors.FromFlatDataAndDimensions(d, N, C), gd, bd)
		half := len(out) / 2
		for k := 0; k < half; k++ {
			requireClose(t, fmt.Sprintf("bias=%v output %d (closed form vs autodiff)", withBias, k), out[k], out[half+k], 2e-5)
		}
	}
}

// requireClose stops the test at the first element of got farther than tol·(1+|want|) from want.
func requireClose(t *testing.T, what string, got, want *tensors.Tensor, tol float64) {
	t.Helper()
	g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
	for i := range g {
		if d := math.Abs(float64(g[i] - w[i])); d > tol*(1+math.Abs(float64(w[i]))) {
			t.Fatalf("%s [%d]: %g, want %g", what, i, g[i], w[i])
		}
	}
}
