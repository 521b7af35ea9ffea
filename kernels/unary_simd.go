//go:build goexperiment.simd

package kernels

// Element-wise conversions, square roots, signs and maxima with a constant, each element computed
// alone (so natively split among goroutines like the binary ops: no split changes a bit). The
// conversions are Go's own, the ones simplego's scalar loops use; the square root is IEEE's
// correctly rounded one both in the vector instruction and in math.Sqrt (which simplego calls in
// float64 and rounds to float32: a square root rounded twice that way is still the correctly
// rounded float32 one); signs and maxima are selections, never arithmetic. So results are
// bit-identical to simplego's.

import (
	"math"
	"simd"
)

// b2u is 1 for true and 0 for false; the compiler makes it a zero-extension, not a branch.
func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// BoolsToFloat sets dst[i] to 1 where src[i] is true, else 0: the ReLU's masks. simplego's
// loop branches on each value, which on a mask of random signs mispredicts about half the time.
func BoolsToFloat[T float32 | float64](dst []T, src []bool, workers int) {
	dst = dst[:len(src)]
	parallelFor(workers, len(src), parallelGrain, func(lo, hi int) {
		d := dst[lo:hi]
		for i, b := range src[lo:hi] {
			d[i] = T(b2u(b))
		}
	})
}

// MaxScalar32 sets dst[i] = max(src[i], c) as Go's max does (NaN where src[i] is NaN), for a c
// that is neither NaN nor -0: the ReLU, max(x, 0). (Those two are left to the caller: Go's max
// orders -0 below +0, which a comparison does not.) simplego's loop calls runtime.fmax32 for each
// element in WebAssembly.
func MaxScalar32(dst, src []float32, c float32, workers int) {
	dst = dst[:len(src)]
	parallelFor(workers, len(src), parallelGrain, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		l, i := Lanes(), maxScalarBlocks(d, s, c) // in wasm, the blocks of 16 in assembly
		cv := simd.BroadcastFloat32s(c)
		for ; i+l <= len(s); i += l {
			x := simd.LoadFloat32s(s[i:])
			// x where x > c or x is NaN, else c.
			x.IfElse(x.Greater(cv).Or(x.NotEqual(x)), cv).Store(d[i:])
		}
		for ; i < len(s); i++ {
			d[i] = max(s[i], c)
		}
	})
}

// Sign32 sets dst[i] to the sign of src[i] as simplego computes it: 1 above zero, -1 below, +0
// for zeros and NaN. Of a ReLU's output, that is the ReLU's derivative (model.reluMask): one pass
// where a comparison, then a conversion of its booleans, took two. simplego's loop branches on each
// value, which on random signs mispredicts about half the time.
func Sign32(dst, src []float32, workers int) {
	dst = dst[:len(src)]
	parallelFor(workers, len(src), parallelGrain, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		l, i := Lanes(), signBlocks(d, s) // in wasm, the blocks of 16 in assembly
		zero, one, minusOne := simd.BroadcastFloat32s(0), simd.BroadcastFloat32s(1), simd.BroadcastFloat32s(-1)
		for ; i+l <= len(s); i += l {
			x := simd.LoadFloat32s(s[i:])
			// +0 + +0 is +0: zeros and NaN give +0, as in simplego.
			one.Masked(x.Greater(zero)).Add(minusOne.Masked(x.Less(zero))).Store(d[i:])
		}
		for ; i < len(s); i++ {
			switch v := s[i]; {
			case v < 0:
				d[i] = -1
			case v > 0:
				d[i] = 1
			default:
				d[i] = 0
			}
		}
	})
}

// Convert sets dst[i] = To(src[i]) (Go's conversion: float64 to float32 rounds to nearest even).
func Convert[From uint8 | float32 | float64, To float32 | float64](dst []To, src []From, workers int) {
	dst = dst[:len(src)]
	parallelFor(workers, len(src), parallelGrain, func(lo, hi int) {
		d := dst[lo:hi]
		for i, v := range src[lo:hi] {
			d[i] = To(v)
		}
	})
}

// Sqrt32 sets dst[i] = √src[i] in float32.
func Sqrt32(dst, src []float32, workers int) {
	dst = dst[:len(src)]
	parallelFor(workers, len(src), parallelGrain, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		l, i := Lanes(), 0
		for ; i+l <= len(s); i += l {
			simd.LoadFloat32s(s[i:]).Sqrt().Store(d[i:])
		}
		for ; i < len(s); i++ {
			d[i] = float32(math.Sqrt(float64(s[i])))
		}
	})
}

// Sqrt64 sets dst[i] = √src[i] in float64.
func Sqrt64(dst, src []float64, workers int) {
	dst = dst[:len(src)]
	parallelFor(workers, len(src), parallelGrain, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		l, i := Lanes()/2, 0
		for ; i+l <= len(s); i += l {
			simd.LoadFloat64s(s[i:]).Sqrt().Store(d[i:])
		}
		for ; i < len(s); i++ {
			d[i] = math.Sqrt(s[i])
		}
	})
}

// Copy copies src into dst, as the copy built-in does, split among workers when large: the
// copies of simplego's Identity and Reshape when their input is still in use.
func Copy[T any](dst, src []T, workers int) {
	n := min(len(dst), len(src))
	parallelFor(workers, n, parallelGrain, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
}
