//go:build goexperiment.simd

#include "textflag.h"
#include "wasm_simd.h"

// AdamStep32's loop in WebAssembly SIMD128 (see host_wasm.go): 16 parameters (4 vectors) a pass.
// R0 θ, R1 m, R2 v, R3 g; R4 the blocks left. V10–V15 hold the coefficients β₁, 1−β₁, β₂, 1−β₂,
// lr_t and ε in every lane; V0 g, V1 m and V2 v of the vector at hand.

// ADAMV updates the vector at byte off: m = m·β₁ + g·(1−β₁); v = v·β₂ + (g·g)·(1−β₂);
// θ = θ − lr_t·(m / (√v + ε)), each operation rounded on its own, in AdamStep32's order.
#define ADAMV(off) \
	VLOAD(R3, off) \
	Set V0 \
	VLOAD(R1, off) \
	Get V10 \
	F32x4Mul \
	Get V0 \
	Get V11 \
	F32x4Mul \
	F32x4Add \
	Set V1 \
	VLOAD(R2, off) \
	Get V12 \
	F32x4Mul \
	Get V0 \
	Get V0 \
	F32x4Mul \
	Get V13 \
	F32x4Mul \
	F32x4Add \
	Set V2 \
	VSTORE(R1, off, V1) \
	VSTORE(R2, off, V2) \
	AT(R0, off) \
	VLOAD(R0, off) \
	Get V14 \
	Get V1 \
	Get V2 \
	F32x4Sqrt \
	Get V15 \
	F32x4Add \
	F32x4Div \
	F32x4Mul \
	F32x4Sub \
	V128Store $0

// SPLATC sets v to the float32 at byte off of R5 in every lane.
#define SPLATC(off, v) \
	Get R5 \
	I32WrapI64 \
	F32Load $off \
	F32x4Splat \
	Set v

// func adamAsm(theta, m, v, grad *float32, c *AdamCoefficients, blocks int)
TEXT ·adamAsm(SB), NOSPLIT, $0-48
	MOVD theta+0(FP), R0
	MOVD m+8(FP), R1
	MOVD v+16(FP), R2
	MOVD grad+24(FP), R3
	MOVD c+32(FP), R5
	MOVD blocks+40(FP), R4

	// AdamCoefficients: B1, C1, B2, C2, LR, Eps.
	SPLATC(0, V10)
	SPLATC(4, V11)
	SPLATC(8, V12)
	SPLATC(12, V13)
	SPLATC(16, V14)
	SPLATC(20, V15)

	Loop
		ADAMV(0)
		ADAMV(16)
		ADAMV(32)
		ADAMV(48)
		NEXT(R0, I64Const $64)
		NEXT(R1, I64Const $64)
		NEXT(R2, I64Const $64)
		NEXT(R3, I64Const $64)
		AGAIN(R4)
	End
	RET
