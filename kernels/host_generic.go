//go:build !goexperiment.simd

package kernels

// AdamStep32 applies one step of TF 1.x's Adam in place (see host_simd.go), here one element at
// a time: without GOEXPERIMENT=simd there are no vector kernels.
func AdamStep32(theta, m, v, g []float32, c AdamCoefficients) { adamScalar(theta, m, v, g, c) }

// AddTo32 adds src to dst, element by element (len(src) >= len(dst)), one at a time.
func AddTo32(dst, src []float32) { addScalar(dst, src) }
