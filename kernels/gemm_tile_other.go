//go:build goexperiment.simd && !wasm

package kernels

// gemmMR is the rows of C per register tile: 6, the AVX2 tile (see gemm_simd.go).
const gemmMR = 6

// tile4 and tile4T are the 4-row tiles, which gemmTiles calls only where gemmMR is 4 (wasm, in
// assembly: gemm_tile_wasm.go); here they are the Go tiles.
func tile4(a *[gemmMR][]float32, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	micro4x2(a, pb, kc, c, ldc, accumulate)
}

func tile4T(a []float32, lda int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	micro4x2T(a, lda, pb, kc, c, ldc, accumulate)
}

// useWasmSparseAsm is false: the sparse block in assembly for wasm is gemm_sparse_wasm.go's.
const useWasmSparseAsm = false

// sparseBlockWasm is never called where useWasmSparseAsm is false.
func sparseBlockWasm(c []float32, ldc int, s *sparseA, m int, b Matrix, j0 int) {
	panic("kernels: no wasm sparse block on this architecture")
}
