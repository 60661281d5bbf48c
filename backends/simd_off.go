//go:build !goexperiment.simd

package backends

// simdBuild is false: built without GOEXPERIMENT=simd, the Go backend's matmuls run the
// portable kernels, about 20x slower. New prints noSIMDWarning when it picks Go.
const simdBuild = false
