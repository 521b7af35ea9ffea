//go:build goexperiment.simd

package kernels

// gemmMR is the rows of C per register tile: 4 in wasm, where V8 spills 6 (see gemm_simd.go).
const gemmMR = 4
