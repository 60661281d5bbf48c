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
func CrossEntropy(logits, targets, weights *Node) *Node {
	N := logits.Shape().Dim(0)
	maxes := StopGradient(ReduceAndKeep(logits, ReduceMax, -1))                             // [N, 1]
	lse := Add(Log(ReduceSum(Exp(Sub(logits, maxes)), -1)), Reshape(maxes, N))              // [N]
	rows := Iota(logits.Graph(), shapes.Make(dtypes.Int32, N), 0)                           // [N]
	picked := Gather(logits, Stack([]*Node{rows, ConvertDType(targets, dtypes.Int32)}, -1)) // [N]
	losses := Sub(lse, picked)
	if weights == nil {
		return ReduceAllMean(losses)
	}
	return Div(ReduceAllSum(Mul(losses, weights)), MaxScalar(ReduceAllSum(weights), 1))
}
