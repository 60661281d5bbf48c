// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestSliceRows compares the row-copy Slice (last axis of stride 1) with the element-by-element
// loop on slices of rank 1-4 with starts, strides on the outer axes and axes of dimension 1,
// for float32 and int64; and checks execSliceGeneric's dispatch for a strided last axis.
func TestSliceRows(t *testing.T) {
	cases := []struct {
		dims, starts, limits, strides []int
	}{
		{[]int{10}, []int{3}, []int{9}, []int{1}},
		{[]int{64, 1152}, []int{0, 384}, []int{64, 768}, []int{1, 1}},
		{[]int{7, 9, 13}, []int{1, 2, 3}, []int{6, 9, 12}, []int{2, 3, 1}},
		{[]int{3, 1, 5, 17}, []int{1, 0, 0, 4}, []int{3, 1, 5, 5}, []int{1, 1, 2, 1}},
		{[]int{6, 8}, []int{0, 1}, []int{6, 8}, []int{2, 3}}, // Strided last axis: element loop.
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v[%v:%v:%v]", c.dims, c.starts, c.limits, c.strides), func(t *testing.T) {
			outDims := make([]int, len(c.dims))
			for i := range c.dims {
				outDims[i] = (c.limits[i] - c.starts[i] + c.strides[i] - 1) / c.strides[i]
			}
			params := &sliceNode{starts: c.starts, limits: c.limits, strides: c.strides}
			checkSliceRows[float32](t, dtypes.Float32, c.dims, outDims, params)
			checkSliceRows[int64](t, dtypes.Int64, c.dims, outDims, params)
		})
	}
}

func checkSliceRows[T float32 | int64](t *testing.T, dtype dtypes.DType, dims, outDims []int, params *sliceNode) {
	inShape, outShape := shapes.Make(dtype, dims...), shapes.Make(dtype, outDims...)
	flat := make([]T, inShape.Size())
	for i := range flat {
		flat[i] = T(i*3 + 1)
	}
	operand := &gobackend.Buffer{RawShape: inShape, Flat: flat}
	want := &gobackend.Buffer{RawShape: outShape, Flat: make([]T, outShape.Size())}
	got := &gobackend.Buffer{RawShape: outShape, Flat: make([]T, outShape.Size())}
	sliceElementsGeneric[T](operand, want, params)
	execSliceGeneric[T](operand, got, params)
	if !slices.Equal(want.Flat.([]T), got.Flat.([]T)) {
		t.Fatalf("%s: got %v, want %v", dtype, got.Flat, want.Flat)
	}
}

// BenchmarkSliceRows prints ns per output element of slicing the middle third of the columns
// of [2048, 1152] (a q/k/v split), row copies vs the element loop.
func BenchmarkSliceRows(b *testing.B) {
	inShape, outShape := shapes.Make(dtypes.Float32, 2048, 1152), shapes.Make(dtypes.Float32, 2048, 384)
	operand := &gobackend.Buffer{RawShape: inShape, Flat: make([]float32, inShape.Size())}
	output := &gobackend.Buffer{RawShape: outShape, Flat: make([]float32, outShape.Size())}
	params := &sliceNode{starts: []int{0, 384}, limits: []int{2048, 768}, strides: []int{1, 1}}
	for _, c := range []struct {
		name string
		fn   func(operand, output *gobackend.Buffer, params *sliceNode)
	}{{"rows", sliceRowsGeneric[float32]}, {"elements", sliceElementsGeneric[float32]}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.fn(operand, output, params)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*outShape.Size()), "ns/elem")
		})
	}
}
