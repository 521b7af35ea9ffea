//go:build goexperiment.simd && !wasm

package kernels

// binaryBlocks is wasm's assembly for Binary (binary_wasm.go); elsewhere the Go loops compute
// every element.
func binaryBlocks(op BinaryOp, dst, a, b []float32) int { return 0 }
