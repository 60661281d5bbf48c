package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sliceContiguousRuns against the element-by-element loop it shortcuts: random shapes and
// unit-stride slices of rank 1 to 4, including whole axes and single elements.
func TestSliceContiguousRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 500 {
		rank := 1 + rng.IntN(4)
		dims, out := make([]int, rank), make([]int, rank)
		p := &sliceNode{starts: make([]int, rank), limits: make([]int, rank), strides: make([]int, rank)}
		for i := range rank {
			dims[i] = 1 + rng.IntN(5)
			p.starts[i] = rng.IntN(dims[i])
			p.limits[i] = p.starts[i] + 1 + rng.IntN(dims[i]-p.starts[i])
			if rng.IntN(3) == 0 { // a whole axis
				p.starts[i], p.limits[i] = 0, dims[i]
			}
			p.strides[i] = 1
			out[i] = p.limits[i] - p.starts[i]
		}
		operand := make([]float32, sliceFlatSize(dims))
		for i := range operand {
			operand[i] = float32(i)
		}
		var want []float32
		var at func(axis, off int)
		at = func(axis, off int) { // the reference: nested loops over the output coordinates
			if axis == rank {
				want = append(want, operand[off])
				return
			}
			stride := sliceFlatSize(dims[axis+1:])
			for j := p.starts[axis]; j < p.limits[axis]; j++ {
				at(axis+1, off+j*stride)
			}
		}
		at(0, 0)
		got := make([]float32, sliceFlatSize(out))
		if !sliceContiguousRuns(operand, got, dims, out, p) {
			t.Fatalf("trial %d: unit strides not handled", trial)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: dims %v starts %v limits %v: got %v, want %v", trial, dims, p.starts, p.limits, got, want)
		}
	}
}
