//go:build goexperiment.simd && !wasm

package kernels

// adamBlocks is wasm's assembly for AdamStep32 (host_wasm.go); elsewhere the Go loop updates every
// parameter.
func adamBlocks(theta, m, v, g []float32, c AdamCoefficients) int { return 0 }
