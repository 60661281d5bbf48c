// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

// Blocked, parallel Transpose (golem, see GOLEM_PATCH.md).
//
// The permutation is first simplified: axes of dimension 1 are dropped and operand axes that stay
// next to each other, in order, in the output are merged ([B, T, H, D] -> [B, H, T, D] becomes a
// rank-4 permutation with a contiguous inner run of D; [N, C] -> [C, N] a 2D transpose). Then:
//
//   - the innermost axis stays innermost: copy contiguous runs (one copy per output row);
//   - otherwise: for every combination of the other axes, transpose the 2D slab formed by the
//     operand's innermost axis and the output's innermost axis in 16x16 tiles, so that every
//     cache line read and written is used whole.
//
// Both are split over the backend's workers for large tensors.

import (
	"sync/atomic"

	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/tile"
)

// transposeParallelMinSize is the number of elements from which Transpose uses several workers.
const transposeParallelMinSize = 1 << 15

// transposeTile is the side of the square tiles of the 2D case.
const transposeTile = 16

// simplifyTranspose drops axes of dimension 1 and merges operand axes that stay adjacent and in
// order in the output. It returns the operand dimensions and the permutation of the simplified
// problem (output axis i is operand axis perm[i]).
func simplifyTranspose(dims, permutations []int) (newDims, newPerm []int) {
	// Drop axes of dimension 1 and renumber the others (so that axes around a dropped one can
	// merge); outAxes: the output axes as renumbered operand axes.
	compact := make([]int, len(dims))
	var kept []int // kept[i]: original operand axis of renumbered axis i.
	for axis, d := range dims {
		compact[axis] = len(kept)
		if d != 1 {
			kept = append(kept, axis)
		}
	}
	var outAxes []int
	for _, axis := range permutations {
		if dims[axis] != 1 {
			outAxes = append(outAxes, compact[axis])
		}
	}
	// Group runs of consecutive operand axes in output order.
	type group struct{ first, last int }
	var groups []group
	for _, axis := range outAxes {
		if n := len(groups); n > 0 && groups[n-1].last+1 == axis {
			groups[n-1].last = axis
			continue
		}
		groups = append(groups, group{axis, axis})
	}
	// Number the groups in operand order.
	order := make([]int, len(groups)) // order[i]: the group that is i-th in the operand.
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // Insertion sort by first operand axis: ranks are small.
		for j := i; j > 0 && groups[order[j]].first < groups[order[j-1]].first; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	newDims = make([]int, len(groups))
	operandPos := make([]int, len(groups)) // operandPos[g]: position of group g in the operand.
	for pos, g := range order {
		size := 1
		for axis := groups[g].first; axis <= groups[g].last; axis++ {
			size *= dims[kept[axis]]
		}
		newDims[pos] = size
		operandPos[g] = pos
	}
	newPerm = make([]int, len(groups))
	for g := range groups {
		newPerm[g] = operandPos[g]
	}
	return newDims, newPerm
}

// transposeBlocked transposes operand into output for the common dtypes; it returns false for a
// dtype it does not handle (the caller then uses the element iterator).
func transposeBlocked(backend *gobackend.Backend, operand, output *gobackend.Buffer, permutations []int) bool {
	dims, perm := simplifyTranspose(operand.RawShape.Dimensions, permutations)
	switch in := operand.Flat.(type) {
	case []float32:
		transposeBlockedGeneric(backend, in, output.Flat.([]float32), dims, perm)
	case []float64:
		transposeBlockedGeneric(backend, in, output.Flat.([]float64), dims, perm)
	case []int32:
		transposeBlockedGeneric(backend, in, output.Flat.([]int32), dims, perm)
	case []int64:
		transposeBlockedGeneric(backend, in, output.Flat.([]int64), dims, perm)
	case []uint8:
		transposeBlockedGeneric(backend, in, output.Flat.([]uint8), dims, perm)
	case []bool:
		transposeBlockedGeneric(backend, in, output.Flat.([]bool), dims, perm)
	case []float16.Float16:
		transposeBlockedGeneric(backend, in, output.Flat.([]float16.Float16), dims, perm)
	case []bfloat16.BFloat16:
		transposeBlockedGeneric(backend, in, output.Flat.([]bfloat16.BFloat16), dims, perm)
	default:
		return false
	}
	return true
}

// transposeBlockedGeneric: output axis i is operand axis perm[i] (simplified: no axis of
// dimension 1, no mergeable axes).
func transposeBlockedGeneric[T any](backend *gobackend.Backend, in, out []T, dims, perm []int) {
	size := 1
	for _, d := range dims {
		size *= d
	}
	out = out[:size]
	in = in[:size]
	rank := len(dims)
	if rank <= 1 {
		copy(out, in)
		return
	}
	inStrides := make([]int, rank)
	stride := 1
	for axis := rank - 1; axis >= 0; axis-- {
		inStrides[axis] = stride
		stride *= dims[axis]
	}
	outDims := make([]int, rank)
	outStrides := make([]int, rank)
	stride = 1
	for axis := rank - 1; axis >= 0; axis-- {
		outDims[axis] = dims[perm[axis]]
		outStrides[axis] = stride
		stride *= outDims[axis]
	}

	if perm[rank-1] == rank-1 {
		// The innermost axis stays: copy runs of dims[rank-1] elements, one per output row. The
		// output rows are indexed by the outer output axes; their operand strides:
		run := dims[rank-1]
		rows := size / run
		outerDims := outDims[:rank-1]
		outerInStrides := make([]int, rank-1)
		for i := range rank - 1 {
			outerInStrides[i] = inStrides[perm[i]]
		}
		transposeParallel(backend, size, rows, func(rowStart, rowEnd int) {
			idx := make([]int, rank-1)
			inOffset := unflatten(rowStart, outerDims, outerInStrides, idx)
			for row := rowStart; row < rowEnd; row++ {
				copy(out[row*run:(row+1)*run], in[inOffset:inOffset+run])
				inOffset = nextIndex(idx, outerDims, outerInStrides, inOffset)
			}
		})
		return
	}

	// 2D slabs: axis a = the output's innermost axis (operand stride inStrides[a]), axis b = the
	// operand's innermost axis (output stride outStrides[q], where perm[q] == b).
	a, b := perm[rank-1], rank-1
	q := 0
	for i, axis := range perm {
		if axis == b {
			q = i
		}
	}
	inStrideA, outStrideB := inStrides[a], outStrides[q]
	// The other axes, iterated in output order: their dims and strides in operand and output.
	var otherDims, otherIn, otherOut []int
	for i, axis := range perm {
		if axis != a && axis != b {
			otherDims = append(otherDims, dims[axis])
			otherIn = append(otherIn, inStrides[axis])
			otherOut = append(otherOut, outStrides[i])
		}
	}
	numSlabs := 1
	for _, d := range otherDims {
		numSlabs *= d
	}
	dimA, dimB := dims[a], dims[b]
	// full16 transposes a whole 16x16 tile with SIMD registers (float32 only).
	var full16 func(src []T, srcStride int, dst []T, dstStride int)
	if f, ok := any(tile.Transpose16x16Float32).(func([]T, int, []T, int)); ok {
		full16 = f
	}
	tilesB := (dimB + transposeTile - 1) / transposeTile
	// Work items: (slab, tile row of b).
	transposeParallel(backend, size, numSlabs*tilesB, func(start, end int) {
		idx := make([]int, len(otherDims))
		slab := start / tilesB
		inBase := unflatten(slab, otherDims, otherIn, idx)
		outBase := 0
		for i, v := range idx {
			outBase += v * otherOut[i]
		}
		for item := start; item < end; item++ {
			if s := item / tilesB; s != slab {
				slab = s
				inBase = nextIndex(idx, otherDims, otherIn, inBase)
				outBase = 0
				for i, v := range idx {
					outBase += v * otherOut[i]
				}
			}
			b0 := (item % tilesB) * transposeTile
			b1 := min(b0+transposeTile, dimB)
			for a0 := 0; a0 < dimA; a0 += transposeTile {
				a1 := min(a0+transposeTile, dimA)
				if full16 != nil && b1-b0 == 16 && a1-a0 == 16 {
					full16(in[inBase+a0*inStrideA+b0:], inStrideA, out[outBase+b0*outStrideB+a0:], outStrideB)
					continue
				}
				// Read rows of b (contiguous in the operand along b), write rows of a (contiguous
				// in the output along a).
				for ib := b0; ib < b1; ib++ {
					dst := out[outBase+ib*outStrideB+a0 : outBase+ib*outStrideB+a1]
					src := inBase + a0*inStrideA + ib
					for i := range dst {
						dst[i] = in[src+i*inStrideA]
					}
				}
			}
		}
	})
}

// unflatten sets idx to the multi-index of flat (row-major over dims) and returns the offset
// sum(idx[i] * strides[i]).
func unflatten(flat int, dims, strides, idx []int) int {
	offset := 0
	for i := len(dims) - 1; i >= 0; i-- {
		idx[i] = flat % dims[i]
		flat /= dims[i]
		offset += idx[i] * strides[i]
	}
	return offset
}

// nextIndex advances idx (row-major over dims) by one and returns the updated offset.
func nextIndex(idx, dims, strides []int, offset int) int {
	for i := len(dims) - 1; i >= 0; i-- {
		idx[i]++
		offset += strides[i]
		if idx[i] < dims[i] {
			return offset
		}
		offset -= idx[i] * strides[i]
		idx[i] = 0
	}
	return offset
}

// transposeParallel calls fn on ranges of [0, items) on the backend's workers when the tensor
// is large (about 4 ranges per worker, pulled by the workers), otherwise on the caller.
func transposeParallel(backend *gobackend.Backend, size, items int, fn func(start, end int)) {
	workers := 1
	if backend != nil && size >= transposeParallelMinSize {
		workers = backend.Workers.AdjustedMaxParallelism()
	}
	if workers <= 1 || items < 2 {
		fn(0, items)
		return
	}
	chunks := min(items, 4*workers)
	step := (items + chunks - 1) / chunks
	var next atomic.Int32
	backend.Workers.Saturate(func() {
		for {
			start := int(next.Add(1)-1) * step
			if start >= items {
				return
			}
			fn(start, min(start+step, items))
		}
	})
}
