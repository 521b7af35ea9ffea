//go:build goexperiment.simd && !wasm

package kernels

// gemmMR is the rows of C per register tile: 6, the AVX2 tile (see gemm_simd.go).
const gemmMR = 6

// tile4, spreadRows4 and spreadCols4 are wasm's tile on A spread (gemm_tile_wasm.go), which
// gemmTiles calls only where gemmMR is 4: never here.
func tile4(spread []float32, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	panic("kernels: no 4-row tile on this architecture")
}

func spreadRows4(dst []float32, a *[gemmMR][]float32, kc int) {
	panic("kernels: no 4-row tile on this architecture")
}

func spreadCols4(dst []float32, a []float32, lda, kc int) {
	panic("kernels: no 4-row tile on this architecture")
}

// useWasmSparseAsm is false: the sparse block in assembly for wasm is gemm_sparse_wasm.go's.
const useWasmSparseAsm = false

// sparseBlockWasm is never called where useWasmSparseAsm is false.
func sparseBlockWasm(c []float32, ldc int, s *sparseA, m int, b Matrix, j0 int) {
	panic("kernels: no wasm sparse block on this architecture")
}
