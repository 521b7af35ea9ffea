//go:build goexperiment.simd

package kernels

// f32-argmax: the index of the maximum along the middle axis of [outer, r, inner], a vector of
// the inner axis at a time. Ties keep the first index and a NaN wins (the last NaN), which is
// what simplego's own ArgMax does.

import "simd"

// ArgMax32 sets dst[o*inner+i] to the j < r that maximises src[(o*r+j)*inner+i]. workers > 1
// splits the outer axis among that many goroutines (each output is found by one of them).
func ArgMax32(dst []int32, src []float32, outer, r, inner, workers int) {
	parallelFor(workers, outer, max(1, parallelGrain/max(r*inner, 1)), func(lo, hi int) {
		argMaxRows(dst, src, lo, hi, r, inner)
	})
}

// argMaxRows is ArgMax32 for outer indices [lo, hi).
func argMaxRows(dst []int32, src []float32, lo, hi, r, inner int) {
	l := Lanes()
	for o := lo; o < hi; o++ {
		rows := src[o*r*inner : (o+1)*r*inner]
		out := dst[o*inner : (o+1)*inner]
		i := 0
		for ; i+l <= inner; i += l {
			b := simd.LoadFloat32s(rows[i:])
			var arg simd.Int32s
			for j := 1; j < r; j++ {
				v := simd.LoadFloat32s(rows[j*inner+i:])
				m := v.Greater(b).Or(v.NotEqual(v))
				b = v.IfElse(m, b)
				arg = simd.BroadcastInt32s(int32(j)).IfElse(m, arg)
			}
			arg.Store(out[i:])
		}
		for ; i < inner; i++ {
			b, arg := rows[i], int32(0)
			for j := 1; j < r; j++ {
				if v := rows[j*inner+i]; v > b || v != v {
					b, arg = v, int32(j)
				}
			}
			out[i] = arg
		}
	}
}
