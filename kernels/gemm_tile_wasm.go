//go:build goexperiment.simd

package kernels

// gemmMR is the rows of C per register tile: 4 in wasm, where V8 spills 6 (see gemm_simd.go).
const gemmMR = 4

// tile4 is the 4-row register tile in wasm: micro4x2's multiply-adds, in the same order (the
// same bits), by micro4x2Asm, on A spread by spreadRows4 or spreadCols4. Go 1.27.3 compiles
// micro4x2's loop with one of its 8 accumulators kept in linear memory (V0–V15 are all its v128
// registers, and it holds the 8 products before adding them), and each iteration jumps back
// through the function's resumption dispatch (its br_table) rather than a wasm loop; the assembly
// keeps the accumulators in locals, adds each product as it is made, and loops with br_if.
// conv2's product went from 6.85 to 3.79 ms in Chromium, and further in Firefox and WebKit
// (BENCHMARKS.md).
//
// A is spread (each value in every lane of a vector) once per tile and block of k, not broadcast
// in the tile: the tile runs once per panel of B (8 to 16 times per spread in the network), and
// its 4 broadcasts a step (f32.load, f32x4.splat) for 16 products cost every engine, and Firefox
// most (BENCHMARKS.md).
func tile4(spread []float32, pb []float32, kc int, c []float32, ldc int, accumulate bool) {
	if kc < 1 {
		return
	}
	// Every address the assembly reads or writes, checked here.
	_, _, _ = spread[16*kc-1], pb[8*kc-1], c[3*ldc+7]
	micro4x2Asm(&spread[0], &pb[0], kc, &c[0], ldc, accumulate)
}

// spreadRows4 writes a's 4 rows of kc steps into dst spread: step kk's values of rows 0–3, each 4
// times (dst[16kk+4r : 16kk+4r+4] is row r's).
func spreadRows4(dst []float32, a *[gemmMR][]float32, kc int) {
	if kc < 1 {
		return
	}
	_ = dst[16*kc-1]
	a0, a1, a2, a3 := a[0][:kc], a[1][:kc], a[2][:kc], a[3][:kc]
	spread4Asm(&dst[0], &a0[0], &a1[0], &a2[0], &a3[0], kc, 4)
}

// spreadCols4 is spreadRows4 for an A stored by columns (micro4x2T's layout): step kk's 4 values
// are a[kk*lda : kk*lda+4].
func spreadCols4(dst []float32, a []float32, lda, kc int) {
	if kc < 1 {
		return
	}
	_, _ = dst[16*kc-1], a[(kc-1)*lda+3]
	spread4Asm(&dst[0], &a[0], &a[1], &a[2], &a[3], kc, 4*lda)
}

// micro4x2Asm (gemm_tile_wasm.s) adds to (accumulate), or stores into, rows c, c+ldc,
// c+2·ldc and c+3·ldc (8 floats each) Σ_kk pa[16kk+4r] · pb[8kk : 8kk+8] for row r, pa being A
// spread (spread4Asm).
//
//go:noescape
func micro4x2Asm(pa, pb *float32, kc int, c *float32, ldc int, accumulate bool)

// spread4Asm (gemm_tile_wasm.s) writes, for each of kc steps, the values at a0, a1, a2 and a3,
// each in a vector's 4 lanes, to dst (16 floats a step); each a_r moves on step bytes a step.
//
//go:noescape
func spread4Asm(dst, a0, a1, a2, a3 *float32, kc, step int)
