//go:build goexperiment.simd

package kernels

import "unsafe"

// binaryBlocks is Binary's loop over blocks of 16 floats in wasm, by binaryAsm: Go 1.27.3
// compiles Binary's loop to go back through the function's resumption dispatch every pass (see
// tile4), whose cost four vectors a pass only halved. It computes dst[:16·blocks], and returns
// how many floats that is.
func binaryBlocks(op BinaryOp, dst, a, b []float32) int {
	blocks := len(dst) / 16
	if blocks == 0 || op > Div {
		return 0
	}
	_, _, _ = dst[16*blocks-1], a[16*blocks-1], b[16*blocks-1] // every address the assembly touches
	binaryAsm(int(op), &dst[0], &a[0], &b[0], blocks)
	return 16 * blocks
}

// binaryAsm (binary_wasm.s) sets dst[i] = a[i] op b[i] for i < 16·blocks (blocks ≥ 1), op being a
// BinaryOp, with f32x4.add, sub, mul or div.
//
//go:noescape
func binaryAsm(op int, dst, a, b *float32, blocks int)

// fill32Blocks sets the first 16·(n/16) of the n 4-byte values at dst to bits, by fill32Asm:
// BroadcastCopy's runs of one value (a scalar along a row: 11 runs and 140,000 values a step for a
// worker of two), which Go 1.27.3 compiles to go back through the function's dispatch every value
// (see tile4): 0.09 ms a step in Chromium, 0.28 in WebKit (perf of each engine's worker). It
// returns how many values that is. The caller has checked that dst holds n values.
func fill32Blocks(dst unsafe.Pointer, n int, bits uint32) int {
	blocks := n / 16
	if blocks == 0 {
		return 0
	}
	fill32Asm(dst, bits, blocks)
	return 16 * blocks
}

// fill32Asm (binary_wasm.s) stores bits into the 16·blocks 4-byte values at dst (blocks ≥ 1).
//
//go:noescape
func fill32Asm(dst unsafe.Pointer, bits uint32, blocks int)
