//go:build goexperiment.simd

package kernels

// f32-rsum and f64-rsum: sums over a run of consecutive axes, src viewed as [outer, r, inner]
// and dst as [outer, inner]. With inner ≥ 1 vector the r rows are added one after another, a
// vector at a time, which is the order simplego's own reduction adds them in, so results are
// bit-identical; a trailing reduction (inner == 1) is a sequential scalar sum for the same reason.

import "simd"

// SumRows32 sets dst[o*inner+i] = Σ_j src[(o*r+j)*inner+i] in float32.
func SumRows32(dst, src []float32, outer, r, inner int) {
	l := Lanes()
	for o := range outer {
		out := dst[o*inner : (o+1)*inner]
		rows := src[o*r*inner : (o+1)*r*inner]
		if inner == 1 {
			var s float32
			for _, v := range rows {
				s += v
			}
			out[0] = s
			continue
		}
		clear(out) // from +0, as simplego: copying the first row would keep its -0s
		for j := 0; j < r; j++ {
			row := rows[j*inner : (j+1)*inner]
			i := 0
			for ; i+l <= inner; i += l {
				simd.LoadFloat32s(out[i:]).Add(simd.LoadFloat32s(row[i:])).Store(out[i:])
			}
			for ; i < inner; i++ {
				out[i] += row[i]
			}
		}
	}
}

// SumRows64 is SumRows32 in float64.
func SumRows64(dst, src []float64, outer, r, inner int) {
	l := Lanes() / 2
	for o := range outer {
		out := dst[o*inner : (o+1)*inner]
		rows := src[o*r*inner : (o+1)*r*inner]
		if inner == 1 {
			var s float64
			for _, v := range rows {
				s += v
			}
			out[0] = s
			continue
		}
		clear(out) // from +0, as simplego: copying the first row would keep its -0s
		for j := 0; j < r; j++ {
			row := rows[j*inner : (j+1)*inner]
			i := 0
			for ; i+l <= inner; i += l {
				simd.LoadFloat64s(out[i:]).Add(simd.LoadFloat64s(row[i:])).Store(out[i:])
			}
			for ; i < inner; i++ {
				out[i] += row[i]
			}
		}
	}
}

// AddRows32 adds each of the len(rows) rows of src to row idx[i] of dst (both rows of width
// inner), skipping indices outside [0, dstRows): the ScatterSum that is im2col's gradient.
func AddRows32(dst []float32, dstRows int, src []float32, idx []int32, inner int) {
	if inner == 1 { // the max-pool's gradient: single values
		src = src[:len(idx)]
		for i, t := range idx {
			if t >= 0 && int(t) < dstRows {
				dst[t] += src[i]
			}
		}
		return
	}
	l := Lanes()
	for i, t := range idx {
		if t < 0 || int(t) >= dstRows {
			continue
		}
		out := dst[int(t)*inner : int(t+1)*inner]
		row := src[i*inner : (i+1)*inner]
		j := 0
		for ; j+l <= inner; j += l {
			simd.LoadFloat32s(out[j:]).Add(simd.LoadFloat32s(row[j:])).Store(out[j:])
		}
		for ; j < inner; j++ {
			out[j] += row[j]
		}
	}
}

// GatherRows sets row i of dst to row idx[i] of src (rows of width inner), clamping each index
// into [0, srcRows) as XLA's Gather does: im2col.
func GatherRows[T any](dst, src []T, srcRows int, idx []int32, inner int) {
	if inner == 1 { // the max-pool's gather of single values: no copy call per value
		dst = dst[:len(idx)]
		for i, t := range idx {
			dst[i] = src[min(max(int(t), 0), srcRows-1)]
		}
		return
	}
	for i, t := range idx {
		r := min(max(int(t), 0), srcRows-1)
		copy(dst[i*inner:(i+1)*inner], src[r*inner:(r+1)*inner])
	}
}
