//go:build goexperiment.simd

package kernels

// adamBlocks is AdamStep32's loop over blocks of 16 parameters in wasm, by adamAsm: Go 1.27.3
// compiles the loop, a vector a pass, to go back through the function's resumption dispatch
// every pass (see tile4). It updates the first 16·blocks parameters and returns how many that is.
func adamBlocks(theta, m, v, g []float32, c AdamCoefficients) int {
	blocks := len(g) / 16
	if blocks == 0 {
		return 0
	}
	n := 16 * blocks
	_, _, _, _ = theta[n-1], m[n-1], v[n-1], g[n-1] // every address the assembly touches
	adamAsm(&theta[0], &m[0], &v[0], &g[0], &c, blocks)
	return n
}

// adamAsm (host_wasm.s) is AdamStep32 on the first 16·blocks parameters (blocks ≥ 1).
//
//go:noescape
func adamAsm(theta, m, v, grad *float32, c *AdamCoefficients, blocks int)
