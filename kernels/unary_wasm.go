//go:build goexperiment.simd

package kernels

// maxScalarBlocks and signBlocks are MaxScalar32's and Sign32's loops over blocks of 16 floats in
// wasm, by reluAsm and signAsm: Go 1.27.3 compiles their loops, a vector a pass, to go back
// through the function's resumption dispatch every pass (see tile4). Each computes dst[:16·blocks]
// and returns how many floats that is.
func maxScalarBlocks(dst, src []float32, c float32) int {
	blocks := len(src) / 16
	if blocks == 0 {
		return 0
	}
	_, _ = dst[16*blocks-1], src[16*blocks-1] // every address the assembly touches
	reluAsm(&dst[0], &src[0], c, blocks)
	return 16 * blocks
}

func signBlocks(dst, src []float32) int {
	blocks := len(src) / 16
	if blocks == 0 {
		return 0
	}
	_, _ = dst[16*blocks-1], src[16*blocks-1]
	signAsm(&dst[0], &src[0], blocks)
	return 16 * blocks
}

// reluAsm (unary_wasm.s) sets dst[i] for i < 16·blocks (blocks ≥ 1) to src[i] where it is
// greater than c or NaN, else c.
//
//go:noescape
func reluAsm(dst, src *float32, c float32, blocks int)

// signAsm (unary_wasm.s) sets dst[i] for i < 16·blocks (blocks ≥ 1) to 1 where src[i] > 0, -1
// where it is below, else +0.
//
//go:noescape
func signAsm(dst, src *float32, blocks int)
