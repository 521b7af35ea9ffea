//go:build goexperiment.simd

#include "textflag.h"
#include "wasm_simd.h"

// Sums of rows in WebAssembly SIMD128 (see reduce_wasm.go), 32 columns at a time: a block's 8
// sums in V0–V7 over every row, then stored. sumColumnsAsm's rows are a fixed stride apart
// (SumRows32), sumVectorsAsm's anywhere (SumVectors32, from a table of their addresses).

// ADDV adds the vector at byte off of the row's block at R5 to accumulator acc: f32x4.add(acc, v), as
// Go's acc.Add(v).
#define ADDV(off, acc) \
	Get acc \
	VLOAD(R5, off) \
	F32x4Add \
	Set acc

// ADD8 adds the 8 vectors of the block at R5 to V0–V7.
#define ADD8 \
	ADDV(0, V0) \
	ADDV(16, V1) \
	ADDV(32, V2) \
	ADDV(48, V3) \
	ADDV(64, V4) \
	ADDV(80, V5) \
	ADDV(96, V6) \
	ADDV(112, V7)

// func sumColumnsAsm(out, rows *float32, r, stride, blocks int)
TEXT ·sumColumnsAsm(SB), NOSPLIT, $0-40
	MOVD out+0(FP), R0
	MOVD rows+8(FP), R1
	MOVD r+16(FP), R2
	MOVD stride+24(FP), R3
	MOVD blocks+32(FP), R4

	// R3: the rows' stride in bytes.
	Get R3
	I64Const $2
	I64Shl
	Set R3

	Loop
		ZERO8
		// R5: the block's column in row j; R6: the rows left.
		Get R1
		Set R5
		Get R2
		Set R6
		Loop
			ADD8
			NEXT(R5, Get R3)
			AGAIN(R6)
		End
		STORE8(R0)
		NEXT(R0, I64Const $128)
		NEXT(R1, I64Const $128)
		AGAIN(R4)
	End
	RET

// func sumVectorsAsm(dst *float32, srcs **float32, nsrc, blocks int)
TEXT ·sumVectorsAsm(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD srcs+8(FP), R1
	MOVD nsrc+16(FP), R2
	MOVD blocks+24(FP), R4

	// R3: the block's byte offset in every vector.
	I64Const $0
	Set R3
	Loop
		ZERO8
		// R7: the entry of srcs at hand; R6: the vectors left.
		Get R1
		Set R7
		Get R2
		Set R6
		Loop
			// R5: this vector's block.
			Get R7
			I32WrapI64
			I64Load $0
			Get R3
			I64Add
			Set R5
			ADD8
			NEXT(R7, I64Const $8)
			AGAIN(R6)
		End
		STORE8(R0)
		NEXT(R0, I64Const $128)
		NEXT(R3, I64Const $128)
		AGAIN(R4)
	End
	RET

// CLAMPED pushes idx[i], the int32 at R2, clamped into [0, R7] (R7: the last row of src), as
// XLA's Gather clamps a start index.
#define CLAMPED \
	Get R2 \
	I32WrapI64 \
	I64Load32S $0 \
	Set R6 \
	I64Const $0 \
	Get R6 \
	Get R6 \
	I64Const $0 \
	I64LtS \
	Select \
	Set R6 \
	Get R7 \
	Get R6 \
	Get R6 \
	Get R7 \
	I64GtS \
	Select

// func gatherRowsAsm(dst, src unsafe.Pointer, idx *int32, n, srcRows, vectors int)
TEXT ·gatherRowsAsm(SB), NOSPLIT, $0-48
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD idx+16(FP), R2
	MOVD n+24(FP), R3
	MOVD srcRows+32(FP), R7
	MOVD vectors+40(FP), R5

	// R7: the last row of src; R8: a row in bytes.
	Get R7
	I64Const $1
	I64Sub
	Set R7
	Get R5
	I64Const $4
	I64Shl
	Set R8

	Loop
		// R6: row idx[i] of src, its number clamped into [0, srcRows).
		CLAMPED
		Get R8
		I64Mul
		Get R1
		I64Add
		Set R6
		// The row, a vector at a time, bits unchanged.
		Get R5
		Set R9
		Loop
			VCOPY(R0, R6, 0)
			NEXT(R0, I64Const $16)
			NEXT(R6, I64Const $16)
			AGAIN(R9)
		End
		NEXT(R2, I64Const $4)
		AGAIN(R3)
	End
	RET

// func gatherScalarsAsm(dst, src unsafe.Pointer, idx *int32, n, srcRows int)
TEXT ·gatherScalarsAsm(SB), NOSPLIT, $0-40
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD idx+16(FP), R2
	MOVD n+24(FP), R3
	MOVD srcRows+32(FP), R7

	// R7: the last value of src.
	Get R7
	I64Const $1
	I64Sub
	Set R7

	Loop
		// R6: value idx[i] of src, its number clamped into [0, srcRows).
		CLAMPED
		I64Const $2
		I64Shl
		Get R1
		I64Add
		Set R6
		// The value as 4 bytes of an integer: a float's bits, a NaN's payload included, unchanged.
		Get R0
		I32WrapI64
		Get R6
		I32WrapI64
		I32Load $0
		I32Store $0
		NEXT(R0, I64Const $4)
		NEXT(R2, I64Const $4)
		AGAIN(R3)
	End
	RET
