//go:build goexperiment.simd

#include "textflag.h"
#include "wasm_simd.h"

// The max-pool and its gradient in WebAssembly SIMD128 (see maxpool_wasm.go), 16 channels (4
// vectors) at a time, window by window, from a table of each window's taps: taps holds byte
// offsets from the image's first element, window q's being taps[start[q]:start[q+1]].
//
// Registers: R0 the output (the pool) or the image's gradient (its gradient), R1 the image, R2
// the table of taps, R3 the window's entry in start, R4 the windows left, R5 the channels; R6 the
// window's first entry of taps and R7 the entry past its last, R8 the group's byte offset among
// the channels, R10 the groups left, R11 the entry of taps at hand, R12 the tap's group of
// channels; for the gradient, R9 the window's gradient and R13 the number of the tap at hand.

// WINDOW sets R6 and R7 to the bounds of the window at R3 in the table of taps at R2.
#define WINDOW \
	Get R3 \
	I32WrapI64 \
	I64Load32S $0 \
	I64Const $2 \
	I64Shl \
	Get R2 \
	I64Add \
	Set R6 \
	Get R3 \
	I32WrapI64 \
	I64Load32S $4 \
	I64Const $2 \
	I64Shl \
	Get R2 \
	I64Add \
	Set R7

// TAP sets R12 to the group of channels at R8 of the tap at R11, in the image at R1.
#define TAP \
	Get R11 \
	I32WrapI64 \
	I64Load32S $0 \
	Get R1 \
	I64Add \
	Get R8 \
	I64Add \
	Set R12

// NEXTTAP moves R11 to the next tap, and goes back to the loop's head while the window has one.
#define NEXTTAP \
	Get R11 \
	I64Const $4 \
	I64Add \
	Tee R11 \
	Get R7 \
	I64LtU \
	BrIf $0

// MAXV folds the vector at byte off of R12 into m as Go's max(m, v) does: v where v > m or v is
// NaN, else m; and where they are equal, m AND v, which is +0 for +0 and -0 (maxGo).
#define MAXV(off, m) \
	VLOAD(R12, off) \
	Set V4 \
	Get m \
	Get V4 \
	V128And \
	Get V4 \
	Get m \
	Get V4 \
	Get m \
	F32x4Gt \
	Get V4 \
	Get V4 \
	F32x4Ne \
	V128Or \
	V128Bitselect \
	Get V4 \
	Get m \
	F32x4Eq \
	V128Bitselect \
	Set m

// func maxPoolAsm(out, image *float32, taps, start *int32, windows, c int)
TEXT ·maxPoolAsm(SB), NOSPLIT, $0-48
	MOVD out+0(FP), R0
	MOVD image+8(FP), R1
	MOVD taps+16(FP), R2
	MOVD start+24(FP), R3
	MOVD windows+32(FP), R4
	MOVD c+40(FP), R5

	// V15: -Inf in every lane (0xff800000), where a window's maximum starts.
	I32Const $-8388608
	I32x4Splat
	Set V15

	Loop
		WINDOW
		I64Const $0
		Set R8
		Get R5
		I64Const $4
		I64ShrU
		Set R10
		Loop
			Get V15
			Tee V0
			Tee V1
			Tee V2
			Set V3
			Get R6
			Tee R11
			Get R7
			I64LtU
			If
			Loop
				TAP
				MAXV(0, V0)
				MAXV(16, V1)
				MAXV(32, V2)
				MAXV(48, V3)
				NEXTTAP
			End
			End
			Get R0
			Get R8
			I64Add
			Set R12
			VSTORE(R12, 0, V0)
			VSTORE(R12, 16, V1)
			VSTORE(R12, 32, V2)
			VSTORE(R12, 48, V3)
			NEXT(R8, I64Const $64)
			AGAIN(R10)
		End
		// The next window: its output, c floats on, and its entry in start.
		Get R0
		Get R5
		I64Const $2
		I64Shl
		I64Add
		Set R0
		NEXT(R3, I64Const $4)
		AGAIN(R4)
	End
	RET

// LATER is one tap of the gradient's search (laterMax), for the vector at byte off of R12: where
// it is greater than best b, or NaN, it becomes b and the tap's number (V10, in every lane)
// becomes a's.
#define LATER(off, b, a) \
	VLOAD(R12, off) \
	Set V8 \
	Get V8 \
	Get b \
	F32x4Gt \
	Get V8 \
	Get V8 \
	F32x4Ne \
	V128Or \
	Set V9 \
	Get V8 \
	Get b \
	Get V9 \
	V128Bitselect \
	Set b \
	Get V10 \
	Get a \
	Get V9 \
	V128Bitselect \
	Set a

// SCATTER adds gradient g where a names the tap at hand (V10) to the image's gradient at byte off
// of R12, and +0 elsewhere: f32x4.add(dst, g AND (a == V10)).
#define SCATTER(off, g, a) \
	AT(R12, off) \
	VLOAD(R12, off) \
	Get g \
	Get a \
	Get V10 \
	I32x4Eq \
	V128And \
	F32x4Add \
	V128Store $0

// TAPNUMBER sets V10 to the tap's number, R13, in every lane.
#define TAPNUMBER \
	Get R13 \
	I32WrapI64 \
	I32x4Splat \
	Set V10

// func scatterMaxAsm(dst, image, grad *float32, taps, start *int32, windows, c int)
TEXT ·scatterMaxAsm(SB), NOSPLIT, $0-56
	MOVD dst+0(FP), R0
	MOVD image+8(FP), R1
	MOVD grad+16(FP), R9
	MOVD taps+24(FP), R2
	MOVD start+32(FP), R3
	MOVD windows+40(FP), R4
	MOVD c+48(FP), R5

	Loop
		WINDOW
		Get R6
		Get R7
		I64LtU
		If // a window with no tap in the image gives nothing
		I64Const $0
		Set R8
		Get R5
		I64Const $4
		I64ShrU
		Set R10
		Loop
			// The first maximum of each channel among the taps (V0–V3), and its tap (V4–V7).
			Get R6
			Set R11
			TAP
			LOAD4(R12)
			I32Const $0
			I32x4Splat
			Tee V4
			Tee V5
			Tee V6
			Set V7
			I64Const $1
			Set R13
			Get R11
			I64Const $4
			I64Add
			Tee R11
			Get R7
			I64LtU
			If
			Loop
				TAP
				TAPNUMBER
				LATER(0, V0, V4)
				LATER(16, V1, V5)
				LATER(32, V2, V6)
				LATER(48, V3, V7)
				NEXT(R13, I64Const $1)
				NEXTTAP
			End
			End

			// The window's gradient (V0–V3) to each tap, in tap order, where it won.
			Get R9
			Get R8
			I64Add
			Set R12
			LOAD4(R12)
			I64Const $0
			Set R13
			Get R6
			Set R11
			Loop
				Get R11
				I32WrapI64
				I64Load32S $0
				Get R0
				I64Add
				Get R8
				I64Add
				Set R12
				TAPNUMBER
				SCATTER(0, V0, V4)
				SCATTER(16, V1, V5)
				SCATTER(32, V2, V6)
				SCATTER(48, V3, V7)
				NEXT(R13, I64Const $1)
				NEXTTAP
			End
			NEXT(R8, I64Const $64)
			AGAIN(R10)
		End
		End
		// The next window: its gradient, c floats on, and its entry in start.
		Get R9
		Get R5
		I64Const $2
		I64Shl
		I64Add
		Set R9
		NEXT(R3, I64Const $4)
		AGAIN(R4)
	End
	RET
