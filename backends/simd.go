//go:build goexperiment.simd

package backends

// simdBuild says whether this binary was built with GOEXPERIMENT=simd, which compiles the Go
// backend's AVX2/AVX-512 matmul kernels (about 20x faster). simd_off.go is the other case.
const simdBuild = true
