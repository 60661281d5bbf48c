//go:build !goexperiment.simd

package train

// simdBuild is false: built without GOEXPERIMENT=simd, the Go backend's matmuls run the
// portable kernels, about 20x slower. NewBackend prints noSIMDWarning when it picks Go.
const simdBuild = false
