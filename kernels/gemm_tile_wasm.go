//go:build goexperiment.simd

package kernels

// gemmMR is the rows of C per register tile: 4 in wasm, where V8 spills 6 (see gemm_simd.go).
const gemmMR = 4

// tile4 is the 4-row register tile in wasm: micro4x2's multiply-adds, in the same order (the
// same bits), by micro4x2Asm. Go 1.27.3 compiles micro4x2's loop with one of its 8 accumulators
// kept in linear memory (V0–V15 are all its v128 registers, and it holds the 8 products before
// adding them), and each iteration jumps back through the function's resumption dispatch (its
// br_table) rather than a wasm loop; the assembly keeps the accumulators in locals, adds each
// product as it is made, and loops with br_if. conv2's product went from 6.85 to 3.79 ms in
// Chromium, and further in Firefox and WebKit (BENCHMARKS.md).
func tile4(a *[gemmMR][]float32, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	if kc < 1 {
		return
	}
	// Every address the assembly reads or writes, checked here.
	_, _ = pb[8*kc-1], c[3*ldc+7]
	a0, a1, a2, a3 := a[0][:kc], a[1][:kc], a[2][:kc], a[3][:kc]
	micro4x2Asm(&a0[0], &a1[0], &a2[0], &a3[0], &pb[0], kc, &c[0], ldc, accumulate, 4)
}

// tile4T is tile4 for an A stored by columns (micro4x2T's layout): step kk's 4 values are
// a[kk*lda : kk*lda+4].
func tile4T(a []float32, lda int, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	if kc < 1 {
		return
	}
	_, _, _ = a[(kc-1)*lda+3], pb[8*kc-1], c[3*ldc+7]
	micro4x2Asm(&a[0], &a[1], &a[2], &a[3], &pb[0], kc, &c[0], ldc, accumulate, 4*lda)
}

// micro4x2Asm (gemm_tile_wasm.s) adds to (accumulate), or stores into, rows c, c+ldc,
// c+2·ldc and c+3·ldc (8 floats each) Σ_kk a_r[kk·step/4] · pb[8kk : 8kk+8], row r's values
// starting at a_r and step bytes apart.
//
//go:noescape
func micro4x2Asm(a0, a1, a2, a3, pb *float32, kc int, c *float32, ldc int, accumulate bool, step int)
