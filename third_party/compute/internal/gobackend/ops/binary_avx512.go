// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package ops

// Float32 Add, Sub, Mul and Div with AVX-512, split over the workers (golem, see GOLEM_PATCH.md).
//
// The generic executors run one element at a time on one core, and through the zipped
// broadcast iterator (6-13 ns per element) whenever an operand is broadcast. Here each operand
// is classified against the output shape as full, "row" (leading axes of dimension 1: a bias
// [1, C] against [N, C], read with period C) or "column" (trailing axes of dimension 1: a
// per-row scale [N, 1], one value per output row; a scalar is a column of the whole tensor).
// The output is then processed row by row with 16-lane vector-vector or vector-scalar loops.
// Other combinations (both operands broadcast) and other dtypes keep the generic executors.

import (
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
)

type binaryFloat32Op int

const (
	binaryAdd binaryFloat32Op = iota
	binarySub
	binaryMul
	binaryDiv
)

// binaryFastMinSize: below this many output elements the generic executor is used. It was 256,
// but the generic executors cost 5-13 ns per element through their iterators against well under
// 1 ns here: a decode step of a small model is mostly ops of 16-192 elements (norms, RoPE, one
// head's scores), and those took the slow path (golem, see GOLEM_PATCH.md).
const binaryFastMinSize = 16

func init() {
	if !archsimd.X86.AVX512() {
		return
	}
	for opType, c := range map[compute.OpType]struct {
		op      binaryFloat32Op
		generic gobackend.NodeExecutor
	}{
		compute.OpTypeAdd: {binaryAdd, execAdd},
		compute.OpTypeSub: {binarySub, execSub},
		compute.OpTypeMul: {binaryMul, execMul},
		compute.OpTypeDiv: {binaryDiv, execDiv},
	} {
		gobackend.SetNodeExecutor(opType, gobackend.PriorityArch, func(backend *gobackend.Backend, node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
			return execBinaryFloat32AVX512(c.op, c.generic, backend, node, inputs, inputsOwned)
		})
	}
}

// operandLayout says how an operand maps onto the output: full (same shape), row (period
// elements repeated over the output) or column (each value repeated `repeat` times).
type operandLayout struct {
	kind   int // 0 full, 1 row, 2 column, 3 middle, -1 unsupported
	period int // row: number of elements of the operand; column: output elements per value; middle: inner block
	repeat int // middle: how many times each inner block of the operand repeats
}

func classifyOperand(operand, output []int) operandLayout {
	if size := prod(operand); size == 1 && (len(operand) == 0 || len(operand) == len(output)) {
		// A scalar, of rank 0 (a Constant: the attention scale, Adam's scalars) or with every
		// axis of dimension 1: a column of the whole tensor. Rank-0 scalars took the generic
		// executor (4.5% of a step); [1, 1] was a "row" of one element per output element.
		return operandLayout{kind: 2, period: prod(output)}
	}
	if len(operand) != len(output) {
		return operandLayout{kind: -1}
	}
	rank := len(output)
	inner := func(k int) int {
		n := 1
		for _, d := range output[k:] {
			n *= d
		}
		return n
	}
	// Full.
	full := true
	for i := range rank {
		if operand[i] != output[i] {
			full = false
			break
		}
	}
	if full {
		return operandLayout{kind: 0}
	}
	// Row: operand[:k] all 1, operand[k:] == output[k:].
	k := 0
	for k < rank && operand[k] == 1 {
		k++
	}
	for ; k >= 0; k-- {
		match := true
		for i := k; i < rank; i++ {
			if operand[i] != output[i] {
				match = false
				break
			}
		}
		if match {
			return operandLayout{kind: 1, period: inner(k)}
		}
		if k == 0 || operand[k-1] != 1 {
			break
		}
	}
	// Column: operand[:k] == output[:k], operand[k:] all 1.
	k = rank
	for k > 0 && operand[k-1] == 1 {
		k--
	}
	column := true
	for i := range k {
		if operand[i] != output[i] {
			column = false
			break
		}
	}
	if column {
		return operandLayout{kind: 2, period: inner(k)}
	}
	// Middle: operand[:a] == output[:a], operand[a:b] all 1, operand[b:] == output[b:]: each
	// block of inner(b) operand elements repeats over the middle axes (golem: an attention mask
	// [B, 1, 1, S] against scores [B, K, G, S], a RoPE table [B, 1, D] against heads [B, n, D]
	// took the generic executor once B > 1).
	a := 0
	for a < rank && operand[a] == output[a] {
		a++
	}
	b := a
	for b < rank && operand[b] == 1 {
		b++
	}
	for i := b; i < rank; i++ {
		if operand[i] != output[i] {
			return operandLayout{kind: -1}
		}
	}
	return operandLayout{kind: 3, period: inner(b), repeat: inner(a) / inner(b)}
}

func prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

func execBinaryFloat32AVX512(op binaryFloat32Op, generic gobackend.NodeExecutor, backend *gobackend.Backend,
	node *gobackend.Node, inputs []*gobackend.Buffer, inputsOwned []bool) (*gobackend.Buffer, error) {
	if inputs[0].RawShape.DType != dtypes.Float32 || node.Shape.IsDynamic() || node.Shape.Size() < binaryFastMinSize {
		return generic(backend, node, inputs, inputsOwned)
	}
	outDims := node.Shape.Dimensions
	lhsLayout := classifyOperand(inputs[0].RawShape.Dimensions, outDims)
	rhsLayout := classifyOperand(inputs[1].RawShape.Dimensions, outDims)
	if lhsLayout.kind < 0 || rhsLayout.kind < 0 || (lhsLayout.kind != 0 && rhsLayout.kind != 0) {
		return generic(backend, node, inputs, inputsOwned)
	}
	lhsBuf, rhsBuf, outBuf, _, _ := binaryOperandsAndOutputForExecution(backend, node, inputs, inputsOwned, node.Shape)
	lhs, rhs, out := lhsBuf.Flat.([]float32), rhsBuf.Flat.([]float32), outBuf.Flat.([]float32)
	size := len(out)
	// Work items: elements, or rows of p elements when one operand repeats per row.
	items, itemLen := size, 1
	switch {
	case lhsLayout.kind == 0 && rhsLayout.kind == 0:
	case rhsLayout.kind != 0 && rhsLayout.period != size:
		items, itemLen = size/rhsLayout.period, rhsLayout.period
	case lhsLayout.kind != 0 && lhsLayout.period != size:
		items, itemLen = size/lhsLayout.period, lhsLayout.period
	}
	chunk := max(1, 4*unaryMinParallelizeChunk/itemLen)
	if OnCaller(backend, items, chunk) {
		binaryItems(op, lhsLayout, rhsLayout, lhs, rhs, out, itemLen, 0, items)
		return outBuf, nil
	}
	ParallelRange(backend, items, chunk, func(i0, i1 int) {
		binaryItems(op, lhsLayout, rhsLayout, lhs, rhs, out, itemLen, i0, i1)
	})
	return outBuf, nil
}

// binaryItems computes items [i0, i1) of out = lhs op rhs: elements when itemLen is 1, else rows
// of itemLen elements against the operand that repeats per row (see execBinaryFloat32AVX512).
func binaryItems(op binaryFloat32Op, lhsLayout, rhsLayout operandLayout, lhs, rhs, out []float32, itemLen, i0, i1 int) {
	size, p := len(out), itemLen
	s, e := i0*p, i1*p
	switch {
	case lhsLayout.kind == 0 && rhsLayout.kind == 0:
		binaryVV(op, lhs[s:e], rhs[s:e], out[s:e])
	case rhsLayout.kind == 2 && rhsLayout.period == size: // rhs: one value for everything.
		binaryVS(op, lhs[s:e], rhs[0], out[s:e], false)
	case lhsLayout.kind == 2 && lhsLayout.period == size:
		binaryVS(op, rhs[s:e], lhs[0], out[s:e], true)
	case rhsLayout.kind == 1: // rhs: one row of p elements.
		for r := i0; r < i1; r++ {
			binaryVV(op, lhs[r*p:(r+1)*p], rhs[:p], out[r*p:(r+1)*p])
		}
	case lhsLayout.kind == 1:
		for r := i0; r < i1; r++ {
			binaryVV(op, lhs[:p], rhs[r*p:(r+1)*p], out[r*p:(r+1)*p])
		}
	case rhsLayout.kind == 3: // rhs: row r/repeat of p elements for row r.
		for r := i0; r < i1; r++ {
			o := r / rhsLayout.repeat
			binaryVV(op, lhs[r*p:(r+1)*p], rhs[o*p:(o+1)*p], out[r*p:(r+1)*p])
		}
	case lhsLayout.kind == 3:
		for r := i0; r < i1; r++ {
			o := r / lhsLayout.repeat
			binaryVV(op, lhs[o*p:(o+1)*p], rhs[r*p:(r+1)*p], out[r*p:(r+1)*p])
		}
	case rhsLayout.kind == 2: // rhs: one value per row of p elements.
		for r := i0; r < i1; r++ {
			binaryVS(op, lhs[r*p:(r+1)*p], rhs[r], out[r*p:(r+1)*p], false)
		}
	default: // lhs column.
		for r := i0; r < i1; r++ {
			binaryVS(op, rhs[r*p:(r+1)*p], lhs[r], out[r*p:(r+1)*p], true)
		}
	}
}

// rowsPerChunk is how many rows of rowLen elements parallelRows hands a worker at a time.
func rowsPerChunk(rowLen int) int { return max(1, 4*unaryMinParallelizeChunk/max(rowLen, 1)) }

// parallelRows calls fn(row) for every row in [0, rows), rows of rowLen elements, split over the
// workers in chunks of whole rows.
func parallelRows(backend *gobackend.Backend, rows, rowLen int, fn func(row int)) {
	ParallelRange(backend, rows, rowsPerChunk(rowLen), func(start, end int) {
		for r := start; r < end; r++ {
			fn(r)
		}
	})
}

func apply16(op binaryFloat32Op, a, b archsimd.Float32x16) archsimd.Float32x16 {
	switch op {
	case binaryAdd:
		return a.Add(b)
	case binarySub:
		return a.Sub(b)
	case binaryMul:
		return a.Mul(b)
	default:
		return a.Div(b)
	}
}

func apply1(op binaryFloat32Op, a, b float32) float32 {
	switch op {
	case binaryAdd:
		return a + b
	case binarySub:
		return a - b
	case binaryMul:
		return a * b
	default:
		return a / b
	}
}

func load16(s []float32, i int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(&s[i])))
}

// binaryVV: out[i] = a[i] op b[i].
func binaryVV(op binaryFloat32Op, a, b, out []float32) {
	n := len(out)
	a, b = a[:n], b[:n]
	i := 0
	for ; i+16 <= n; i += 16 {
		apply16(op, load16(a, i), load16(b, i)).Store((*[16]float32)(unsafe.Pointer(&out[i])))
	}
	for ; i < n; i++ {
		out[i] = apply1(op, a[i], b[i])
	}
}

// binaryVS: out[i] = a[i] op s, or s op a[i] when scalarFirst.
func binaryVS(op binaryFloat32Op, a []float32, s float32, out []float32, scalarFirst bool) {
	n := len(out)
	a = a[:n]
	sv := archsimd.BroadcastFloat32x16(s)
	i := 0
	if scalarFirst {
		for ; i+16 <= n; i += 16 {
			apply16(op, sv, load16(a, i)).Store((*[16]float32)(unsafe.Pointer(&out[i])))
		}
		for ; i < n; i++ {
			out[i] = apply1(op, s, a[i])
		}
		return
	}
	for ; i+16 <= n; i += 16 {
		apply16(op, load16(a, i), sv).Store((*[16]float32)(unsafe.Pointer(&out[i])))
	}
	for ; i < n; i++ {
		out[i] = apply1(op, a[i], s)
	}
}
