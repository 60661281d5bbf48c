// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package gobackend

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
)

// golem: compile-time fusions (see GOLEM_PATCH.md). A fusion rewrites, in place, the node at the
// end of a chain of small ops into one fused node computing the same bits, when nothing else
// uses the chain's intermediate results; they are then never run. Registered by the packages
// that hold the fused kernels (fusedops), run by newFunctionExecutable before it counts uses.

// Fusion rewrites nodes[:n] of a function. users[i] is the number of uses of node i's result
// (as an input of a live node or as an output of the function; 0 for a dead node); a fusion may
// only absorb nodes whose result has exactly one user, the next node of its chain. The counts
// are not updated as fusions rewrite nodes.
type Fusion func(nodes []*Node, users Users)

// Users counts the uses of each node's result (see Fusion).
type Users []int

// Link reports whether n is an op node with that many inputs, a static float32 result, and
// exactly one user: a node a fusion may absorb into the chain that uses it.
func (u Users) Link(n *Node, op compute.OpType, inputs int) bool {
	return n.OpType == op && u[n.Index] == 1 && len(n.Inputs) == inputs &&
		n.Shape.DType == dtypes.Float32 && !n.Shape.IsDynamic()
}

var fusions []Fusion

// RegisterFusion adds a fusion applied to every function compiled from now on.
func RegisterFusion(f Fusion) { fusions = append(fusions, f) }

// applyFusions runs the registered fusions over nodes [0, n) of f. Uses are counted among the
// nodes the outputs depend on: a dead node (GoMLX leaves some, e.g. the decomposed alternatives
// of fused ops) is never run, so it does not keep a chain from fusing.
func applyFusions(f *Function, n int) {
	if len(fusions) == 0 {
		return
	}
	live := make([]bool, n)
	for _, out := range f.Outputs {
		live[out.Index] = true
	}
	users := make(Users, n)
	for i := n - 1; i >= 0; i-- {
		if !live[i] {
			continue
		}
		node := f.Nodes[i]
		for _, in := range node.Inputs {
			live[in.Index] = true
			users[in.Index]++
		}
		for _, captures := range node.CapturedInputs {
			for _, in := range captures {
				live[in.Index] = true
				users[in.Index]++
			}
		}
	}
	for _, out := range f.Outputs {
		users[out.Index]++
	}
	for _, fuse := range fusions {
		fuse(f.Nodes[:n], users)
	}
}

// FusedExecutor is the Data of a node a fusion rewrote into one kernel of its own: the executor
// runs it instead of the executor of the node's OpType (the node keeps its OpType, shape and
// index; its inputs are the fused kernel's).
type FusedExecutor interface {
	Execute(backend *Backend, node *Node, inputs []*Buffer) (*Buffer, error)
}
