//go:build amd64 && goexperiment.simd

package matmul

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"simd/archsimd"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
)

// The tiny kernels against a float64 reference, both plain layouts, odd shapes (column and K
// tails, batches), all under tinyMaxMulAdds.
func TestTinyFloat32(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	backendAny, err := gobackend.New("") // its workers split the matrix-vector products
	if err != nil {
		t.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	for _, layout := range []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed} {
		for _, s := range [][4]int{{1, 1, 1, 1}, {1, 1, 172, 64}, {4, 1, 128, 16}, {4, 1, 16, 128}, {3, 2, 65, 7},
			{2, 3, 17, 33}, {1, 8, 200, 64}, {5, 1, 1, 16}, {1, 4, 64, 0}, {2, 5, 63, 31},
			{1, 1, 1000, 300}, {1, 5, 700, 200}, {1, 8, 333, 129}, {1, 4, 96, 50}} { // the last four: matrix-vector products
			B, m, n, k := s[0], s[1], s[2], s[3]
			lhs, rhs := make([]float32, B*m*k), make([]float32, B*n*k)
			for i := range lhs {
				lhs[i] = rng.Float32()*2 - 1
			}
			for i := range rhs {
				rhs[i] = rng.Float32()*2 - 1
			}
			out := make([]float32, B*m*n)
			for i := range out {
				out[i] = float32(math.NaN()) // every element must be written
			}
			avx512TinyFloat32(backend, layout, lhs, rhs, B, m, n, k, out)
			for b := range B {
				for i := range m {
					for j := range n {
						var want float64
						for kk := range k {
							r := rhs[b*k*n+kk*n+j] // [K, N]
							if layout == dot.LayoutTransposed {
								r = rhs[b*k*n+j*k+kk] // [N, K]
							}
							want += float64(lhs[b*m*k+i*k+kk]) * float64(r)
						}
						if got := out[b*m*n+i*n+j]; !(math.Abs(float64(got)-want) <= 1e-5*float64(k+1)) {
							t.Fatalf("%s B=%d m=%d n=%d k=%d: out[%d,%d,%d] = %g, want %g", layout, B, m, n, k, b, i, j, got, want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkTinyFloat32DecodeShapes prints ns per product and GMAC/s for the products of a decode
// step of aidreams260K (width 64, MLP 172, vocabulary 512, 4 heads of 16, 128 cache slots):
// [layout batch m n k], layout 0 plain, 1 rhs transposed (the tied head). Weights hot in cache.
func BenchmarkTinyFloat32DecodeShapes(b *testing.B) {
	if !archsimd.X86.AVX512() {
		b.Skip("no AVX-512")
	}
	for _, s := range [][5]int{{0, 1, 1, 192, 64}, {0, 1, 1, 64, 64}, {0, 1, 1, 172, 64}, {0, 1, 1, 64, 172},
		{1, 1, 1, 512, 64}, {0, 4, 1, 128, 16}, {0, 4, 1, 16, 128}, {0, 1, 8, 192, 64}, {0, 1, 8, 172, 64}, {1, 1, 8, 512, 64}} {
		layout := dot.LayoutNonTransposed
		if s[0] == 1 {
			layout = dot.LayoutTransposed
		}
		B, m, n, k := s[1], s[2], s[3], s[4]
		lhs, rhs, out := make([]float32, B*m*k), make([]float32, B*n*k), make([]float32, B*m*n)
		b.Run(fmt.Sprint(s), func(b *testing.B) {
			for b.Loop() {
				avx512TinyFloat32(nil, layout, lhs, rhs, B, m, n, k, out)
			}
			b.ReportMetric(float64(B*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
