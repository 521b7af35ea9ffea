//go:build goexperiment.simd && !wasm

package kernels

import "unsafe"

// sumBlocks32 is wasm's assembly for sumColumns32 (reduce_wasm.go); elsewhere the Go loops sum
// every column.
func sumBlocks32(out, rows []float32, r, stride int) int { return 0 }

// sumVectorBlocks is wasm's assembly for SumVectors32 (reduce_wasm.go); elsewhere the Go loop sums
// every element from lo.
func sumVectorBlocks(dst []float32, srcs [][]float32, lo, hi int) int { return lo }

// gatherRowBytes is wasm's assembly for GatherRows (reduce_wasm.go); elsewhere copy moves the rows.
func gatherRowBytes(dst, src unsafe.Pointer, srcRows int, idx []int32, rowBytes int) bool {
	return false
}

// gatherScalarBytes is wasm's assembly for GatherRows of one value a row (reduce_wasm.go);
// elsewhere the Go loop copies them.
func gatherScalarBytes(dst, src unsafe.Pointer, srcRows int, idx []int32, size int) bool {
	return false
}
