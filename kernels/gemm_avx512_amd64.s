//go:build goexperiment.simd

#include "textflag.h"

// f32-gemm/6x2v-avx512: the register tile of gemm_simd.go in AVX-512 assembly, for amd64 CPUs
// with AVX-512 (16 lanes). See gemm_avx512_amd64.go for why, and for the checks that make the
// pointers below safe.
//
// func tile6x2AVX512(a *float32, rs, cs int, pb *float32, kc int, c *float32, ldc int, accumulate bool)
//
// Row r < 6 of C, c[r*ldc : r*ldc+32], gets (or, if accumulate, adds) Σ_kk a[r*rs + kk*cs] *
// pb[kk*32 : kk*32+32] over kc >= 1 steps, each a fused multiply-add in the order of kk: the
// same operations, so the same bits, as micro6x2 and micro6x2T.
//
// Registers: Z16–Z27 the 12 accumulators (row r in Z16+2r, Z17+2r), Z0 and Z1 the two vectors
// of B, Z2–Z7 the broadcasts of A. Z15 is left alone: Go's internal ABI keeps X15 zero.
TEXT ·tile6x2AVX512(SB), NOSPLIT, $0-57
	MOVQ a+0(FP), SI
	MOVQ rs+8(FP), R9
	MOVQ cs+16(FP), R11
	MOVQ pb+24(FP), BX
	MOVQ kc+32(FP), CX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), DX
	SHLQ $2, R9                // strides in bytes
	SHLQ $2, R11
	SHLQ $2, DX
	LEAQ (R9)(R9*2), R10       // 3 rows of A
	LEAQ (SI)(R10*1), R8       // A's row 3; rows 4 and 5 are R8+rs and R8+2rs
	LEAQ (DX)(DX*2), R12       // 3 rows of C
	LEAQ (DI)(R12*1), R13      // C's row 3
	MOVBLZX accumulate+56(FP), AX
	TESTB AL, AL
	JZ zero
	VMOVUPS (DI), Z16
	VMOVUPS 64(DI), Z17
	VMOVUPS (DI)(DX*1), Z18
	VMOVUPS 64(DI)(DX*1), Z19
	VMOVUPS (DI)(DX*2), Z20
	VMOVUPS 64(DI)(DX*2), Z21
	VMOVUPS (R13), Z22
	VMOVUPS 64(R13), Z23
	VMOVUPS (R13)(DX*1), Z24
	VMOVUPS 64(R13)(DX*1), Z25
	VMOVUPS (R13)(DX*2), Z26
	VMOVUPS 64(R13)(DX*2), Z27
	JMP loop

zero:
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27

loop:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	VBROADCASTSS (SI), Z2
	VFMADD231PS Z0, Z2, Z16
	VFMADD231PS Z1, Z2, Z17
	VBROADCASTSS (SI)(R9*1), Z3
	VFMADD231PS Z0, Z3, Z18
	VFMADD231PS Z1, Z3, Z19
	VBROADCASTSS (SI)(R9*2), Z4
	VFMADD231PS Z0, Z4, Z20
	VFMADD231PS Z1, Z4, Z21
	VBROADCASTSS (R8), Z5
	VFMADD231PS Z0, Z5, Z22
	VFMADD231PS Z1, Z5, Z23
	VBROADCASTSS (R8)(R9*1), Z6
	VFMADD231PS Z0, Z6, Z24
	VFMADD231PS Z1, Z6, Z25
	VBROADCASTSS (R8)(R9*2), Z7
	VFMADD231PS Z0, Z7, Z26
	VFMADD231PS Z1, Z7, Z27
	ADDQ $128, BX
	ADDQ R11, SI
	ADDQ R11, R8
	DECQ CX
	JNZ loop

	VMOVUPS Z16, (DI)
	VMOVUPS Z17, 64(DI)
	VMOVUPS Z18, (DI)(DX*1)
	VMOVUPS Z19, 64(DI)(DX*1)
	VMOVUPS Z20, (DI)(DX*2)
	VMOVUPS Z21, 64(DI)(DX*2)
	VMOVUPS Z22, (R13)
	VMOVUPS Z23, 64(R13)
	VMOVUPS Z24, (R13)(DX*1)
	VMOVUPS Z25, 64(R13)(DX*1)
	VMOVUPS Z26, (R13)(DX*2)
	VMOVUPS Z27, 64(R13)(DX*2)
	VZEROUPPER
	RET
