//go:build goexperiment.simd

#include "textflag.h"
#include "wasm_simd.h"

// sparseBlock of gemm_sparse_simd.go in WebAssembly SIMD128 (8 vectors of 4 columns a block), for
// the reasons tile4 gives (gemm_tile_wasm.go); sparseBlockWasm checks the bounds it relies on.
//
// func sparseBlockWasmAsm(c *float32, ldc int, terms *sparseTerm, start *int32, m int, b *float32, ldb, blocks int)
//
// For each block q < blocks of 32 columns, row i < m of C, c[i*ldc+32q : i*ldc+32q+32], gets
// Σ t.v * b[t.k*ldb+32q : t.k*ldb+32q+32] over row i's terms, terms[start[i]:start[i+1]], in
// their order: each element starts at +0 and gets f32x4.add of its sum and f32x4.mul of the term
// and B, in that order, as sparseBlock's MulAdd does in wasm, so the same bits. Every block in
// one call: a call of the Go wrapper per block cost about 1.3 ms of a team's 31 ms step in
// Chromium.
//
// Locals: V0–V7 the row's 8 accumulators, V8 the broadcast term; R7 the next term's address and
// R8 the row's end, R9 B's row t.k; R10 the blocks left, R11 the block's first row of C, R12
// start, R13 m, R14 the address of terms[start[0]].

// TERM adds V8 times the vector at byte off of B's row R9 to accumulator acc.
#define TERM(off, acc) \
	Get V8 \
	VLOAD(R9, off) \
	F32x4Mul \
	Get acc \
	F32x4Add \
	Set acc

TEXT ·sparseBlockWasmAsm(SB), NOSPLIT, $0-64
	MOVD c+0(FP), R11
	MOVD ldc+8(FP), R1
	MOVD terms+16(FP), R2
	MOVD start+24(FP), R12
	MOVD m+32(FP), R13
	MOVD b+40(FP), R5
	MOVD ldb+48(FP), R6
	MOVD blocks+56(FP), R10

	// Strides in bytes.
	Get R1
	I64Const $2
	I64Shl
	Set R1
	Get R6
	I64Const $2
	I64Shl
	Set R6

	// R14: the address of terms[start[0]].
	Get R12
	I32WrapI64
	I64Load32S $0
	I64Const $3
	I64Shl
	Get R2
	I64Add
	Set R14

	Loop
	// The block's rows from the first: C's, start's and the terms'.
	Get R11
	Set R0
	Get R12
	Set R3
	Get R13
	Set R4
	Get R14
	Set R7

	Loop
		// R8: the address of terms[start[i+1]], the row's end.
		Get R3
		I32WrapI64
		I64Load32S $4
		I64Const $3
		I64Shl
		Get R2
		I64Add
		Set R8

		ZERO8

		Get R7
		Get R8
		I64LtU
		If
		Loop
			// R9: B's row t.k; V8: t.v in every lane.
			Get R7
			I32WrapI64
			I64Load32S $0
			Get R6
			I64Mul
			Get R5
			I64Add
			Set R9
			Get R7
			I32WrapI64
			F32Load $4
			F32x4Splat
			Set V8
			TERM(0, V0)
			TERM(16, V1)
			TERM(32, V2)
			TERM(48, V3)
			TERM(64, V4)
			TERM(80, V5)
			TERM(96, V6)
			TERM(112, V7)
			Get R7
			I64Const $8
			I64Add
			Tee R7
			Get R8
			I64LtU
			BrIf $0
		End
		End

		STORE8(R0)

		// The next row of C and of start.
		Get R0
		Get R1
		I64Add
		Set R0
		Get R3
		I64Const $4
		I64Add
		Set R3
		AGAIN(R4)
	End

	// The next block: 32 columns on, in C and in B.
	NEXT(R11, I64Const $128)
	NEXT(R5, I64Const $128)
	AGAIN(R10)
	End
	RET
