package transformer

import (
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
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
