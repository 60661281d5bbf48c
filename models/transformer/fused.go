package transformer

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"
)

// Fused forward ops with hand-written backward passes.
//
// GoMLX differentiates a fused op (softmax, GELU) through the decomposed graph it keeps beside
// it, so a training step computes the op twice, the second time op by op. On the Go backend that
// decomposed graph is the slow part of the step: its generic Exp calls math.Exp, whose amd64
// assembly mixes legacy-SSE and VEX instructions and runs 20-100x slower (0.1-2.7 µs per
// element, measured) once the backend's AVX-512 kernels have left the upper vector state dirty.
// Here the forward pass is the fused op and the backward pass is its closed form, built from
// the fused output: no Exp, Logistic or Tanh op is left in the training graph.

// fusedWithVJP returns fused(), whose gradient with respect to x is vjp(out, v) (out: the fused
// output, v: the gradient arriving at it). When the backend has no such fused op or fusion is
// off (GOMLX_FUSION=0), it returns plain(), differentiated by autodiff.
func fusedWithVJP(x *Node, fused, plain func() *Node, vjp func(out, v *Node) *Node) *Node {
	var out *Node
	// The alternate output only carries the gradient: an identity of x whose VJP is vjp. Nothing
	// reads its value, so it is never computed.
	alt := func() *Node {
		return IdentityWithCustomGradient(x, func(_, v *Node) *Node { return vjp(out, v) })
	}
	res, ok := InternalFusedOpCaller(fused, alt, true)
	if !ok {
		return plain()
	}
	out = res
	return res
}

// softmax over the last axis: fused forward, backward dx = p ⊙ (v − Σ v ⊙ p).
func softmax(x *Node) *Node {
	axis := x.Rank() - 1
	return fusedWithVJP(x,
		func() *Node { return BackendFusedSoftmax(x, axis) },
		func() *Node { return Softmax(x, -1) },
		func(p, v *Node) *Node { return Mul(p, Sub(v, ReduceAndKeep(Mul(v, p), ReduceSum, -1))) })
}

// gelu is the exact GELU x·Φ(x): fused forward, backward dx = v ⊙ (Φ(x) + x·φ(x)), with Φ taken
// from the fused output (gelu(x)/x) and φ from expNonPositive.
func gelu(x *Node) *Node {
	return fusedWithVJP(x,
		func() *Node { return BackendFusedGelu(x, true) },
		func() *Node { return activation.Gelu(x) },
		func(y, v *Node) *Node {
			cdf := Where(Equal(x, ScalarZero(x.Graph(), x.DType())), Scalar(x.Graph(), x.DType(), 0.5), Div(y, x)) // Φ(x)
			pdf := MulScalar(expNonPositive(MulScalar(Square(x), -0.5)), 1/math.Sqrt(2*math.Pi))                   // φ(x)
			return Mul(v, Add(cdf, Mul(x, pdf)))
		})
}

// expNonPositive is e^a for a ≤ 0, [N, F] (float32), computed by the fused softmax instead of the
// generic Exp: softmax of the row [a₁ … a_F, 0] is e^{a_j}/(S+1) and, in its last column,
// 1/(S+1) ≥ 1/(F+1), so their ratio is e^{a_j}, to float32 precision.
func expNonPositive(a *Node) *Node {
	F := a.Shape().Dim(-1)
	if !a.Graph().Backend().Capabilities().Operations[compute.OpTypeFusedSoftmax] {
		return Exp(a)
	}
	col := ZerosLike(Slice(a, AxisRange(), AxisRange(0, 1)))
	s := StopGradient(Softmax(Concatenate([]*Node{a, col}, -1), -1))
	return Div(Slice(s, AxisRange(), AxisRange(0, F)), Slice(s, AxisRange(), AxisRange(F, F+1)))
}

// withVJP returns fwd() (of shape out), whose gradients with respect to inputs are grads(v), v
// being the gradient arriving at the output; plain() is used instead, differentiated by
// autodiff, where fwd's ops are missing or fusion is off. GoMLX's own DotGeneral VJP ends with a
// Transpose back to the input's axis order even when that order is already right, and the Go
// backend executes such identity Transposes as element-by-element copies; the closed forms given
// here are single DotGenerals whose outputs are already in order.
//
// The gradient is routed through a stand-in output that is never computed: an identity of a
// scalar broadcast to the output's shape, depending on identities of each input. Its VJP
// captures v; the inputs' identities then return grads(v), ignoring what reaches them through
// the stand-in (dead code, never run).
func withVJP(inputs []*Node, out shapes.Shape, fwd, plain func() *Node, grads func(v *Node) []*Node) *Node {
	var v *Node
	var gs []*Node
	alt := func() *Node {
		var sum *Node
		for i, in := range inputs {
			id := IdentityWithCustomGradient(in, func(_, _ *Node) *Node {
				if gs == nil {
					gs = grads(v)
				}
				return gs[i]
			})
			s := ConvertDType(ReduceAllSum(id), out.DType)
			if sum == nil {
				sum = s
			} else {
				sum = Add(sum, s)
			}
		}
		return IdentityWithCustomGradient(BroadcastToShape(sum, out), func(_, g *Node) *Node { v = g; return g })
	}
	res, ok := InternalFusedOpCaller(fwd, alt, true)
	if !ok {
		return plain()
	}
	return res
}

// dense is x [N, in] @ w [in, out] (+ b [out]) by the backend's fused Dense, with the closed-form
// backward dx = v·wᵀ, dw = xᵀ·v, db = Σₙ v.
func dense(x, w, b *Node) *Node {
	inputs := []*Node{x, w}
	if b != nil {
		inputs = append(inputs, b)
	}
	out := shapes.Make(x.DType(), x.Shape().Dim(0), w.Shape().Dim(1))
	return withVJP(inputs, out,
		func() *Node {
			return BackendFusedDense(x, w, b, compute.DenseConfig{Activation: compute.ActivationNone, WeightLayout: compute.DenseLayoutInputOutputs})
		},
		func() *Node { return nn.Dense(x, w, b, compute.DenseLayoutInputOutputs) },
		func(v *Node) []*Node {
			return []*Node{
				DotGeneral(v, []int{1}, nil, w, []int{1}, nil), // [N, in]
				contractFirst(x, v, 0),                         // [in, out]
				ReduceSum(v, 0),                                // [out]
			}
		})
}

// matmulT is x [N, C] @ wᵀ for w [V, C] (the tied head), with backward dx = v·w, dw = vᵀ·x.
func matmulT(x, w *Node) *Node {
	f := func() *Node { return DotGeneral(x, []int{1}, nil, w, []int{1}, nil) }
	return withVJP([]*Node{x, w}, shapes.Make(x.DType(), x.Shape().Dim(0), w.Shape().Dim(0)), f, f,
		func(v *Node) []*Node {
			return []*Node{
				DotGeneral(v, []int{1}, nil, w, []int{0}, nil), // [N, C]
				contractFirst(v, x, 0),                         // [V, C]
			}
		})
}

// batchedQKt is the attention scores q·kᵀ for q [B, H, Tq, D], k [B, H, Tk, D] -> [B, H, Tq, Tk],
// with backward dq = v·k, dk = vᵀ·q, all in [B, H, ...] order.
func batchedQKt(q, k *Node) *Node {
	f := func() *Node { return DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}) }
	s := q.Shape()
	return withVJP([]*Node{q, k}, shapes.Make(q.DType(), s.Dim(0), s.Dim(1), s.Dim(2), k.Shape().Dim(2)), f, f,
		func(v *Node) []*Node {
			return []*Node{
				DotGeneral(v, []int{3}, []int{0, 1}, k, []int{2}, []int{0, 1}), // [B, H, Tq, D]
				contractFirst(v, q, 2), // [B, H, Tk, D]
			}
		})
}

// batchedPV is the attention output p·v for p [B, H, Tq, Tk], v [B, H, Tk, D] -> [B, H, Tq, D],
// with backward dp = g·vᵀ, dv = pᵀ·g.
func batchedPV(p, v *Node) *Node {
	f := func() *Node { return DotGeneral(p, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) }
	s := p.Shape()
	return withVJP([]*Node{p, v}, shapes.Make(p.DType(), s.Dim(0), s.Dim(1), s.Dim(2), v.Shape().Dim(3)), f, f,
		func(g *Node) []*Node {
			return []*Node{
				DotGeneral(g, []int{3}, []int{0, 1}, v, []int{3}, []int{0, 1}), // [B, H, Tq, Tk]
				contractFirst(p, g, 2), // [B, H, Tk, D]
			}
		})
}

// contractFirst is out[..., j, k] = Σᵢ a[..., i, j]·c[..., i, k] for a [batch..., I, J] and
// c [batch..., I, K] with nb leading batch axes: the weight-gradient form xᵀ·v. The Go backend's
// DotGeneral only multiplies [batch, cross, contracting] on the left, so it first copies the left
// operand transposed, element by element (its generic Transpose); this picks the operand order
// that copies fewer elements: a (I·J), or c (I·K) plus the [K, J] result (J·K).
func contractFirst(a, c *Node, nb int) *Node {
	batch := make([]int, nb)
	for i := range batch {
		batch[i] = i
	}
	r := a.Rank()
	I, J, K := a.Shape().Dim(r-2), a.Shape().Dim(r-1), c.Shape().Dim(r-1)
	if I*J <= I*K+J*K {
		return DotGeneral(a, []int{nb}, batch, c, []int{nb}, batch)
	}
	perm := append(batch, nb+1, nb)
	kj := DotGeneral(c, []int{nb}, batch, a, []int{nb}, batch) // [..., K, J]
	out := TransposeAllAxes(kj, perm...)
	transposedOf(out.Graph())[out] = kj
	return out
}

type transposedOfKey struct{}

// transposedOf maps a node built by contractFirst as the transpose of its last two axes to the
// untransposed node, so a consumer that transposes it again (splitHeads) does one Transpose.
func transposedOf(g *Graph) map[*Node]*Node {
	if m, ok := g.State(transposedOfKey{}).(map[*Node]*Node); ok {
		return m
	}
	m := make(map[*Node]*Node)
	g.AttachState(transposedOfKey{}, m)
	return m
}

// splitHeads cuts qkv [B·T, Σnᵢ·D] into heads [B, nᵢ, T, D] (n = H, K, K). Autodiff would pad each
// part's gradient back to the full width and add the three; here the gradient is one
// Concatenate of the parts' gradients.
func splitHeads(qkv *Node, B, T, D int, ns ...int) []*Node {
	outs := make([]*Node, len(ns))
	vs := make([]*Node, len(ns))
	var ready bool
	id := IdentityWithCustomGradient(qkv, func(_, _ *Node) *Node {
		parts := make([]*Node, len(ns))
		for i, n := range ns {
			if vs[i] == nil {
				parts[i] = Zeros(qkv.Graph(), shapes.Make(qkv.DType(), B*T, n*D))
			} else if dt, ok := transposedOf(qkv.Graph())[vs[i]]; ok { // dt [B, n, D, T]
				parts[i] = Reshape(TransposeAllAxes(dt, 0, 3, 1, 2), B*T, n*D)
			} else {
				parts[i] = Reshape(TransposeAllAxes(vs[i], 0, 2, 1, 3), B*T, n*D)
			}
		}
		return Concatenate(parts, -1)
	})
	from := 0
	for i, n := range ns {
		lo, hi := from*D, (from+n)*D
		fwd := func() *Node {
			return TransposeAllAxes(Reshape(Slice(qkv, AxisRange(), AxisRange(lo, hi)), B, T, n, D), 0, 2, 1, 3)
		}
		alt := func() *Node {
			s := BroadcastToShape(ReduceAllSum(id), shapes.Make(qkv.DType(), B, n, T, D))
			return IdentityWithCustomGradient(s, func(_, v *Node) *Node { vs[i] = v; return v })
		}
		res, ok := InternalFusedOpCaller(fwd, alt, true)
		if !ok {
			ready = false
			break
		}
		ready = true
		outs[i] = res
		from += n
	}
	if !ready {
		from = 0
		for i, n := range ns {
			outs[i] = TransposeAllAxes(Reshape(Slice(qkv, AxisRange(), AxisRange(from*D, (from+n)*D)), B, T, n, D), 0, 2, 1, 3)
			from += n
		}
	}
	return outs
}

// layerNorm over the last axis of x [N, C] with gain and optional bias [C]: the backend's fused
// LayerNorm forward, and the closed-form backward (x̂ = (x-μ)·r, r = 1/√(σ²+ε), g = v·γ):
//
//	dx = r·(g - mean(g) - x̂·mean(g·x̂)),  dγ = Σₙ v·x̂,  dβ = Σₙ v
//
// instead of autodiff through GoMLX's decomposed LayerNorm (about a third fewer passes).
func layerNorm(x, gain, bias *Node, eps float64) *Node {
	axis := x.Rank() - 1
	inputs := []*Node{x, gain}
	if bias != nil {
		inputs = append(inputs, bias)
	}
	return withVJP(inputs, x.Shape(),
		func() *Node { return BackendFusedLayerNorm(x, []int{axis}, eps, gain, bias) },
		func() *Node { return nn.LayerNorm(x, []int{-1}, eps, gain, bias, nil) },
		func(v *Node) []*Node {
			xc := Sub(x, ReduceAndKeep(x, ReduceMean, -1))
			r := Rsqrt(AddScalar(ReduceAndKeep(Square(xc), ReduceMean, -1), eps)) // [N, 1]
			xh := Mul(xc, r)
			g := Mul(v, ExpandAxes(gain, 0))
			m1 := ReduceAndKeep(g, ReduceMean, -1)
			m2 := ReduceAndKeep(Mul(g, xh), ReduceMean, -1)
			dx := Mul(Sub(Sub(g, m1), Mul(xh, m2)), r)
			grads := []*Node{dx, ReduceSum(Mul(v, xh), 0)}
			if bias != nil {
				grads = append(grads, ReduceSum(v, 0))
			}
			return grads
		})
}
