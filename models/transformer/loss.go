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
// Its gradient is the closed form (p - onehot(target)) per row, scaled by the row's weight: the
// label term arrives through the Gather's gradient (a scatter into [N, V]) and the custom
// gradient of the gathered logits adds p times that row's total.
func CrossEntropy(logits, targets, weights *Node) *Node {
	N := logits.Shape().Dim(0)
	p := StopGradient(softmax(logits))                                      // [N, V]
	maxes := StopGradient(ReduceMax(logits, -1))                            // [N]
	lse := Sub(maxes, Log(StopGradient(ReduceMax(p, -1))))                  // [N]
	withGrad := IdentityWithCustomGradient(logits, func(_, v *Node) *Node { // v = -g_i at target_i
		return Sub(v, Mul(p, ReduceAndKeep(v, ReduceSum, -1)))
	})
	rows := Iota(logits.Graph(), shapes.Make(dtypes.Int32, N), 0)                             // [N]
	picked := Gather(withGrad, Stack([]*Node{rows, ConvertDType(targets, dtypes.Int32)}, -1)) // [N]
	losses := Sub(lse, picked)
	if weights == nil {
		return ReduceAllMean(losses)
	}
	return Div(ReduceAllSum(Mul(losses, weights)), MaxScalar(ReduceAllSum(weights), 1))
}
