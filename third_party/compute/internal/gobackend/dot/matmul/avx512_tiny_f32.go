// golem: tiny float32 products on one goroutine (see third_party/compute/GOLEM_PATCH.md).

//go:build amd64 && goexperiment.simd

package matmul

import (
	"simd/archsimd"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"github.com/gomlx/compute/support/envutil"
)

// tinyMaxMulAdds is the largest product (batch·M·N·K multiply-adds) avx512TinyFloat32 computes
// itself: about 10 µs on one core. Below it, handing work to other goroutines costs more than
// it saves, and the products of a decode step (M = 1 row per sequence, batched attention over a
// few heads) are all below it.
const tinyMaxMulAdds = 1 << 17

// avx512TinyFloat32 is a DotGeneralExecFn for float32 that computes small products in the two
// plain layouts on the calling goroutine, vectorised over the output columns (lhs [B, M, K] ·
// rhs [B, K, N]) or over K (rhs [B, N, K]); everything else goes to avx512GemmFloat32 as before.
//
// Why: avx512RouterFloat32 sends a batched product to the worker pool whatever its size, and a
// product with N <= 16 to a scalar loop; a decode step of a 4-layer model has 16 such products
// of 16-2048 multiply-adds, each costing 5-25 µs of goroutine hand-off.
func avx512TinyFloat32(backend *gobackend.Backend, layout dot.Layout, lhs, rhs []float32,
	batchSize, m, n, k int, output []float32) {
	if batchSize*m*n*k > tinyMaxMulAdds || (layout != dot.LayoutNonTransposed && layout != dot.LayoutTransposed) {
		avx512GemmFloat32(backend, layout, lhs, rhs, batchSize, m, n, k, output)
		return
	}
	for b := range batchSize {
		l, r, o := lhs[b*m*k:(b+1)*m*k], rhs[b*k*n:(b+1)*k*n], output[b*m*n:(b+1)*m*n]
		if layout == dot.LayoutNonTransposed {
			tinyNN(l, r, o, m, n, k)
		} else {
			tinyNT(l, r, o, m, n, k)
		}
	}
}

// tinyNN is o [m, n] = l [m, k] · r [k, n]: each output row accumulates k scaled rows of r,
// 64 columns (4 vectors) at a time, then 16, then one by one.
func tinyNN(l, r, o []float32, m, n, k int) {
	for i := range m {
		li, oi := l[i*k:(i+1)*k], o[i*n:(i+1)*n]
		c := 0
		for ; c+64 <= n; c += 64 {
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
		for ; c+16 <= n; c += 16 {
			var a archsimd.Float32x16
			for kk, x := range li {
				a = archsimd.BroadcastFloat32x16(x).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(r[kk*n+c:kk*n+c+16])), a)
			}
			a.Store((*[16]float32)(oi[c : c+16]))
		}
		for ; c < n; c++ {
			var s float32
			for kk, x := range li {
				s += x * r[kk*n+c]
			}
			oi[c] = s
		}
	}
}

// tinyNT is o [m, n] = l [m, k] · r [n, k]ᵀ: a dot product of two contiguous rows per output,
// vectorised over k.
func tinyNT(l, r, o []float32, m, n, k int) {
	k16 := k &^ 15
	for i := range m {
		li := l[i*k : (i+1)*k]
		for j := range n {
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
			o[i*n+j] = s
		}
	}
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
