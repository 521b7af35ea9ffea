//go:build goexperiment.simd

#include "textflag.h"
#include "wasm_simd.h"

// The 4×8 register tile in WebAssembly SIMD128 (see tile4 in gemm_tile_wasm.go): rows 0–3 of C
// in V0–V7 (two vectors each), B's two vectors of a step in V8 and V9, A's value of a row in
// every lane in V10, read from A spread by spread4Asm (16 floats a step). Each product is added
// as it is made: f32x4.add(f32x4.mul(a, b), c), as micro4x2 does.
// (Go's assembler drops the offset of a V128Store: VSTORE computes its address in full, wasm_simd.h.)

// SROW adds A's spread value at byte off of R0 times B's two vectors (V8, V9) to row accumulators
// c0, c1.
#define SROW(off, c0, c1) \
	VLOAD(R0, off) \
	Tee V10 \
	Get V8 \
	F32x4Mul \
	Get c0 \
	F32x4Add \
	Set c0 \
	Get V10 \
	Get V9 \
	F32x4Mul \
	Get c1 \
	F32x4Add \
	Set c1

// SPREAD stores the value at ra in every lane of the vector at byte off of R4.
#define SPREAD(ra, off) \
	Get R4 \
	I64Const $off \
	I64Add \
	I32WrapI64 \
	Get ra \
	I32WrapI64 \
	F32Load $0 \
	F32x4Splat \
	V128Store $0

// LOADROW loads the 8 floats at rc into v0, v1; STOREROW stores v0, v1 there.
#define LOADROW(rc, v0, v1) \
	VLOAD(rc, 0) \
	Set v0 \
	VLOAD(rc, 16) \
	Set v1

#define STOREROW(rc, v0, v1) \
	VSTORE(rc, 0, v0) \
	VSTORE(rc, 16, v1)

// func micro4x2Asm(pa, pb *float32, kc int, c *float32, ldc int, accumulate bool, panels, pstride int)
TEXT ·micro4x2Asm(SB), NOSPLIT, $0-64
	MOVD pa+0(FP), R1
	MOVD pb+8(FP), R3
	MOVD kc+16(FP), R2
	MOVD c+24(FP), R6
	MOVD ldc+32(FP), R7
	MOVB accumulate+40(FP), R8
	MOVD panels+48(FP), R12
	MOVD pstride+56(FP), R13

	// R7: a row of c in bytes; R13: from one panel of B to the next, in bytes.
	Get R7
	I64Const $2
	I64Shl
	Set R7
	Get R13
	I64Const $2
	I64Shl
	Set R13

	// One tile a panel of B: c at R6 moves on 8 floats a panel, the panel at R3 pstride; A's
	// spread steps (R0) and the step count (R5) start again each time.
	Loop
		// R9, R10, R11: rows 1, 2 and 3 of the tile.
		Get R6
		Get R7
		I64Add
		Set R9
		Get R9
		Get R7
		I64Add
		Set R10
		Get R10
		Get R7
		I64Add
		Set R11

		Get R8
		I64Eqz
		If
			ZERO8
		Else
			LOADROW(R6, V0, V1)
			LOADROW(R9, V2, V3)
			LOADROW(R10, V4, V5)
			LOADROW(R11, V6, V7)
		End

		Get R1
		Set R0
		Get R3
		Set R4
		Get R2
		Tee R5
		I64Eqz
		I32Eqz
		If
		Loop
			VLOAD(R4, 0)
			Set V8
			VLOAD(R4, 16)
			Set V9
			SROW(0, V0, V1)
			SROW(16, V2, V3)
			SROW(32, V4, V5)
			SROW(48, V6, V7)
			NEXT(R0, I64Const $64)
			NEXT(R4, I64Const $32)
			AGAIN(R5)
		End
		End

		STOREROW(R6, V0, V1)
		STOREROW(R9, V2, V3)
		STOREROW(R10, V4, V5)
		STOREROW(R11, V6, V7)
		NEXT(R6, I64Const $32)
		NEXT(R3, Get R13)
		AGAIN(R12)
	End
	RET

// func spread4Asm(dst, a0, a1, a2, a3 *float32, kc, step int)
TEXT ·spread4Asm(SB), NOSPLIT, $0-56
	MOVD dst+0(FP), R4
	MOVD a0+8(FP), R0
	MOVD a1+16(FP), R1
	MOVD a2+24(FP), R2
	MOVD a3+32(FP), R3
	MOVD kc+40(FP), R5
	MOVD step+48(FP), R12

	Get R5
	I64Eqz
	I32Eqz
	If
	Loop
		SPREAD(R0, 0)
		SPREAD(R1, 16)
		SPREAD(R2, 32)
		SPREAD(R3, 48)
		NEXT(R0, Get R12)
		NEXT(R1, Get R12)
		NEXT(R2, Get R12)
		NEXT(R3, Get R12)
		NEXT(R4, I64Const $64)
		AGAIN(R5)
	End
	End
	RET

// func packRowsAsm(panel, src *float32, k, stride int)
TEXT ·packRowsAsm(SB), NOSPLIT, $0-32
	MOVD panel+0(FP), R0
	MOVD src+8(FP), R1
	MOVD k+16(FP), R2
	MOVD stride+24(FP), R3

	// R3: B's row stride in bytes.
	Get R3
	I64Const $2
	I64Shl
	Set R3

	Loop
		VCOPY(R0, R1, 0)
		VCOPY(R0, R1, 16)
		NEXT(R0, I64Const $32)
		NEXT(R1, Get R3)
		AGAIN(R2)
	End
	RET

// func packColumnAsm(dst, src *float32, k int)
TEXT ·packColumnAsm(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD k+16(FP), R2

	// Bits, not values: i32 moves (an f32 load and store could quieten a signalling NaN).
	Loop
		Get R0
		I32WrapI64
		Get R1
		I32WrapI64
		I32Load $0
		I32Store $0
		NEXT(R0, I64Const $32)
		NEXT(R1, I64Const $4)
		AGAIN(R2)
	End
	RET
