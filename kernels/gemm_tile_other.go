//go:build goexperiment.simd && !wasm

package kernels

import "simd"

// gemmMR is the rows of C per register tile: 6, the AVX2 tile (see gemm_simd.go).
const gemmMR = 6

// tile4, spreadRows4 and spreadCols4 are wasm's tile on A spread (gemm_tile_wasm.go), which
// gemmTiles calls only where gemmMR is 4: never here.
func tile4(spread []float32, pb []float32, kc int, c []float32, ldc int, accumulate bool, panels, pstride int) {
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
func sparseBlockWasm(c []float32, ldc int, s *sparseA, m int, b Matrix, j0, blocks int) {
	panic("kernels: no wasm sparse block on this architecture")
}

// packRows is packB's panel of columns [j0, j0+nr) for a B stored by rows: two vector moves a
// row, two rows an iteration (wasm's is gemm_tile_wasm.go's).
func packRows(panel []float32, b Matrix, j0, k, nr int) {
	l := nr / 2
	kk := 0
	for ; kk+2 <= k; kk += 2 {
		r0 := b.Data[b.Offset+kk*b.RowStride+j0:][:nr]
		r1 := b.Data[b.Offset+(kk+1)*b.RowStride+j0:][:nr]
		p := panel[kk*nr : kk*nr+2*nr]
		simd.LoadFloat32s(r0).Store(p)
		simd.LoadFloat32s(r0[l:]).Store(p[l:])
		simd.LoadFloat32s(r1).Store(p[nr:])
		simd.LoadFloat32s(r1[l:]).Store(p[nr+l:])
	}
	if kk < k {
		r := b.Data[b.Offset+kk*b.RowStride+j0:][:nr]
		simd.LoadFloat32s(r).Store(panel[kk*nr:])
		simd.LoadFloat32s(r[l:]).Store(panel[kk*nr+l:])
	}
}

// packColumn writes col down a panel nr columns wide: dst[kk*nr] = col[kk] (wasm's is
// gemm_tile_wasm.go's).
func packColumn(dst, col []float32, nr int) {
	for kk, v := range col {
		dst[kk*nr] = v
	}
}
