// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

// A BLIS-style float32 GEMM for AVX-512 with a 6x64 register-blocked micro-kernel.
//
// Why a Go-assembly micro-kernel: Go 1.26's register allocator keeps SIMD values that live across a
// loop (the accumulators) in X0-X14 only (ssa.compatRegs uses fpRegMask), so a kernel written with
// simd/archsimd spills beyond ~12 accumulators, and the archsimd kernels (avx512_large.go) hold 8.
// The 6x64 kernel in avx512_gemm_f32_amd64.s keeps 24 ZMM accumulators, loads 4 RHS vectors and
// issues 6 broadcasts per 24 FMAs, like the BLIS/OpenBLAS Skylake-X kernels. It is still pure Go
// (no cgo): one static binary.
//
// Packing reads any operand layout through strides, so DotGeneral never materialises a transposed
// copy: lhs is [M, K] (row-major) or [K, M] (the xᵀ·dy weight gradient), rhs is [K, N] or [N, K].
//
// The lhs is not packed: the kernel reads its 6 rows in place through strides (a row-major lhs
// gives 6 sequential streams, a [K, M] lhs 6 contiguous values per k); only a last block of fewer
// than 6 rows is copied, zero-padded. The rhs is packed into 64-column micro-panels.
//
// Loop nest (per task, a block of output rows and columns of one batch item):
//
//	for jc in N step gemmNC:
//	  for pc in K step gemmKC:        pack rhs[pc:pc+kc, jc:jc+nc] -> packedRHS (L2)
//	    for ir in rows step 6:         (the lhs micro-panel, 6 x kc, stays in L1)
//	      for jr in nc step 64:        micro-kernel: output[ir:ir+6, jc+jr:+64] (+)= ...

//go:generate go run ../../../cmd/gemm_kernel_generator

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"github.com/gomlx/compute/internal/gobackend/tile"
)

const (
	gemmMR = 6   // Micro-kernel rows (lhs cross).
	gemmNR = 64  // Micro-kernel columns (rhs cross): 4 ZMM vectors.
	gemmKC = 256 // Contracting block: a 6xKC lhs micro-panel is 6 KiB (L1).
	gemmNC = 512 // Rhs columns packed at once (multiple of gemmNR): KCxNC = 512 KiB (L2).

	// gemmMinFlops: below this (M*N*K) the existing small-matrix kernels are used for the layouts
	// they support: packing does not pay for itself.
	gemmMinFlops = 64 * 64 * 64
)

// gemmF32Kernel6x64AVX512 is implemented in avx512_gemm_f32_amd64.s.
//
//go:noescape
func gemmF32Kernel6x64AVX512(kc int, a *float32, aRowStride, aKStride int, b, c *float32, ldc int, accumulate bool)

// gemmStrides describes where element (row, col) of one batch item of an operand lives:
// flat[batch*batchStride + row*rowStride + col*colStride].
type gemmStrides struct {
	batch, row, col int
}

// gemmStridesForLayout returns the strides of lhs viewed as [M, K] and of rhs viewed as [K, N].
func gemmStridesForLayout(layout dot.Layout, m, n, k int) (lhs, rhs gemmStrides) {
	switch layout {
	case dot.LayoutNonTransposed: // lhs [B, M, K], rhs [B, K, N]
		return gemmStrides{m * k, k, 1}, gemmStrides{k * n, n, 1}
	case dot.LayoutTransposed: // lhs [B, M, K], rhs [B, N, K]
		return gemmStrides{m * k, k, 1}, gemmStrides{k * n, 1, k}
	case dot.LayoutTransposedLHS: // lhs [B, K, M], rhs [B, K, N]
		return gemmStrides{m * k, 1, m}, gemmStrides{k * n, n, 1}
	case dot.LayoutTransposedLHSAndRHS: // lhs [B, K, M], rhs [B, N, K]
		return gemmStrides{m * k, 1, m}, gemmStrides{k * n, 1, k}
	}
	panic("gemm: unsupported layout " + layout.String())
}

// gemmBuffers are one worker's packing buffers.
type gemmBuffers struct {
	lhs  []float32 // [gemmKC][gemmMR]: a last lhs block of fewer than gemmMR rows, zero-padded.
	rhs  []float32 // [gemmNC/gemmNR][gemmKC][gemmNR]
	tile []float32 // [gemmMR][gemmNR]: output of partial edge tiles.
}

var gemmBuffersPool = sync.Pool{New: func() any {
	return &gemmBuffers{
		lhs:  make([]float32, gemmMR*gemmKC),
		rhs:  make([]float32, gemmNC*gemmKC+16),
		tile: make([]float32, gemmMR*gemmNR),
	}
}}

// gemmTask is one block of the output: rows [rowStart, rowEnd) and columns [colStart, colEnd) of
// batch items [batchStart, batchEnd).
type gemmTask struct {
	batchStart, batchEnd, rowStart, rowEnd, colStart, colEnd int
}

// avx512GemmFloat32 is a DotGeneralExecFn for float32 in every layout: output [B, M, N].
func avx512GemmFloat32(backend *gobackend.Backend, layout dot.Layout, lhs, rhs []float32,
	batchSize, m, n, k int, output []float32) {
	if (layout == dot.LayoutNonTransposed || layout == dot.LayoutTransposed) && m*n*k < gemmMinFlops {
		avx512RouterFloat32(backend, layout, lhs, rhs, batchSize, m, n, k, output)
		return
	}
	gemmFloat32(backend, layout, lhs, rhs, batchSize, m, n, k, output)
}

// gemmFloat32 runs the packed GEMM (any size), split over the backend's workers.
func gemmFloat32(backend *gobackend.Backend, layout dot.Layout, lhs, rhs []float32,
	batchSize, m, n, k int, output []float32) {
	lhsStrides, rhsStrides := gemmStridesForLayout(layout, m, n, k)
	if k == 0 {
		clear(output[:batchSize*m*n])
		return
	}
	workers := 1
	if backend != nil {
		workers = backend.Workers.AdjustedMaxParallelism()
	}
	tasks := gemmSplit(batchSize, m, n, k, workers)
	if len(tasks) == 1 || workers <= 1 {
		bufs := gemmBuffersPool.Get().(*gemmBuffers)
		for _, t := range tasks {
			gemmRunTask(t, lhs, rhs, output, lhsStrides, rhsStrides, m, n, k, bufs)
		}
		gemmBuffersPool.Put(bufs)
		return
	}
	var next atomic.Int32
	backend.Workers.Saturate(func() {
		bufs := gemmBuffersPool.Get().(*gemmBuffers)
		defer gemmBuffersPool.Put(bufs)
		for {
			i := int(next.Add(1)) - 1
			if i >= len(tasks) {
				return
			}
			gemmRunTask(tasks[i], lhs, rhs, output, lhsStrides, rhsStrides, m, n, k, bufs)
		}
	})
}

// gemmSplit cuts the work into a few tasks per worker (workers pull them, so a slow core gets
// fewer): whole batch items when there are enough of them, otherwise a grid of row x column
// blocks of each item, chosen by what the split costs on top of one task doing everything:
//   - each row block packs the rhs columns it uses again: (rowBlocks-1) x K x N more packing;
//   - the lhs is read in place once per gemmNC columns of a task: column blocks narrower than
//     gemmNC stream it (M x K) more often than one task would, ceil(N/gemmNC) times.
//
// The weight gradient xᵀ·dy (M=384, N=1536, K=2048) split into 6 row blocks packed its 12 MiB
// rhs 6 times (a fifth of its CPU time on 2 workers); split into 6 column blocks it packs it once.
func gemmSplit(batchSize, m, n, k, workers int) []gemmTask {
	const minTaskFlops = 1 << 21 // ~20µs of work: less than that is not worth a task.
	totalFlops := batchSize * m * n * k
	want := min(3*workers, max(1, totalFlops/minTaskFlops))
	if workers <= 1 || want <= 1 {
		return []gemmTask{{0, batchSize, 0, m, 0, n}}
	}
	if batchSize >= want {
		tasks := make([]gemmTask, 0, want)
		step := (batchSize + want - 1) / want
		for b := 0; b < batchSize; b += step {
			tasks = append(tasks, gemmTask{b, min(b+step, batchSize), 0, m, 0, n})
		}
		return tasks
	}
	perItem := (want + batchSize - 1) / batchSize
	maxRowBlocks, maxColBlocks := (m+gemmMR-1)/gemmMR, (n+gemmNR-1)/gemmNR
	lhsPasses := (n + gemmNC - 1) / gemmNC // Times one task reads the lhs.
	rowBlocks, colBlocks, bestCost := 1, 1, -1
	for r := 1; r <= min(perItem, maxRowBlocks); r++ {
		c := min((perItem+r-1)/r, maxColBlocks)
		if r*c < perItem && r < min(perItem, maxRowBlocks) {
			continue // Too few tasks: a larger r will do.
		}
		cost := (r-1)*n + max(0, c-lhsPasses)*m // In units of K elements.
		if bestCost < 0 || cost < bestCost {
			rowBlocks, colBlocks, bestCost = r, c, cost
		}
	}
	rowStep := roundUp((m+rowBlocks-1)/rowBlocks, gemmMR)
	colStep := roundUp((n+colBlocks-1)/colBlocks, gemmNR)
	tasks := make([]gemmTask, 0, batchSize*rowBlocks*colBlocks)
	for b := range batchSize {
		for r := 0; r < m; r += rowStep {
			for c := 0; c < n; c += colStep {
				tasks = append(tasks, gemmTask{b, b + 1, r, min(r+rowStep, m), c, min(c+colStep, n)})
			}
		}
	}
	return tasks
}

func roundUp(x, multiple int) int { return (x + multiple - 1) / multiple * multiple }

// gemmRunTask computes one output block with the loop nest described at the top of the file.
func gemmRunTask(t gemmTask, lhs, rhs, output []float32, ls, rs gemmStrides, m, n, k int, bufs *gemmBuffers) {
	for b := t.batchStart; b < t.batchEnd; b++ {
		lhsB := lhs[b*ls.batch : (b+1)*ls.batch]
		rhsB := rhs[b*rs.batch : (b+1)*rs.batch]
		outB := output[b*m*n : (b+1)*m*n]
		for jc := t.colStart; jc < t.colEnd; jc += gemmNC {
			nc := min(gemmNC, t.colEnd-jc)
			for pc := 0; pc < k; pc += gemmKC {
				kc := min(gemmKC, k-pc)
				gemmPackRHS(bufs.rhs, rhsB, rs, pc, kc, jc, nc)
				for ir := t.rowStart; ir < t.rowEnd; ir += gemmMR {
					rows := min(gemmMR, t.rowEnd-ir)
					a, aRowStride, aKStride := &lhsB[ir*ls.row+pc*ls.col], ls.row, ls.col
					if rows < gemmMR {
						gemmPackLHSEdge(bufs.lhs, lhsB, ls, ir, rows, pc, kc)
						a, aRowStride, aKStride = &bufs.lhs[0], 1, gemmMR
					} else {
						_ = lhsB[(ir+gemmMR-1)*ls.row+(pc+kc-1)*ls.col] // Last element the kernel reads.
					}
					gemmRowPanel(bufs, a, aRowStride, aKStride, outB[ir*n:], rows, n, jc, nc, kc, pc > 0)
				}
			}
		}
	}
}

// gemmRowPanel runs the micro-kernel along one panel of (up to) 6 output rows:
// out[0:rows, jc:jc+nc] (+)= a(0:rows, 0:kc) x packedRHS; out rows are n floats apart.
func gemmRowPanel(bufs *gemmBuffers, a *float32, aRowStride, aKStride int, out []float32,
	rows, n, jc, nc, kc int, accumulate bool) {
	for jr := 0; jr < nc; jr += gemmNR {
		cols := min(gemmNR, nc-jr)
		b := &bufs.rhs[jr*kc]
		outIdx := jc + jr
		if rows == gemmMR && cols == gemmNR {
			_ = out[outIdx+(gemmMR-1)*n+gemmNR-1] // Last element the kernel writes.
			gemmF32Kernel6x64AVX512(kc, a, aRowStride, aKStride, b, &out[outIdx], n, accumulate)
			continue
		}
		// Edge tile: compute the full 6x64 tile aside, then add/copy the valid part.
		gemmF32Kernel6x64AVX512(kc, a, aRowStride, aKStride, b, &bufs.tile[0], gemmNR, false)
		for r := range rows {
			dst := out[outIdx+r*n : outIdx+r*n+cols]
			src := bufs.tile[r*gemmNR : r*gemmNR+cols]
			if accumulate {
				for i, v := range src {
					dst[i] += v
				}
			} else {
				copy(dst, src)
			}
		}
	}
}

// gemmPackLHSEdge copies the last rows (< gemmMR) of the lhs block, lhs[ir:ir+rows, pc:pc+kc]
// (lhs viewed as [M, K] through its strides), into dst[kk][r], zero-padded to gemmMR rows.
func gemmPackLHSEdge(dst, lhs []float32, s gemmStrides, ir, rows, pc, kc int) {
	dst = dst[:kc*gemmMR]
	clear(dst)
	for r := range rows {
		for kk := range kc {
			dst[kk*gemmMR+r] = lhs[(ir+r)*s.row+(pc+kk)*s.col]
		}
	}
}

// gemmPackRHS packs rhs[pc:pc+kc, jc:jc+nc] (rhs viewed as [K, N] through its strides) into
// micro-panels of gemmNR columns: dst[panel][kk][c] = rhs[pc+kk, jc+panel*gemmNR+c]; columns
// past nc are zero.
func gemmPackRHS(dst, rhs []float32, s gemmStrides, pc, kc, jc, nc int) {
	_ = rhs[(pc+kc-1)*s.row+(jc+nc-1)*s.col] // Bounds of everything read below.
	base := unsafe.Pointer(unsafe.SliceData(rhs))
	for p := 0; p < nc; p += gemmNR {
		cols := min(gemmNR, nc-p)
		panel := dst[p*kc : p*kc+kc*gemmNR]
		if cols < gemmNR {
			clear(panel)
		}
		if s.col == 1 {
			// rhs is [K, N]: each kk is a contiguous run of columns.
			for kk := range kc {
				src := rhs[(pc+kk)*s.row+jc+p:]
				copy(panel[kk*gemmNR:kk*gemmNR+cols], src[:cols])
			}
			continue
		}
		// rhs is [N, K]: transpose 16x16 blocks (16 rows contiguous in kk -> 16 kk rows of the
		// panel); the ragged edges element by element.
		for k0 := 0; k0 < kc; k0 += 16 {
			kLen := min(16, kc-k0)
			for c0 := 0; c0 < cols; c0 += 16 {
				cLen := min(16, cols-c0)
				srcIdx := (jc+p+c0)*s.col + (pc+k0)*s.row
				if kLen == 16 && cLen == 16 {
					tile.Transpose16x16Float32(rhs[srcIdx:], s.col, panel[k0*gemmNR+c0:], gemmNR)
					continue
				}
				for c := range cLen {
					colPtr := unsafe.Add(base, 4*(srcIdx+c*s.col))
					for kk := range kLen {
						panel[(k0+kk)*gemmNR+c0+c] = *(*float32)(unsafe.Add(colPtr, 4*kk*s.row))
					}
				}
			}
		}
	}
}

// registerAVX512Gemm registers the 6x64 GEMM for float32 in every layout: it takes over from
// avx512RouterFloat32 (which it calls for small products) and adds the layouts with a transposed
// lhs, which otherwise need a transposed copy first.
func registerAVX512Gemm(forTests bool) {
	for _, layout := range []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed,
		dot.LayoutTransposedLHS, dot.LayoutTransposedLHSAndRHS} {
		dot.RegisterImplementation("simd:avx512-gemm6x64", layout, dtypes.Float32, dtypes.Float32,
			avx512GemmFloat32, PriorityAVX512+1, forTests)
	}
}
