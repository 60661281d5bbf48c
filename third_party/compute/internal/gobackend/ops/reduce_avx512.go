// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package ops

// Float32 ReduceSum with AVX-512, split over the workers (golem, see GOLEM_PATCH.md).
//
// The generic reduction walks the operand one element at a time through ReduceOutputIterator,
// on one core. When the reduced axes are contiguous the operand is viewed as [outer, L, inner]
// (L: the product of the reduced axes) and the output as [outer, inner]:
//   - inner == 1 (rows, e.g. LayerNorm statistics over C): 16-lane partial sums per row, then
//     one horizontal sum, rows split over the workers;
//   - inner > 1 (columns, e.g. a bias gradient summed over the tokens): out[o, :] += in[o, l, :]
//     with 16-lane adds, split over the workers by outer index or by column blocks.
// Summation order differs from the sequential loop (float32 rounding may differ in the last
// bits); other reductions, other dtypes and non-contiguous axes keep the generic executor.
//
// Float32 ReduceMax and ReduceMin over contiguous trailing axes (rows: inner == 1, e.g. the
// log-sum-exp max over the vocabulary) take the same path with 16-lane max/min; a row holding a
// NaN gives NaN, as the generic loop does. Column reductions keep the generic executor.

import (
	"math"
	"simd/archsimd"
	"slices"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
)

func init() {
	if !archsimd.X86.AVX512() {
		return
	}
	gobackend.SetNodeExecutor(compute.OpTypeReduceSum, gobackend.PriorityArch, execReduceSumFloat32AVX512)
	gobackend.SetNodeExecutor(compute.OpTypeReduceMax, gobackend.PriorityArch, execReduceMaxMinFloat32AVX512)
	gobackend.SetNodeExecutor(compute.OpTypeReduceMin, gobackend.PriorityArch, execReduceMaxMinFloat32AVX512)
}

// reduceContiguous returns the operand as [outer, reduced, inner] when the reduce axes are
// contiguous; ok is false otherwise.
func reduceContiguous(dims, axes []int) (outer, reduced, inner int, ok bool) {
	if len(axes) == 0 {
		return 0, 0, 0, false
	}
	var buf [8]int // sorted without allocating: this runs for every reduction
	sorted := buf[:0]
	if len(axes) > len(buf) {
		sorted = make([]int, 0, len(axes))
	}
	sorted = append(sorted, axes...)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] != sorted[i-1]+1 {
			return 0, 0, 0, false
		}
	}
	outer, reduced, inner = 1, 1, 1
	for axis, d := range dims {
		switch {
		case axis < sorted[0]:
			outer *= d
		case axis <= sorted[len(sorted)-1]:
			reduced *= d
		default:
			inner *= d
		}
	}
	return outer, reduced, inner, true
}

func execReduceSumFloat32AVX512(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	operand := inputs[0]
	axes, _ := node.Data.([]int)
	outer, reduced, inner, ok := reduceContiguous(operand.RawShape.Dimensions, axes)
	if operand.RawShape.DType != dtypes.Float32 || node.Shape.IsDynamic() || !ok || outer*reduced*inner < binaryFastMinSize {
		return execReduce(backend, node, inputs, inputsOwned)
	}
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	in, out := operand.Flat.([]float32), output.Flat.([]float32)
	reduceSumFloat32(backend, in, out, outer, reduced, inner)
	return output, nil
}

// reduceSumFloat32: out[o, j] = sum_l in[o, l, j] for in [outer, reduced, inner].
func reduceSumFloat32(backend *gobackend.Backend, in, out []float32, outer, reduced, inner int) {
	if inner == 1 {
		if OnCaller(backend, outer, rowsPerChunk(reduced)) { // no closure to allocate
			for o := range outer {
				out[o] = sumFloat32(in[o*reduced : (o+1)*reduced])
			}
			return
		}
		parallelRows(backend, outer, reduced, func(o int) { out[o] = sumFloat32(in[o*reduced : (o+1)*reduced]) })
		return
	}
	sumColumns := func(o, j0, j1 int) {
		dst := out[o*inner+j0 : o*inner+j1]
		clear(dst)
		for l := range reduced {
			src := in[(o*reduced+l)*inner+j0 : (o*reduced+l)*inner+j1]
			binaryVV(binaryAdd, dst, src, dst)
		}
	}
	if outer >= 8 {
		parallelRows(backend, outer, reduced*inner, func(o int) { sumColumns(o, 0, inner) })
		return
	}
	// Few outer items: split the columns (in blocks of 256 floats) instead.
	const block = 256
	blocks := (inner + block - 1) / block
	parallelRows(backend, outer*blocks, reduced*block, func(item int) {
		o, b := item/blocks, item%blocks
		sumColumns(o, b*block, min((b+1)*block, inner))
	})
}

// sumFloat32 returns the sum of x with 4 independent 16-lane accumulators.
func sumFloat32(x []float32) float32 { return sumRow(x, false) }

// SumSquaresFloat32 returns the sum of x⊙x, each square rounded to float32 before it is added:
// bit for bit what ReduceSum(Mul(x, x)) over a row gives on this path (for fused kernels).
func SumSquaresFloat32(x []float32) float32 { return sumRow(x, true) }

// sumRow sums x (or its squares) with 4 independent 16-lane accumulators.
func sumRow(x []float32, square bool) float32 {
	n := len(x)
	ld := func(i int) archsimd.Float32x16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&x[i])))
		if square {
			v = v.Mul(v)
		}
		return v
	}
	var a0, a1, a2, a3 archsimd.Float32x16
	i := 0
	for ; i+64 <= n; i += 64 {
		a0 = a0.Add(ld(i))
		a1 = a1.Add(ld(i + 16))
		a2 = a2.Add(ld(i + 32))
		a3 = a3.Add(ld(i + 48))
	}
	for ; i+16 <= n; i += 16 {
		a0 = a0.Add(ld(i))
	}
	var lanes [16]float32
	a0.Add(a1).Add(a2.Add(a3)).Store(&lanes)
	var sum float32
	for _, v := range lanes {
		sum += v
	}
	for ; i < n; i++ {
		v := x[i]
		if square {
			v = float32(v * v) // rounded before the add: no fused multiply-add
		}
		sum += v
	}
	return sum
}

func execReduceMaxMinFloat32AVX512(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	operand := inputs[0]
	axes, _ := node.Data.([]int)
	outer, reduced, inner, ok := reduceContiguous(operand.RawShape.Dimensions, axes)
	if operand.RawShape.DType != dtypes.Float32 || node.Shape.IsDynamic() || !ok || inner != 1 ||
		outer*reduced < binaryFastMinSize {
		return execReduce(backend, node, inputs, inputsOwned)
	}
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	in, out := operand.Flat.([]float32), output.Flat.([]float32)
	isMax := node.OpType == compute.OpTypeReduceMax
	parallelRows(backend, outer, reduced, func(o int) { out[o] = maxMinFloat32(in[o*reduced:(o+1)*reduced], isMax) })
	return output, nil
}

// maxMinFloat32 returns the largest (isMax) or smallest value of x with 4 independent 16-lane
// accumulators: -Inf (+Inf) when x is empty, NaN when x holds one (VMAXPS/VMINPS alone would
// drop it, so NaNs are tracked in a mask). Of -0 and +0 either may be returned.
func maxMinFloat32(x []float32, isMax bool) float32 {
	n := len(x)
	init := float32(math.Inf(1))
	if isMax {
		init = float32(math.Inf(-1))
	}
	a0 := archsimd.BroadcastFloat32x16(init)
	a1, a2, a3 := a0, a0, a0
	hasNaN := a0.IsNaN() // All false.
	i := 0
	for ; i+64 <= n; i += 64 {
		v0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&x[i])))
		v1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&x[i+16])))
		v2 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&x[i+32])))
		v3 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&x[i+48])))
		hasNaN = hasNaN.Or(v0.IsNaN()).Or(v1.IsNaN()).Or(v2.IsNaN()).Or(v3.IsNaN())
		a0, a1, a2, a3 = maxMin16(a0, v0, isMax), maxMin16(a1, v1, isMax), maxMin16(a2, v2, isMax), maxMin16(a3, v3, isMax)
	}
	for ; i+16 <= n; i += 16 {
		v0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&x[i])))
		hasNaN = hasNaN.Or(v0.IsNaN())
		a0 = maxMin16(a0, v0, isMax)
	}
	if hasNaN.ToBits() != 0 {
		return float32(math.NaN())
	}
	var lanes [16]float32
	maxMin16(maxMin16(a0, a1, isMax), maxMin16(a2, a3, isMax), isMax).Store(&lanes)
	result := init
	for _, v := range lanes {
		result = maxMin1(result, v, isMax)
	}
	for _, v := range x[i:] {
		result = maxMin1(result, v, isMax) // Go's max/min: NaN if v is NaN.
	}
	return result
}

func maxMin16(a, b archsimd.Float32x16, isMax bool) archsimd.Float32x16 {
	if isMax {
		return a.Max(b)
	}
	return a.Min(b)
}

func maxMin1(a, b float32, isMax bool) float32 {
	if isMax {
		return max(a, b)
	}
	return min(a, b)
}
