//go:build !goexperiment.simd

package kernels

// Lanes is 0 without GOEXPERIMENT=simd: there are no vector kernels.
func Lanes() int { return 0 }
