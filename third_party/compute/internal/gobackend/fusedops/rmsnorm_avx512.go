// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package fusedops

// RMSNorm fused at compile time (golem, see GOLEM_PATCH.md).
//
// GoMLX has no fused RMSNorm, so a model writes it out: x / sqrt(mean(x²) + ε) · gain is nine
// ops (Mul, ReduceSum, Mul, Reshape, Add, Sqrt, Div, then a Reshape of the gain and a Mul). In a
// decode step of a small model each is a few dozen floats, and dispatching them cost more than
// computing them. fuseRMSNorm finds that chain where nothing else reads its intermediate results
// (a forward pass: training graphs keep them for the backward pass) and makes its last node one
// fused node (gobackend.FusedExecutor) that computes the same bits row by row: the squares summed
// by ops.SumSquaresFloat32 exactly as ReduceSum(Mul(x, x)) sums them, then each op's rounding in
// the same order.

import (
	"math"
	"simd/archsimd"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

func init() {
	if !archsimd.X86.AVX512() { // the unfused ops' AVX-512 paths define the bits to reproduce
		return
	}
	gobackend.RegisterFusion(fuseRMSNorm)
}

// rmsNorm is the data of a fused RMSNorm node (a gobackend.FusedExecutor), inputs x [..., C] and
// optionally a gain row [1, ..., C]: y = x / sqrt(Σx² · scale + eps) (· gain), over the last axis.
type rmsNorm struct {
	scale, eps float32
}

// fuseRMSNorm rewrites each chain
//
//	q = Mul(x, x); s = ReduceSum(q, last axis); m = Mul(s, scale); r = Reshape(m, [..., 1])
//	a = Add(r, eps); d = Sqrt(a); y = Div(x, d)   [; z = Mul(y, gain row)]
//
// whose intermediate results have no other user, into its last node (y, or z) computing the
// RMSNorm of x (and the gain) itself.
func fuseRMSNorm(nodes []*gobackend.Node, users gobackend.Users) {
	for _, y := range nodes {
		if y.OpType != compute.OpTypeDiv || y.Shape.DType != dtypes.Float32 || y.Shape.IsDynamic() || len(y.Inputs) != 2 {
			continue
		}
		x, d := y.Inputs[0], y.Inputs[1]
		rank := x.Shape.Rank()
		if rank == 0 || !x.Shape.Equal(y.Shape) || x.Shape.Size() < 16 { // below 16 elements ReduceSum sums sequentially
			continue
		}
		if !users.Link(d, compute.OpTypeSqrt, 1) {
			continue
		}
		a := d.Inputs[0]
		if !users.Link(a, compute.OpTypeAdd, 2) {
			continue
		}
		r, eps, ok := withScalar(a)
		if !ok || !users.Link(r, compute.OpTypeReshape, 1) || r.Shape.Size() != x.Shape.Size()/x.Shape.Dim(-1) || r.Shape.Dim(-1) != 1 {
			continue
		}
		m := r.Inputs[0]
		if !users.Link(m, compute.OpTypeMul, 2) {
			continue
		}
		s, scale, ok := withScalar(m)
		if !ok || !users.Link(s, compute.OpTypeReduceSum, 1) {
			continue
		}
		if axes, _ := s.Data.([]int); len(axes) != 1 || axes[0] != rank-1 {
			continue
		}
		q := s.Inputs[0]
		if !users.Link(q, compute.OpTypeMul, 2) || q.Inputs[0] != x || q.Inputs[1] != x {
			continue
		}
		root, inputs := y, []*gobackend.Node{x}
		if z, g := gainOf(nodes, users, y); z != nil {
			root, inputs = z, []*gobackend.Node{x, g}
		}
		root.Inputs, root.Data = inputs, &rmsNorm{scale: scale, eps: eps}
	}
}

// withScalar splits a binary node into its non-constant input and the value of its float32
// scalar Constant input.
func withScalar(n *gobackend.Node) (other *gobackend.Node, value float32, ok bool) {
	for i, c := range n.Inputs {
		if c.OpType != compute.OpTypeConstant || c.Shape.DType != dtypes.Float32 || c.Shape.Size() != 1 {
			continue
		}
		if b, isBuf := c.Data.(*gobackend.Buffer); isBuf {
			if flat, isF32 := b.Flat.([]float32); isF32 && len(flat) == 1 {
				return n.Inputs[1-i], flat[0], true
			}
		}
	}
	return nil, 0, false
}

// gainOf returns y's only user z when it is Mul(y, g) or Mul(g, y) with g a row of the last
// axis ([1, ..., C]), and g.
func gainOf(nodes []*gobackend.Node, users gobackend.Users, y *gobackend.Node) (z, g *gobackend.Node) {
	if users[y.Index] != 1 {
		return nil, nil
	}
	for _, u := range nodes[y.Index+1:] {
		if users[u.Index] == 0 { // dead (never run), or an unused result: not y's user
			continue
		}
		for i, in := range u.Inputs {
			if in != y {
				continue
			}
			if u.OpType != compute.OpTypeMul || len(u.Inputs) != 2 || !u.Shape.Equal(y.Shape) {
				return nil, nil
			}
			g = u.Inputs[1-i]
			C := y.Shape.Dim(-1)
			if g.Shape.DType != dtypes.Float32 || g.Shape.Rank() != y.Shape.Rank() || g.Shape.Dim(-1) != C || g.Shape.Size() != C {
				return nil, nil
			}
			return u, g
		}
	}
	return nil, nil
}

// Execute computes a fused RMSNorm node row by row, rounding as the unfused ops do.
func (p *rmsNorm) Execute(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer) (*gobackend.Buffer, error) {
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	x, out := inputs[0].Flat.([]float32), output.Flat.([]float32)
	var gain []float32
	if len(inputs) > 1 {
		gain = inputs[1].Flat.([]float32)
	}
	C := node.Shape.Dim(-1)
	n, chunk := len(x)/C, max(1, 16384/C)
	if ops.OnCaller(backend, n, chunk) { // no closure to allocate
		rmsNormRows(x, out, gain, p, C, 0, n)
	} else {
		ops.ParallelRange(backend, n, chunk, func(r0, r1 int) { rmsNormRows(x, out, gain, p, C, r0, r1) })
	}
	return output, nil
}

// rmsNormRows computes rows [r0, r1) of C values each.
func rmsNormRows(x, out, gain []float32, p *rmsNorm, C, r0, r1 int) {
	for r := r0; r < r1; r++ {
		rmsNormRow(x[r*C:(r+1)*C], out[r*C:(r+1)*C], gain, p)
	}
}

// rmsNormRow: out = x / sqrt(float32(Σx² · scale) + eps) [· gain], each step rounded to float32.
func rmsNormRow(x, out, gain []float32, p *rmsNorm) {
	m := float32(ops.SumSquaresFloat32(x) * p.scale) // rounded: not fused with the add below
	d := float32(math.Sqrt(float64(m + p.eps)))      // float64 sqrt rounded to float32 is the float32 sqrt
	dv := archsimd.BroadcastFloat32x16(d)
	i := 0
	for ; i+16 <= len(x); i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(x[i : i+16])).Div(dv)
		if gain != nil {
			v = v.Mul(archsimd.LoadFloat32x16((*[16]float32)(gain[i : i+16])))
		}
		v.Store((*[16]float32)(out[i : i+16]))
	}
	for ; i < len(x); i++ {
		v := x[i] / d
		if gain != nil {
			v = float32(v * gain[i])
		}
		out[i] = v
	}
}
