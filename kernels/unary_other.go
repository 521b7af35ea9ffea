//go:build goexperiment.simd && !wasm

package kernels

// maxScalarBlocks and signBlocks are wasm's assembly for MaxScalar32 and Sign32 (unary_wasm.go);
// elsewhere the Go loops compute every element.
func maxScalarBlocks(dst, src []float32, c float32) int { return 0 }

func signBlocks(dst, src []float32) int { return 0 }
