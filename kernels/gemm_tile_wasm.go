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
//
// It computes panels tiles side by side in one call: tile p reads the panel of B at
// pb[p*pstride:] and writes c's 8 columns from p*8 on. One call for a row of tiles rather than
// one a tile saved Go's call, its bounds checks and its dispatch per tile (BENCHMARKS.md).
func tile4(spread []float32, pb []float32, kc int, c []float32, ldc int, accumulate bool, panels, pstride int) {
	if kc < 1 || panels < 1 {
		return
	}
	// Every address the assembly reads or writes, checked here.
	_, _, _ = spread[16*kc-1], pb[(panels-1)*pstride+8*kc-1], c[3*ldc+8*panels-1]
	micro4x2Asm(&spread[0], &pb[0], kc, &c[0], ldc, accumulate, panels, pstride)
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
// spread (spread4Asm); and so for each of panels tiles, c moving on 8 floats and pb pstride.
//
//go:noescape
func micro4x2Asm(pa, pb *float32, kc int, c *float32, ldc int, accumulate bool, panels, pstride int)

// spread4Asm (gemm_tile_wasm.s) writes, for each of kc steps, the values at a0, a1, a2 and a3,
// each in a vector's 4 lanes, to dst (16 floats a step); each a_r moves on step bytes a step.
//
//go:noescape
func spread4Asm(dst, a0, a1, a2, a3 *float32, kc, step int)

// packRows is packB's panel of columns [j0, j0+nr) for a B stored by rows (nr is 8 in wasm): two
// vector moves a row, by packRowsAsm. copy's memmove costs several times more for 32 bytes in
// wasm, which showed when B is wide and short (Winograd's transforms, K = 16: 8% of a step); the
// same moves in Go took every engine 1.2 to 4 times as long as the assembly (BENCHMARKS.md), as
// each row goes back through the function's resumption dispatch (see tile4).
func packRows(panel []float32, b Matrix, j0, k, nr int) {
	if k < 1 {
		return
	}
	// Every address the assembly reads or writes, checked here.
	first := b.Offset + j0
	_, _, _ = panel[8*k-1], b.Data[first], b.Data[first+(k-1)*b.RowStride+7]
	if nr != 8 {
		panic("kernels: wasm's panels are 8 columns wide")
	}
	packRowsAsm(&panel[0], &b.Data[first], k, b.RowStride)
}

// packRowsAsm (gemm_tile_wasm.s) copies the 8 floats at src to panel, k times, src moving on
// stride floats and panel 8 a time.
//
//go:noescape
func packRowsAsm(panel, src *float32, k, stride int)

// packColumn writes col down a panel nr columns wide (8 in wasm), dst[kk*8] = col[kk], by
// packColumnAsm: Go's loop went back through the function's resumption dispatch for every
// element (see tile4), which made packing B's columns (dense layers' Wᵀ, Winograd's filters)
// about 4% of a worker's step in WebKit (BENCHMARKS.md).
func packColumn(dst, col []float32, nr int) {
	if len(col) == 0 {
		return
	}
	if nr != 8 {
		panic("kernels: wasm's panels are 8 columns wide")
	}
	_ = dst[(len(col)-1)*8] // every address the assembly writes, checked here
	packColumnAsm(&dst[0], &col[0], len(col))
}

// packColumnAsm (gemm_tile_wasm.s) copies the k floats at src, bit for bit, to every 8th float
// from dst.
//
//go:noescape
func packColumnAsm(dst, src *float32, k int)
