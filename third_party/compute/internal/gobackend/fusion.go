// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package gobackend

// golem: compile-time fusions (see GOLEM_PATCH.md). A fusion rewrites, in place, the node at the
// end of a chain of small ops into one fused node computing the same bits, when nothing else
// uses the chain's intermediate results; they are then never run. Registered by the packages
// that hold the fused kernels (fusedops), run by newFunctionExecutable before it counts uses.

// Fusion rewrites nodes[:n] of a function. users[i] is the number of uses of node i's result
// (as an input of nodes[:n] or as an output of the function); a fusion may only absorb nodes
// whose result has exactly one user, the next node of its chain.
type Fusion func(nodes []*Node, users []int)

var fusions []Fusion

// RegisterFusion adds a fusion applied to every function compiled from now on.
func RegisterFusion(f Fusion) { fusions = append(fusions, f) }

// applyFusions runs the registered fusions over nodes [0, n) of f.
func applyFusions(f *Function, n int) {
	if len(fusions) == 0 {
		return
	}
	users := make([]int, n)
	for _, node := range f.Nodes[:n] {
		for _, in := range node.Inputs {
			if in.Index < n {
				users[in.Index]++
			}
		}
		for _, captures := range node.CapturedInputs {
			for _, in := range captures {
				if in.Index < n {
					users[in.Index]++
				}
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
