//go:build goexperiment.simd

package kernels

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
