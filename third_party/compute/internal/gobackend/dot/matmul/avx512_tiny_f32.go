// golem: tiny float32 products on one goroutine (see third_party/compute/GOLEM_PATCH.md).

//go:build amd64 && goexperiment.simd

package matmul

import (
	"simd/archsimd"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"github.com/gomlx/compute/support/envutil"
)

// tinyMaxMulAdds is the largest product (batch·M·N·K multiply-adds) avx512TinyFloat32 computes
// on the calling goroutine alone: about 10 µs on one core. Below it, handing work to other
// goroutines costs more than it saves, and the products of a decode step of a small model (one
// row per sequence, batched attention over a few heads) are all below it.
const tinyMaxMulAdds = 1 << 17

// gemvMaxRows is the most lhs rows for which a larger product is still computed here, as
// matrix-vector products that read the rhs once, in place (a decode step of a large model:
// M = the batch of sequences, the rhs a weight matrix of tens of MB). The packed GEMM would copy
// the whole weight matrix for each product.
const gemvMaxRows = 8

// gemvColumns is how many output columns one task of a large matrix-vector product computes.
const gemvColumns = 256

// avx512TinyFloat32 is a DotGeneralExecFn for float32 in the two plain layouts: small products
// on the calling goroutine, vectorised over the output columns (lhs [B, M, K] · rhs [B, K, N])
// or over K (rhs [B, N, K]), and products of at most gemvMaxRows rows over column blocks pulled
// by the backend's workers. Everything else goes to avx512GemmFloat32 as before.
//
// Why: avx512RouterFloat32 sends a batched product to the worker pool whatever its size, and a
// product with N <= 16 to a scalar loop; a decode step of a 4-layer model has 16 such products
// of 16-2048 multiply-adds, each costing 5-25 µs of goroutine hand-off. And a 1-row product with
// a large weight matrix went to the packed GEMM, which copies the matrix first.
func avx512TinyFloat32(backend *gobackend.Backend, layout dot.Layout, lhs, rhs []float32,
	batchSize, m, n, k int, output []float32) {
	plain := layout == dot.LayoutNonTransposed || layout == dot.LayoutTransposed
	small := batchSize*m*n*k <= tinyMaxMulAdds
	gemv := batchSize == 1 && m <= gemvMaxRows && n >= 64
	if !plain || !(small || gemv) {
		avx512GemmFloat32(backend, layout, lhs, rhs, batchSize, m, n, k, output)
		return
	}
	if small || backend == nil || backend.Workers.AdjustedMaxParallelism() <= 1 {
		for b := range batchSize {
			tinyRun(layout, lhs[b*m*k:(b+1)*m*k], rhs[b*k*n:(b+1)*k*n], output[b*m*n:(b+1)*m*n], m, n, k, 0, n)
		}
		return
	}
	var next atomic.Int32
	backend.Workers.Saturate(func() {
		for {
			c0 := int(next.Add(gemvColumns)) - gemvColumns
			if c0 >= n {
				return
			}
			tinyRun(layout, lhs, rhs, output, m, n, k, c0, min(c0+gemvColumns, n))
		}
	})
}

// tinyRun computes output columns [c0, c1) of one product.
func tinyRun(layout dot.Layout, l, r, o []float32, m, n, k, c0, c1 int) {
	if layout == dot.LayoutNonTransposed {
		tinyNN(l, r, o, m, n, k, c0, c1)
	} else {
		tinyNT(l, r, o, m, n, k, c0, c1)
	}
}

// tinyNN is columns [c0, c1) of o [m, n] = l [m, k] · r [k, n]: each output row accumulates k
// scaled rows of r, four rows at a time over 32 columns (each rhs load serves four rows), then
// row by row over 64 columns, then 16, then one by one.
func tinyNN(l, r, o []float32, m, n, k, c0, c1 int) {
	i := 0
	for ; i+4 <= m && c1-c0 >= 32; i += 4 {
		l0, l1, l2, l3 := l[i*k:(i+1)*k], l[(i+1)*k:(i+2)*k], l[(i+2)*k:(i+3)*k], l[(i+3)*k:(i+4)*k]
		c := c0
		for ; c+32 <= c1; c += 32 {
			var a00, a01, a10, a11, a20, a21, a30, a31 archsimd.Float32x16
			for kk := range k {
				row := r[kk*n+c : kk*n+c+32]
				r0 := archsimd.LoadFloat32x16((*[16]float32)(row[0:16]))
				r1 := archsimd.LoadFloat32x16((*[16]float32)(row[16:32]))
				b0, b1 := archsimd.BroadcastFloat32x16(l0[kk]), archsimd.BroadcastFloat32x16(l1[kk])
				a00, a01 = b0.MulAdd(r0, a00), b0.MulAdd(r1, a01)
				a10, a11 = b1.MulAdd(r0, a10), b1.MulAdd(r1, a11)
				b2, b3 := archsimd.BroadcastFloat32x16(l2[kk]), archsimd.BroadcastFloat32x16(l3[kk])
				a20, a21 = b2.MulAdd(r0, a20), b2.MulAdd(r1, a21)
				a30, a31 = b3.MulAdd(r0, a30), b3.MulAdd(r1, a31)
			}
			for j, a := range [8]archsimd.Float32x16{a00, a01, a10, a11, a20, a21, a30, a31} {
				off := (i+j/2)*n + c + 16*(j%2)
				a.Store((*[16]float32)(o[off : off+16]))
			}
		}
		for j := range 4 { // the columns left over: row by row
			tinyNNRow(l[(i+j)*k:(i+j+1)*k], r, o[(i+j)*n:(i+j+1)*n], n, c, c1)
		}
	}
	for ; i < m; i++ {
		tinyNNRow(l[i*k:(i+1)*k], r, o[i*n:(i+1)*n], n, c0, c1)
	}
}

// tinyNNRow is columns [c0, c1) of one output row oi [n] = li [k] · r [k, n].
func tinyNNRow(li, r, oi []float32, n, c0, c1 int) {
	c := c0
	for ; c+64 <= c1; c += 64 {
		var a0, a1, a2, a3 archsimd.Float32x16
		for kk, x := range li {
			bx := archsimd.BroadcastFloat32x16(x)
			row := r[kk*n+c : kk*n+c+64]
			a0 = bx.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(row[0:16])), a0)
			a1 = bx.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(row[16:32])), a1)
			a2 = bx.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(row[32:48])), a2)
			a3 = bx.MulAdd(archsimd.LoadFloat32x16((*[16]float32)(row[48:64])), a3)
		}
		a0.Store((*[16]float32)(oi[c : c+16]))
		a1.Store((*[16]float32)(oi[c+16 : c+32]))
		a2.Store((*[16]float32)(oi[c+32 : c+48]))
		a3.Store((*[16]float32)(oi[c+48 : c+64]))
	}
	for ; c+16 <= c1; c += 16 {
		// Four partial sums over k: one accumulator would wait on each FMA's latency (the
		// attention output, probabilities [1, S] · values [S, 16], has k = S in the hundreds).
		var a0, a1, a2, a3 archsimd.Float32x16
		kk := 0
		for ; kk+4 <= len(li); kk += 4 {
			a0 = archsimd.BroadcastFloat32x16(li[kk]).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(r[kk*n+c:kk*n+c+16])), a0)
			a1 = archsimd.BroadcastFloat32x16(li[kk+1]).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(r[(kk+1)*n+c:(kk+1)*n+c+16])), a1)
			a2 = archsimd.BroadcastFloat32x16(li[kk+2]).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(r[(kk+2)*n+c:(kk+2)*n+c+16])), a2)
			a3 = archsimd.BroadcastFloat32x16(li[kk+3]).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(r[(kk+3)*n+c:(kk+3)*n+c+16])), a3)
		}
		for ; kk < len(li); kk++ {
			a0 = archsimd.BroadcastFloat32x16(li[kk]).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(r[kk*n+c:kk*n+c+16])), a0)
		}
		a0.Add(a1).Add(a2.Add(a3)).Store((*[16]float32)(oi[c : c+16]))
	}
	if c < c1 {
		// The last 1-15 columns (an MLP width of 172 leaves 12): masked loads and a masked store,
		// where a scalar loop over k per column took 4x the rest of the row.
		mask := archsimd.Mask32x16FromBits(uint16(1)<<(c1-c) - 1)
		var a0, a1 archsimd.Float32x16
		kk := 0
		for ; kk+2 <= len(li); kk += 2 {
			a0 = archsimd.BroadcastFloat32x16(li[kk]).MulAdd(archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Pointer(&r[kk*n+c])), mask), a0)
			a1 = archsimd.BroadcastFloat32x16(li[kk+1]).MulAdd(archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Pointer(&r[(kk+1)*n+c])), mask), a1)
		}
		if kk < len(li) {
			a0 = archsimd.BroadcastFloat32x16(li[kk]).MulAdd(archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Pointer(&r[kk*n+c])), mask), a0)
		}
		a0.Add(a1).StoreMasked((*[16]float32)(unsafe.Pointer(&oi[c])), mask)
	}
}

// tinyNT is columns [j0, j1) of o [m, n] = l [m, k] · r [n, k]ᵀ: a dot product of two
// contiguous rows per output, vectorised over k. Eight outputs at a time: eight independent
// accumulators (no FMA waits on the one before), then one transposing reduction of the eight
// vectors into the eight sums (permAdd), stored together; a horizontal sum per output cost more
// than its k = 64 multiply-adds (the tied head of a small model, [1, 64] · [512, 64]ᵀ). Rows go
// two at a time (tinyNT2), the last one alone (tinyNT1).
func tinyNT(l, r, o []float32, m, n, k, j0, j1 int) {
	i := 0
	for ; i+2 <= m; i += 2 {
		tinyNT2(l[i*k:(i+2)*k], r, o[i*n:(i+2)*n], n, k, j0, j1)
	}
	for ; i < m; i++ {
		tinyNT1(l[i*k:(i+1)*k], r, o[i*n:(i+1)*n], k, j0, j1)
	}
}

// tinyNT2 is columns [j0, j1) of two rows, o [2, n] = l [2, k] · r [n, k]ᵀ, in blocks of 2x4
// outputs: each k step loads two lhs and four rhs vectors for eight multiply-adds (one row at a
// time, every rhs load served one: the batch-8 head of a small model ran at a quarter of the
// speed of a plain product). Eight accumulators and six operands fit the sixteen vector
// registers the compiler allocates; a 4x4 block spilled.
func tinyNT2(l, r, o []float32, n, k, j0, j1 int) {
	if k == 0 {
		clear(o[j0:j1])
		clear(o[n+j0 : n+j1])
		return
	}
	k16 := k &^ 15
	var tail archsimd.Mask32x16
	if k > k16 {
		tail = archsimd.Mask32x16FromBits(uint16(1)<<(k-k16) - 1)
	}
	full := archsimd.Mask32x16FromBits(0xffff)
	lp, rowBytes := unsafe.Pointer(&l[0]), k*4
	_ = l[2*k-1]
	j := j0
	for ; j+4 <= j1; j += 4 {
		_ = r[(j+4)*k-1]
		rp := unsafe.Pointer(&r[j*k])
		var c00, c01, c02, c03, c10, c11, c12, c13 archsimd.Float32x16
		for kk := 0; kk < k; kk += 16 {
			mask := full // masked loads cost the same as plain ones; the k tail needs the mask
			if kk == k16 {
				mask = tail
			}
			// Rows of l and of r at column kk: 16 floats from base + kk·4 + row·k·4 bytes.
			lk, rk := unsafe.Add(lp, kk*4), unsafe.Add(rp, kk*4)
			a0 := archsimd.LoadMaskedFloat32x16((*[16]float32)(lk), mask)
			a1 := archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(lk, rowBytes)), mask)
			b0 := archsimd.LoadMaskedFloat32x16((*[16]float32)(rk), mask)
			b1 := archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(rk, rowBytes)), mask)
			b2 := archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(rk, 2*rowBytes)), mask)
			b3 := archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(rk, 3*rowBytes)), mask)
			c00, c01, c02, c03 = a0.MulAdd(b0, c00), a0.MulAdd(b1, c01), a0.MulAdd(b2, c02), a0.MulAdd(b3, c03)
			c10, c11, c12, c13 = a1.MulAdd(b0, c10), a1.MulAdd(b1, c11), a1.MulAdd(b2, c12), a1.MulAdd(b3, c13)
		}
		// The eight horizontal sums (permAdd levels 0-2, then level 3 of the result with
		// itself): lanes 0-3 row 0, lanes 4-7 row 1.
		v0, v1, v2, v3 := permAdd(c00, c01, 0), permAdd(c02, c03, 0), permAdd(c10, c11, 0), permAdd(c12, c13, 0)
		w := permAdd(permAdd(v0, v1, 1), permAdd(v2, v3, 1), 2)
		sums := permAdd(w, w, 3)
		_ = o[n+j+3]
		sums.StoreMasked((*[16]float32)(unsafe.Pointer(&o[j])), archsimd.Mask32x16FromBits(0xf))
		sums.StoreMasked((*[16]float32)(unsafe.Pointer(&o[n+j-4])), archsimd.Mask32x16FromBits(0xf0))
	}
	if j < j1 { // the last 1-3 columns
		tinyNT1(l[:k], r, o[:n], k, j, j1)
		tinyNT1(l[k:2*k], r, o[n:2*n], k, j, j1)
	}
}

// tinyNT1 is columns [j0, j1) of one row, o [n] = l [k] · r [n, k]ᵀ, eight columns at a time
// (eight accumulators, nine loads per eight multiply-adds), then column by column.
func tinyNT1(li, r, o []float32, k, j0, j1 int) {
	k16 := k &^ 15
	j := j0
	if k > 0 {
		var tail archsimd.Mask32x16
		if k > k16 {
			tail = archsimd.Mask32x16FromBits(uint16(1)<<(k-k16) - 1)
		}
		full := archsimd.Mask32x16FromBits(0xffff)
		lp, rowBytes := unsafe.Pointer(&li[0]), k*4
		for ; j+8 <= j1; j += 8 {
			_ = r[(j+8)*k-1]
			rp := unsafe.Pointer(&r[j*k])
			var c0, c1, c2, c3, c4, c5, c6, c7 archsimd.Float32x16
			for kk := 0; kk < k; kk += 16 {
				mask := full // masked loads cost the same as plain ones; the k tail needs the mask
				if kk == k16 {
					mask = tail
				}
				a := archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(lp, kk*4)), mask)
				rk := unsafe.Add(rp, kk*4)
				ld := func(row int) archsimd.Float32x16 {
					return archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(rk, row*rowBytes)), mask)
				}
				c0, c1, c2, c3 = a.MulAdd(ld(0), c0), a.MulAdd(ld(1), c1), a.MulAdd(ld(2), c2), a.MulAdd(ld(3), c3)
				c4, c5, c6, c7 = a.MulAdd(ld(4), c4), a.MulAdd(ld(5), c5), a.MulAdd(ld(6), c6), a.MulAdd(ld(7), c7)
			}
			w := permAdd(permAdd(permAdd(c0, c1, 0), permAdd(c2, c3, 0), 1), permAdd(permAdd(c4, c5, 0), permAdd(c6, c7, 0), 1), 2)
			_ = o[j+7]
			permAdd(w, w, 3).StoreMasked((*[16]float32)(unsafe.Pointer(&o[j])), archsimd.Mask32x16FromBits(0xff))
		}
	}
	for ; j < j1; j++ {
		rj := r[j*k : (j+1)*k]
		var s float32
		if k16 > 0 {
			var a archsimd.Float32x16
			for kk := 0; kk < k16; kk += 16 {
				a = archsimd.LoadFloat32x16((*[16]float32)(li[kk:kk+16])).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(rj[kk:kk+16])), a)
			}
			s = avx512ReduceSumFloat32x16(a)
		}
		for kk := k16; kk < k; kk++ {
			s += li[kk] * rj[kk]
		}
		o[j] = s
	}
}

// sumPerms[level] are the two permutations of one level of a transposing reduction: lanes [lo]
// and [hi] of the concatenation of two vectors, whose sum halves the partial sums per output and
// puts twice as many outputs in one vector. From 16 vectors of 16 partial sums of one output
// each, levels 0-3 give 8 vectors of 2 outputs × 8 partials, 4 of 4 × 4, 2 of 8 × 2, and 1 of
// the 16 sums in order.
var sumPerms = func() (p [4][2]archsimd.Uint32x16) {
	for level, w := range []int{8, 4, 2, 1} { // partial sums per output after the level
		var lo, hi [16]uint32
		for lane := range 16 {
			// Output lane `lane` is partial `off` of group g, the sum of source lanes
			// g·2w + off and g·2w + w + off (lanes 0-15 of x, 16-31 of y).
			g, off := lane/w, lane%w
			lo[lane] = uint32(g*2*w + off)
			hi[lane] = uint32(g*2*w + w + off)
		}
		p[level][0], p[level][1] = archsimd.LoadUint32x16(&lo), archsimd.LoadUint32x16(&hi)
	}
	return p
}()

// permAdd is one level of the transposing reduction (see sumPerms) for the pair x, y.
func permAdd(x, y archsimd.Float32x16, level int) archsimd.Float32x16 {
	return x.ConcatPermute(y, sumPerms[level][0]).Add(x.ConcatPermute(y, sumPerms[level][1]))
}

// Registered above the 6x64 GEMM (PriorityAVX512+1), which it calls for everything else.
func init() {
	if !envutil.MustReadBool(EnabledEnv, true) || !envutil.MustReadBool(envutil.SIMD_AVX512_Env, true) || !archsimd.X86.AVX512() {
		return
	}
	for _, layout := range []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed} {
		dot.RegisterImplementation("simd:avx512-tiny", layout, dtypes.Float32, dtypes.Float32,
			avx512TinyFloat32, PriorityAVX512+2, false)
	}
}
