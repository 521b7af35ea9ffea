//go:build goexperiment.simd

package kernels

import "unsafe"

// useWasmSparseAsm is whether sparseBlock runs sparseBlockWasmAsm (gemm_sparse_wasm.s): always in
// wasm, but for the test that compares it with the Go loop. Go 1.27.3 compiles that loop as it
// does every loop (see tile4): each term goes back through the function's resumption dispatch.
// The assembly took Winograd's sparse benchmark from 0.581 to 0.334 ms in Chromium, and to about
// a third of its time in Firefox and WebKit (BENCHMARKS.md).
var useWasmSparseAsm = true

// sparseBlockWasm computes what sparseBlock does, with the same bits, for blocks blocks side by
// side from j0 (at least one), for an A with at least one non-zero entry, after checkSparseBlock
// over all of them.
func sparseBlockWasm(c []float32, ldc int, s *sparseA, m int, b Matrix, j0, blocks int) {
	checkSparseBlock(c, ldc, s, m, b, j0, blocks*8*4)
	sparseBlockWasmAsm(unsafe.SliceData(c), ldc, unsafe.SliceData(s.terms), unsafe.SliceData(s.start), m,
		&b.Data[b.Offset+j0], b.RowStride, blocks)
}

//go:noescape
func sparseBlockWasmAsm(c *float32, ldc int, terms *sparseTerm, start *int32, m int, b *float32, ldb, blocks int)
