//go:build goexperiment.simd

#include "textflag.h"
#include "wasm_simd.h"

// Binary's loop in WebAssembly SIMD128 (see binary_wasm.go): 16 floats (4 vectors) a pass, a
// loop for each op.

// BINV stores a op b for the vector at byte off of R1 and R2 into R0's: op is the instruction.
#define BINV(off, op) \
	AT(R0, off) \
	VLOAD(R1, off) \
	VLOAD(R2, off) \
	op \
	V128Store $0

// BINLOOP runs op over the blocks: R3 of them, from R0, R1 and R2.
#define BINLOOP(op) \
	Loop \
		BINV(0, op) \
		BINV(16, op) \
		BINV(32, op) \
		BINV(48, op) \
		NEXT(R0, I64Const $64) \
		NEXT(R1, I64Const $64) \
		NEXT(R2, I64Const $64) \
		AGAIN(R3) \
	End

// func binaryAsm(op int, dst, a, b *float32, blocks int)
TEXT ·binaryAsm(SB), NOSPLIT, $0-40
	MOVD op+0(FP), R4
	MOVD dst+8(FP), R0
	MOVD a+16(FP), R1
	MOVD b+24(FP), R2
	MOVD blocks+32(FP), R3

	// Add 0, Sub 1, Mul 2, Div 3 (BinaryOp).
	Get R4
	I64Eqz
	If
		BINLOOP(F32x4Add)
	Else
		Get R4
		I64Const $1
		I64Eq
		If
			BINLOOP(F32x4Sub)
		Else
			Get R4
			I64Const $2
			I64Eq
			If
				BINLOOP(F32x4Mul)
			Else
				BINLOOP(F32x4Div)
			End
		End
	End
	RET

// func fill32Asm(dst unsafe.Pointer, bits uint32, blocks int)
TEXT ·fill32Asm(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD blocks+16(FP), R2
	Get SP
	I32Load bits+8(FP)
	I32x4Splat
	Set V0
	Loop
		VSTORE(R0, 0, V0)
		VSTORE(R0, 16, V0)
		VSTORE(R0, 32, V0)
		VSTORE(R0, 48, V0)
		NEXT(R0, I64Const $64)
		AGAIN(R2)
	End
	RET
