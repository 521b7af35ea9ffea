//go:build goexperiment.simd

package kernels

import "unsafe"

// sumBlocks32 is sumColumns32's loop over blocks of 32 columns in wasm: sumColumnsAsm keeps a
// block's 8 sums in locals over every row and loops with br_if, where Go 1.27.3 compiles the
// loop over the rows to jump back through the function's resumption dispatch (see tile4). It sums
// the first 32·blocks columns of out, and returns how many that is.
func sumBlocks32(out, rows []float32, r, stride int) int {
	blocks := len(out) / 32
	if blocks == 0 || r < 1 {
		return 0
	}
	// Every address the assembly reads or writes, checked here.
	_, _ = out[32*blocks-1], rows[(r-1)*stride+32*blocks-1]
	sumColumnsAsm(&out[0], &rows[0], r, stride, blocks)
	return 32 * blocks
}

// sumColumnsAsm (reduce_wasm.s) sets out[i] for i < 32·blocks to Σ_j rows[j·stride+i] over
// j < r (r ≥ 1, blocks ≥ 1), in order from +0, with f32x4.add.
//
//go:noescape
func sumColumnsAsm(out, rows *float32, r, stride, blocks int)

// sumVectorBlocks is SumVectors32's loop over blocks of 32 elements in wasm, by sumVectorsAsm,
// which keeps a block's 8 sums in locals over every vector (for the reasons sumBlocks32 gives).
// It sums dst[lo:hi]'s whole blocks of 32 from lo, and returns where it stopped.
func sumVectorBlocks(dst []float32, srcs [][]float32, lo, hi int) int {
	blocks := (hi - lo) / 32
	if blocks == 0 || len(srcs) == 0 {
		return lo
	}
	end := lo + 32*blocks
	_ = dst[end-1] // every address the assembly reads or writes, checked here
	at := make([]*float32, len(srcs))
	for i, s := range srcs {
		_ = s[end-1]
		at[i] = &s[lo]
	}
	sumVectorsAsm(&dst[lo], &at[0], len(srcs), blocks)
	return end
}

// sumVectorsAsm (reduce_wasm.s) sets dst[i] for i < 32·blocks to Σ_s srcs[s][i] over s < nsrc
// (nsrc ≥ 1, blocks ≥ 1), in order from +0, with f32x4.add.
//
//go:noescape
func sumVectorsAsm(dst *float32, srcs **float32, nsrc, blocks int)

// gatherRowBytes copies, for each i, row clamp(idx[i], 0, srcRows-1) of src to row i of dst (rows
// of rowBytes bytes), by gatherRowsAsm, when a row is a whole number of vectors: Go's copy is
// wasm's memory.copy, which each engine runs as a call of its own memmove, per row of 128 to 512
// bytes (im2col's rows of channels); a vector loop in assembly took conv2's im2col (14,112 rows
// of 128 bytes) from 0.31 to 0.06 ms in Chromium, 0.30 to 0.06 in Firefox and 0.20 to 0.08 in
// WebKit (BenchmarkGatherRows). It says whether it copied them. The caller has checked that dst
// holds len(idx) rows and src srcRows ≥ 1.
func gatherRowBytes(dst, src unsafe.Pointer, srcRows int, idx []int32, rowBytes int) bool {
	if rowBytes%16 != 0 || rowBytes == 0 || len(idx) == 0 {
		return false
	}
	gatherRowsAsm(dst, src, &idx[0], len(idx), srcRows, rowBytes/16)
	return true
}

// gatherRowsAsm (reduce_wasm.s) copies n rows of 16·vectors bytes: row clamp(idx[i], 0,
// srcRows-1) of src to row i of dst.
//
//go:noescape
func gatherRowsAsm(dst, src unsafe.Pointer, idx *int32, n, srcRows, vectors int)

// gatherScalarBytes copies, for each i, value clamp(idx[i], 0, srcRows-1) of src to value i of
// dst, values of size bytes, by gatherScalarsAsm when they are 4 bytes (float32, int32): conv1's
// im2col of the images, 56,448 values for a worker of two. Go 1.27.3 compiles GatherRows's loop
// to go back through its function's resumption dispatch (see tile4) on every value: 0.61 ms in
// Chromium, 0.53 in Firefox and 0.48 in WebKit, against 0.05–0.06 for the assembly in each
// (BenchmarkGatherRows/56448x1). It says whether it copied them. The caller has checked that dst
// holds len(idx) values and src srcRows ≥ 1.
func gatherScalarBytes(dst, src unsafe.Pointer, srcRows int, idx []int32, size int) bool {
	if size != 4 || len(idx) == 0 {
		return false
	}
	gatherScalarsAsm(dst, src, &idx[0], len(idx), srcRows)
	return true
}

// gatherScalarsAsm (reduce_wasm.s) copies n values of 4 bytes, bits unchanged: value
// clamp(idx[i], 0, srcRows-1) of src to value i of dst.
//
//go:noescape
func gatherScalarsAsm(dst, src unsafe.Pointer, idx *int32, n, srcRows int)
