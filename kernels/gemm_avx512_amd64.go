//go:build goexperiment.simd

package kernels

import "unsafe"

// Go 1.27 compiles micro6x2's AVX-512 loop to about 60 instructions a step of k for its 12
// fused multiply-adds (measured with objdump): its FMA is the three-operand form whose result
// replaces a multiplicand (VFMADD213PS), so every accumulator changes register each step and the
// loop ends in a dozen register moves; with the broadcasts that also needs, three accumulators
// spill to the stack; and each broadcast of A is a scalar load plus a register broadcast. The
// tile ran at 60 GFLOP/s on one core of the reference machine, about a third of its two FMA
// units' peak. tile6x2AVX512 is the same tile written as the instructions it needs, 20 a step:
// accumulating in place (VFMADD231PS) and broadcasting A straight from memory (141 GFLOP/s).

// useAVX512Asm is whether the products run the assembly of this file's .s twins (the register
// tile, tile6x2AVX512, and the sparse block, sparseBlockAVX512): on amd64 with AVX-512, where the
// portable simd package's vectors are 16 lanes, B's panels 32 columns and a sparse block 128.
var useAVX512Asm = Lanes() == 16

// tile6x2AVX512 is in gemm_avx512_amd64.s, sparseBlockAVX512 in gemm_sparse_avx512_amd64.s.
//
//go:noescape
func tile6x2AVX512(a *float32, rs, cs int, pb *float32, kc int, c *float32, ldc int, accumulate bool)

//go:noescape
func sparseBlockAVX512(c *float32, ldc int, terms *sparseTerm, start *int32, m int, b *float32, ldb int)

// tile6x2 computes what micro6x2 does, with the same bits, for A's element (r, kk) at
// a[r*rs + kk*cs]: rs = row stride, cs = 1 for A by rows (micro6x2), rs = 1, cs = lda for A by
// columns (micro6x2T). It checks every bound the assembly relies on.
func tile6x2(a []float32, rs, cs int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	const nr = 32
	if kc < 1 || len(a) <= 5*rs+(kc-1)*cs || len(pb) < kc*nr || len(c) < 5*ldc+nr || ldc < nr {
		panic("kernels: tile6x2 out of bounds")
	}
	tile6x2AVX512(unsafe.SliceData(a), rs, cs, unsafe.SliceData(pb), kc, unsafe.SliceData(c), ldc, accumulate)
}

// sparseBlockAsm computes what sparseBlock does, with the same bits, for an A with at least one
// non-zero entry, after checkSparseBlock.
func sparseBlockAsm(c []float32, ldc int, s *sparseA, m int, b Matrix, j0 int) {
	checkSparseBlock(c, ldc, s, m, b, j0, 8*16)
	sparseBlockAVX512(unsafe.SliceData(c), ldc, unsafe.SliceData(s.terms), unsafe.SliceData(s.start), m,
		&b.Data[b.Offset+j0], b.RowStride)
}
