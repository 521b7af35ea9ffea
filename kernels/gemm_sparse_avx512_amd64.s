//go:build goexperiment.simd

#include "textflag.h"

// sparseBlock of gemm_sparse_simd.go in AVX-512 assembly (8 vectors of 16 columns a block), for
// the reasons gemm_avx512_amd64.go gives; sparseBlock16 there checks the bounds it relies on.
//
// func sparseBlockAVX512(c *float32, ldc int, terms *sparseTerm, start *int32, m int, b *float32, ldb int)
//
// Row i < m of C, c[i*ldc : i*ldc+128], gets Σ t.v * b[t.k*ldb : t.k*ldb+128] over row i's terms,
// terms[start[i]:start[i+1]], in their order: each element starts at +0 and gets one fused
// multiply-add per term, as in sparseBlock, so the same bits.
//
// Registers: Z16–Z23 the row's 8 accumulators, Z0 the broadcast term. Z15 is left alone: Go's
// internal ABI keeps X15 zero.
TEXT ·sparseBlockAVX512(SB), NOSPLIT, $0-56
	MOVQ c+0(FP), DI
	MOVQ ldc+8(FP), DX
	MOVQ terms+16(FP), SI
	MOVQ start+24(FP), R8
	MOVQ m+32(FP), CX
	MOVQ b+40(FP), BX
	MOVQ ldb+48(FP), R9
	SHLQ $2, DX                // strides in bytes
	SHLQ $2, R9
	MOVLQSX (R8), R10          // the next term
row:
	MOVLQSX 4(R8), R11         // the row's end
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	CMPQ R10, R11
	JGE store
term:
	MOVLQSX (SI)(R10*8), AX    // t.k
	IMULQ R9, AX
	ADDQ BX, AX                // B's row t.k
	VBROADCASTSS 4(SI)(R10*8), Z0
	VFMADD231PS (AX), Z0, Z16
	VFMADD231PS 64(AX), Z0, Z17
	VFMADD231PS 128(AX), Z0, Z18
	VFMADD231PS 192(AX), Z0, Z19
	VFMADD231PS 256(AX), Z0, Z20
	VFMADD231PS 320(AX), Z0, Z21
	VFMADD231PS 384(AX), Z0, Z22
	VFMADD231PS 448(AX), Z0, Z23
	INCQ R10
	CMPQ R10, R11
	JLT term
store:
	VMOVUPS Z16, (DI)
	VMOVUPS Z17, 64(DI)
	VMOVUPS Z18, 128(DI)
	VMOVUPS Z19, 192(DI)
	VMOVUPS Z20, 256(DI)
	VMOVUPS Z21, 320(DI)
	VMOVUPS Z22, 384(DI)
	VMOVUPS Z23, 448(DI)
	ADDQ DX, DI
	ADDQ $4, R8
	DECQ CX
	JNZ row
	VZEROUPPER
	RET
