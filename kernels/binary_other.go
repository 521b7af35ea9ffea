//go:build goexperiment.simd && !wasm

package kernels

import "unsafe"

// binaryBlocks is wasm's assembly for Binary (binary_wasm.go); elsewhere the Go loops compute
// every element.
func binaryBlocks(op BinaryOp, dst, a, b []float32) int { return 0 }

// fill32Blocks is wasm's assembly for BroadcastCopy's runs of one value (binary_wasm.go);
// elsewhere the Go loop fills them.
func fill32Blocks(dst unsafe.Pointer, n int, bits uint32) int { return 0 }
