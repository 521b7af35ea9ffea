//go:build goexperiment.simd

#include "textflag.h"

// The 4×8 register tile in WebAssembly SIMD128 (see tile4 in gemm_tile_wasm.go): rows 0–3 of C
// in V0–V7 (two vectors each), B's two vectors of a step in V8 and V9, the broadcast of A in
// V10. Each product is added as it is made: f32x4.add(f32x4.mul(a, b), c), as micro4x2 does.
// (Go's assembler drops the offset of a V128Store: row addresses are computed in full.)

// func micro4x2Asm(a0, a1, a2, a3, pb *float32, kc int, c *float32, ldc, accumulate, step int)
TEXT ·micro4x2Asm(SB), NOSPLIT, $0-80
	MOVD a0+0(FP), R0
	MOVD a1+8(FP), R1
	MOVD a2+16(FP), R2
	MOVD a3+24(FP), R3
	MOVD pb+32(FP), R4
	MOVD kc+40(FP), R5
	MOVD c+48(FP), R6
	MOVD ldc+56(FP), R7
	MOVD accumulate+64(FP), R8
	MOVD step+72(FP), R12

	// R7: a row of c in bytes; R9, R10, R11: rows 1, 2 and 3 of c.
	Get R7
	I64Const $2
	I64Shl
	Set R7
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
		F32Const $0.0
		F32x4Splat
		Set V0
		Get V0
		Set V1
		Get V0
		Set V2
		Get V0
		Set V3
		Get V0
		Set V4
		Get V0
		Set V5
		Get V0
		Set V6
		Get V0
		Set V7
	Else
		Get R6
		I32WrapI64
		V128Load $0
		Set V0
		Get R6
		I32WrapI64
		V128Load $16
		Set V1
		Get R9
		I32WrapI64
		V128Load $0
		Set V2
		Get R9
		I32WrapI64
		V128Load $16
		Set V3
		Get R10
		I32WrapI64
		V128Load $0
		Set V4
		Get R10
		I32WrapI64
		V128Load $16
		Set V5
		Get R11
		I32WrapI64
		V128Load $0
		Set V6
		Get R11
		I32WrapI64
		V128Load $16
		Set V7
	End

	Get R5
	I64Eqz
	I32Eqz
	If
	Loop
		Get R4
		I32WrapI64
		V128Load $0
		Set V8
		Get R4
		I32WrapI64
		V128Load $16
		Set V9

		Get R0
		I32WrapI64
		F32Load $0
		F32x4Splat
		Tee V10
		Get V8
		F32x4Mul
		Get V0
		F32x4Add
		Set V0
		Get V10
		Get V9
		F32x4Mul
		Get V1
		F32x4Add
		Set V1

		Get R1
		I32WrapI64
		F32Load $0
		F32x4Splat
		Tee V10
		Get V8
		F32x4Mul
		Get V2
		F32x4Add
		Set V2
		Get V10
		Get V9
		F32x4Mul
		Get V3
		F32x4Add
		Set V3

		Get R2
		I32WrapI64
		F32Load $0
		F32x4Splat
		Tee V10
		Get V8
		F32x4Mul
		Get V4
		F32x4Add
		Set V4
		Get V10
		Get V9
		F32x4Mul
		Get V5
		F32x4Add
		Set V5

		Get R3
		I32WrapI64
		F32Load $0
		F32x4Splat
		Tee V10
		Get V8
		F32x4Mul
		Get V6
		F32x4Add
		Set V6
		Get V10
		Get V9
		F32x4Mul
		Get V7
		F32x4Add
		Set V7

		Get R0
		Get R12
		I64Add
		Set R0
		Get R1
		Get R12
		I64Add
		Set R1
		Get R2
		Get R12
		I64Add
		Set R2
		Get R3
		Get R12
		I64Add
		Set R3
		Get R4
		I64Const $32
		I64Add
		Set R4
		Get R5
		I64Const $1
		I64Sub
		Tee R5
		I64Eqz
		I32Eqz
		BrIf $0
	End
	End

	Get R6
	I32WrapI64
	Get V0
	V128Store $0
	Get R6
	I64Const $16
	I64Add
	I32WrapI64
	Get V1
	V128Store $0
	Get R9
	I32WrapI64
	Get V2
	V128Store $0
	Get R9
	I64Const $16
	I64Add
	I32WrapI64
	Get V3
	V128Store $0
	Get R10
	I32WrapI64
	Get V4
	V128Store $0
	Get R10
	I64Const $16
	I64Add
	I32WrapI64
	Get V5
	V128Store $0
	Get R11
	I32WrapI64
	Get V6
	V128Store $0
	Get R11
	I64Const $16
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	RET
