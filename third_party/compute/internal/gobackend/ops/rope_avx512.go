// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package ops

// Rotary position embeddings (RoPE) fused at compile time (golem, see GOLEM_PATCH.md).
//
// RoPE in Llama's half-split layout is written out as seven ops: x·cos + [-x₂, x₁]·sin, the
// rotated halves made by two Slices, a Neg and a Concatenate. fuseRoPE finds that chain where
// nothing else reads its intermediate results and makes its final Add one fused node computing
// the same bits element by element: round(round(x·cos) + round(r·sin)), r the rotated x.

import (
	"simd/archsimd"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

func init() {
	if archsimd.X86.AVX512() { // as the RMSNorm fusion: only where the fast paths it replaces run
		gobackend.RegisterFusion(fuseRoPE)
	}
}

// ropeFused is the Data of a fused RoPE node: inputs x [..., D] float32, cos and sin, each of
// x's rank with every axis x's dimension or 1 and the last D (broadcast like the Muls they
// replace).
type ropeFused struct{}

// fuseRoPE rewrites each chain
//
//	x1 = Slice(x, last axis [0, D/2)); x2 = Slice(x, last axis [D/2, D)); n = Neg(x2)
//	r = Concatenate(n, x1, last axis); a = Mul(x, cos); b = Mul(r, sin); y = Add(a, b)
//
// (either operand order in the Muls and the Add) whose intermediate results have no other user
// into y = RoPE(x, cos, sin).
func fuseRoPE(nodes []*gobackend.Node, users gobackend.Users) {
	for _, y := range nodes {
		if y.OpType != compute.OpTypeAdd || y.Shape.DType != dtypes.Float32 || y.Shape.IsDynamic() || len(y.Inputs) != 2 || y.Data != nil {
			continue
		}
		for _, order := range [2][2]int{{0, 1}, {1, 0}} {
			a, b := y.Inputs[order[0]], y.Inputs[order[1]]
			if !users.Link(a, compute.OpTypeMul, 2) || !users.Link(b, compute.OpTypeMul, 2) {
				continue
			}
			x, cos, sin, ok := ropeOperands(a, b, users)
			if !ok || !x.Shape.Equal(y.Shape) || !ropeTable(cos.Shape, x.Shape) || !ropeTable(sin.Shape, x.Shape) {
				continue
			}
			y.Inputs, y.Data = []*gobackend.Node{x, cos, sin}, &ropeFused{}
			break
		}
	}
}

// ropeOperands matches a = Mul(x, cos) and b = Mul(r, sin) with r the rotated halves of x, in
// either operand order.
func ropeOperands(a, b *gobackend.Node, users gobackend.Users) (x, cos, sin *gobackend.Node, ok bool) {
	for _, ia := range [2]int{0, 1} {
		for _, ib := range [2]int{0, 1} {
			if rotatedHalves(b.Inputs[ib], a.Inputs[ia], users) {
				return a.Inputs[ia], a.Inputs[1-ia], b.Inputs[1-ib], true
			}
		}
	}
	return nil, nil, nil, false
}

// rotatedHalves reports whether r = Concatenate(Neg(x[..., D/2:]), x[..., :D/2]) on the last
// axis, each intermediate used once.
func rotatedHalves(r, x *gobackend.Node, users gobackend.Users) bool {
	rank := x.Shape.Rank()
	if rank == 0 || x.Shape.Dim(-1)%2 != 0 || !users.Link(r, compute.OpTypeConcatenate, 2) || !r.Shape.Equal(x.Shape) {
		return false
	}
	if axis, _ := r.Data.(int); axis != rank-1 {
		return false
	}
	n, x1 := r.Inputs[0], r.Inputs[1]
	if !users.Link(n, compute.OpTypeNeg, 1) || !users.Link(x1, compute.OpTypeSlice, 1) {
		return false
	}
	x2 := n.Inputs[0]
	D := x.Shape.Dim(-1)
	return users.Link(x2, compute.OpTypeSlice, 1) && halfOf(x1, x, 0, D/2) && halfOf(x2, x, D/2, D)
}

// halfOf reports whether s = x[..., from:to] (unit strides, every other axis whole).
func halfOf(s, x *gobackend.Node, from, to int) bool {
	p, ok := s.Data.(*sliceNode)
	if !ok || s.Inputs[0] != x {
		return false
	}
	rank := x.Shape.Rank()
	for axis := range rank {
		start, limit := 0, x.Shape.Dimensions[axis]
		if axis == rank-1 {
			start, limit = from, to
		}
		if p.starts[axis] != start || p.limits[axis] != limit || (len(p.strides) > 0 && p.strides[axis] != 1) {
			return false
		}
	}
	return true
}

// ropeTable reports whether a cos or sin table of shape t broadcasts onto x as the fused kernel
// reads it: same rank and dtype, each axis x's dimension or 1, the last x's.
func ropeTable(t, x shapes.Shape) bool {
	if t.DType != dtypes.Float32 || t.Rank() != x.Rank() || t.IsDynamic() || t.Dim(-1) != x.Dim(-1) {
		return false
	}
	for axis, d := range t.Dimensions {
		if d != 1 && d != x.Dimensions[axis] {
			return false
		}
	}
	return true
}

// Execute computes y = x·cos + [-x₂, x₁]·sin row by row (rows of D), each product and the sum
// rounded to float32 as the unfused Muls and Add round them.
func (*ropeFused) Execute(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer) (*gobackend.Buffer, error) {
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	x, out := inputs[0].Flat.([]float32), output.Flat.([]float32)
	cos, sin := inputs[1].Flat.([]float32), inputs[2].Flat.([]float32)
	dims := node.Shape.Dimensions
	D := dims[len(dims)-1]
	// Row r of x (its index over the leading axes) reads row tableRow(r) of each table: the
	// mixed-radix digits of r, with the table's strides (0 on its axes of dimension 1).
	lead := dims[:len(dims)-1]
	var buf [3][8]int // no allocations for rank up to 9
	cosStrides, sinStrides, digits := buf[0][:0], buf[1][:0], buf[2][:len(lead)]
	if len(lead) > len(buf[0]) {
		digits = make([]int, len(lead))
	}
	cosStrides = tableRowStrides(inputs[1].RawShape.Dimensions, cosStrides)
	sinStrides = tableRowStrides(inputs[2].RawShape.Dimensions, sinStrides)
	for row := range len(x) / D {
		c, s := 0, 0
		for axis, d := range digits {
			c += d * cosStrides[axis]
			s += d * sinStrides[axis]
		}
		ropeRow(x[row*D:(row+1)*D], cos[c*D:(c+1)*D], sin[s*D:(s+1)*D], out[row*D:(row+1)*D])
		for axis := len(digits) - 1; axis >= 0; axis-- { // next row's digits
			if digits[axis]++; digits[axis] < lead[axis] {
				break
			}
			digits[axis] = 0
		}
	}
	return output, nil
}

// tableRowStrides is, per leading axis of a table [..., D], how many rows of D one step along it
// moves (0 where the table's dimension is 1: broadcast), written into strides' storage.
func tableRowStrides(dims, strides []int) []int {
	lead := dims[:len(dims)-1]
	strides = append(strides[:0], make([]int, len(lead))...)
	stride := 1
	for axis := len(lead) - 1; axis >= 0; axis-- {
		if lead[axis] != 1 {
			strides[axis] = stride
		}
		stride *= lead[axis]
	}
	return strides
}

// ropeRow: out[:h] = x[:h]·cos[:h] - x[h:]·sin[:h], out[h:] = x[h:]·cos[h:] + x[:h]·sin[h:], h =
// D/2; 16 lanes at a time when h is a multiple of 16. (-a)·b is -(a·b) exactly, so the
// subtraction is the unfused Neg, Mul and Add.
func ropeRow(x, cos, sin, out []float32) {
	h := len(x) / 2
	if h%16 == 0 {
		for i := 0; i < h; i += 16 {
			ld := func(s []float32, j int) archsimd.Float32x16 {
				return archsimd.LoadFloat32x16((*[16]float32)(s[j : j+16]))
			}
			x1, x2 := ld(x, i), ld(x, h+i)
			x1.Mul(ld(cos, i)).Sub(x2.Mul(ld(sin, i))).Store((*[16]float32)(out[i : i+16]))
			x2.Mul(ld(cos, h+i)).Add(x1.Mul(ld(sin, h+i))).Store((*[16]float32)(out[h+i : h+i+16]))
		}
		return
	}
	for i := range h {
		x1, x2 := x[i], x[h+i]
		out[i] = float32(x1*cos[i]) - float32(x2*sin[i]) // rounded products: no fused multiply-add
		out[h+i] = float32(x2*cos[h+i]) + float32(x1*sin[h+i])
	}
}
