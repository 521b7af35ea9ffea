//go:build goexperiment.simd

package kernels

import "unsafe"

// useWasmSparseAsm is whether sparseBlock runs sparseBlockWasmAsm (gemm_sparse_wasm.s): always in
// wasm, but for the test that compares it with the Go loop. Go 1.27.3 compiles that loop as it
// did micro4x2 (see tile4): the jump back through the function's resumption dispatch every term,
// and accumulators kept in linear memory.
var useWasmSparseAsm = true

// sparseBlockWasm computes what sparseBlock does, with the same bits, for an A with at least one
// non-zero entry, after checkSparseBlock.
func sparseBlockWasm(c []float32, ldc int, s *sparseA, m int, b Matrix, j0 int) {
	checkSparseBlock(c, ldc, s, m, b, j0, 8*4)
	sparseBlockWasmAsm(unsafe.SliceData(c), ldc, unsafe.SliceData(s.terms), unsafe.SliceData(s.start), m,
		&b.Data[b.Offset+j0], b.RowStride)
}

//go:noescape
func sparseBlockWasmAsm(c *float32, ldc int, terms *sparseTerm, start *int32, m int, b *float32, ldb int)
