//go:build goexperiment.simd && !wasm

package kernels

// gemmMR is the rows of C per register tile: 6, the AVX2 tile (see gemm_simd.go).
const gemmMR = 6
