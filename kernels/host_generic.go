//go:build !goexperiment.simd

package kernels

// AdamStep32 applies one step of TF 1.x's Adam in place (see host_simd.go), here one element at
// a time: without GOEXPERIMENT=simd there are no vector kernels.
func AdamStep32(theta, m, v, g []float32, c AdamCoefficients) { adamScalar(theta, m, v, g, c) }

// SumVectors32 sets dst[i] to the vectors of srcs added left to right from +0 (see
// host_simd.go), one element at a time, on one goroutine.
func SumVectors32(dst []float32, srcs [][]float32, workers int) { sumScalar(dst, srcs) }
