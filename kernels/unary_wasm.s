//go:build goexperiment.simd

#include "textflag.h"
#include "wasm_simd.h"

// MaxScalar32's and Sign32's loops in WebAssembly SIMD128 (see unary_wasm.go): 16 floats (4
// vectors) a pass. R0 the output, R1 the input, R2 the blocks left; V15 and V14 constants.

// UNARY stores f of the vector at byte off of R1 into R0's, f being the macro's instructions on
// the vector in V0.
#define UNARY(off, f) \
	AT(R0, off) \
	VLOAD(R1, off) \
	Set V0 \
	f \
	V128Store $0

// RELU is x where x > c (V15) or x is NaN, else c.
#define RELU \
	Get V0 \
	Get V15 \
	Get V0 \
	Get V15 \
	F32x4Gt \
	Get V0 \
	Get V0 \
	F32x4Ne \
	V128Or \
	V128Bitselect

// SIGN is (1 where x > +0) + (-1 where x < +0), each +0 elsewhere: V15 holds 1, V14 -1, V13 +0.
#define SIGN \
	Get V15 \
	Get V0 \
	Get V13 \
	F32x4Gt \
	V128And \
	Get V14 \
	Get V0 \
	Get V13 \
	F32x4Lt \
	V128And \
	F32x4Add

// UNARYLOOP runs f over the blocks.
#define UNARYLOOP(f) \
	Loop \
		UNARY(0, f) \
		UNARY(16, f) \
		UNARY(32, f) \
		UNARY(48, f) \
		NEXT(R0, I64Const $64) \
		NEXT(R1, I64Const $64) \
		AGAIN(R2) \
	End

// func reluAsm(dst, src *float32, c float32, blocks int)
TEXT ·reluAsm(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD blocks+24(FP), R2
	Get SP
	F32Load c+16(FP)
	F32x4Splat
	Set V15
	UNARYLOOP(RELU)
	RET

// func signAsm(dst, src *float32, blocks int)
TEXT ·signAsm(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD src+8(FP), R1
	MOVD blocks+16(FP), R2
	F32Const $1.0
	F32x4Splat
	Set V15
	F32Const $-1.0
	F32x4Splat
	Set V14
	F32Const $0.0
	F32x4Splat
	Set V13
	UNARYLOOP(SIGN)
	RET
