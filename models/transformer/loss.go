package transformer

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// CrossEntropy is the mean next-token loss over the positions where weights > 0, without ever
// building a one-hot [N, V] tensor: loss_i = logsumexp(logits_i) - logits_i[target_i].
//
// logits [N, V] float32, targets [N] int32, weights [N] float32 (nil = all ones) -> scalar.
//
// The log-sum-exp comes from the fused softmax p (no generic Exp over [N, V]): the largest
// probability is 1/Σ exp(logits - max) ≥ 1/V, so logsumexp = max - log(max p) never underflows.
// The gradient is the closed form d loss_i / d logits_i = p_i - onehot(target_i): one
// row-scaled copy of p with the label subtracted in place by a scatter (autodiff would scatter
// into a zero [N, V] tensor, sum its rows and combine them with p in three more passes).
func CrossEntropy(logits, targets, weights *Node) *Node {
	N := logits.Shape().Dim(0)
	rows := Iota(logits.Graph(), shapes.Make(dtypes.Int32, N), 0)
	idx := Stack([]*Node{rows, ConvertDType(targets, dtypes.Int32)}, -1) // [N, 2], sorted and unique
	p := StopGradient(softmax(logits))                                   // [N, V]
	maxes := StopGradient(ReduceMax(logits, -1))                         // [N]
	lse := Sub(maxes, Log(StopGradient(ReduceMax(p, -1))))               // [N]
	losses := withVJP([]*Node{logits}, shapes.Make(logits.DType(), N),
		func() *Node { return Sub(lse, Gather(StopGradient(logits), idx)) },
		func() *Node {
			withGrad := IdentityWithCustomGradient(logits, func(_, v *Node) *Node { // v = -g_i at target_i
				return Sub(v, Mul(p, ReduceAndKeep(v, ReduceSum, -1)))
			})
			return Sub(lse, Gather(withGrad, idx))
		},
		func(v *Node) []*Node { // v [N]: the gradient of each row's loss
			return []*Node{ScatterSum(Mul(p, ExpandAxes(v, -1)), idx, Neg(v), true, true)}
		})
	if weights == nil {
		return ReduceAllMean(losses)
	}
	return Div(ReduceAllSum(Mul(losses, weights)), MaxScalar(ReduceAllSum(weights), 1))
}
