//go:build goexperiment.simd

package kernels

// f32-rsum and f64-rsum: sums over a run of consecutive axes, src viewed as [outer, r, inner]
// and dst as [outer, inner]. With inner ≥ 1 vector the r rows are added one after another, a
// vector at a time, which is the order simplego's own reduction adds them in, so results are
// bit-identical; a trailing reduction (inner == 1) is a sequential scalar sum for the same reason.
//
// Natively the outputs are shared among goroutines (parallel.go), never the sums: every output
// element is summed whole, over j in order, by one goroutine, so the split changes no bit.

import (
	"simd"
	"unsafe"
)

// sumBlock returns the width of the column blocks a sum over r rows of width inner is cut into,
// for workers goroutines to share: the whole row when one sums them all (always in wasm) or
// r·inner fits one chunk of work, else about a chunk's worth of columns, a whole number of
// vectors of l lanes. Each output element is summed whole by one goroutine, whatever the blocks.
func sumBlock(r, inner, l, workers int) int {
	if Workers(workers) == 1 || r*inner <= parallelGrain {
		return inner
	}
	w := max(parallelGrain/r, l)
	return min((w+l-1)/l*l, inner)
}

// SumRows32 sets dst[o*inner+i] = Σ_j src[(o*r+j)*inner+i] in float32. workers > 1 splits the
// outputs among that many goroutines.
func SumRows32(dst, src []float32, outer, r, inner, workers int) {
	l := Lanes()
	if inner == 1 {
		parallelFor(workers, outer, max(1, parallelGrain/max(r, 1)), func(lo, hi int) {
			for o := lo; o < hi; o++ {
				var s float32
				for _, v := range src[o*r : (o+1)*r] {
					s += v
				}
				dst[o] = s
			}
		})
		return
	}
	bw := sumBlock(r, inner, l, workers)
	blocks := (inner + bw - 1) / bw // per output row
	parallelFor(workers, outer*blocks, max(1, parallelGrain/max(r*bw, 1)), func(lo, hi int) {
		for u := lo; u < hi; u++ {
			o, c0 := u/blocks, u%blocks*bw
			c1 := min(c0+bw, inner)
			sumColumns32(dst[o*inner+c0:o*inner+c1], src[o*r*inner+c0:], r, inner)
		}
	})
}

// sumColumns32 sets out[i] = Σ_j rows[j*stride+i] over j < r, in order from +0 (so a column of
// -0 alone sums to +0, as simplego's): four vectors of columns at a time, whose sums stay in
// registers over all r rows and are stored once. Adding each row into out in memory instead (a
// load and a store of out for every row's load) took about twice as long, in every engine.
func sumColumns32(out, rows []float32, r, stride int) {
	l := Lanes()
	w := len(out)
	i := sumBlocks32(out, rows, r, stride) // in wasm, the blocks of 32 columns in assembly
	for ; i+4*l <= w; i += 4 * l {
		var s0, s1, s2, s3 simd.Float32s // +0 in every lane
		for j := range r {
			v := rows[j*stride+i : j*stride+i+4*l]
			s0 = s0.Add(simd.LoadFloat32s(v))
			s1 = s1.Add(simd.LoadFloat32s(v[l:]))
			s2 = s2.Add(simd.LoadFloat32s(v[2*l:]))
			s3 = s3.Add(simd.LoadFloat32s(v[3*l:]))
		}
		o := out[i : i+4*l]
		s0.Store(o)
		s1.Store(o[l:])
		s2.Store(o[2*l:])
		s3.Store(o[3*l:])
	}
	for ; i+l <= w; i += l {
		var s simd.Float32s
		for j := range r {
			s = s.Add(simd.LoadFloat32s(rows[j*stride+i:]))
		}
		s.Store(out[i:])
	}
	for ; i < w; i++ {
		var s float32
		for j := range r {
			s += rows[j*stride+i]
		}
		out[i] = s
	}
}

// SumRows64 is SumRows32 in float64.
func SumRows64(dst, src []float64, outer, r, inner, workers int) {
	l := Lanes() / 2
	if inner == 1 {
		parallelFor(workers, outer, max(1, parallelGrain/max(r, 1)), func(lo, hi int) {
			for o := lo; o < hi; o++ {
				var s float64
				for _, v := range src[o*r : (o+1)*r] {
					s += v
				}
				dst[o] = s
			}
		})
		return
	}
	bw := sumBlock(r, inner, l, workers)
	blocks := (inner + bw - 1) / bw
	parallelFor(workers, outer*blocks, max(1, parallelGrain/max(r*bw, 1)), func(lo, hi int) {
		for u := lo; u < hi; u++ {
			o, c0 := u/blocks, u%blocks*bw
			c1 := min(c0+bw, inner)
			out := dst[o*inner+c0 : o*inner+c1]
			clear(out)
			for j := range r {
				row := src[(o*r+j)*inner+c0 : (o*r+j)*inner+c1]
				i := 0
				for ; i+l <= len(out); i += l {
					simd.LoadFloat64s(out[i:]).Add(simd.LoadFloat64s(row[i:])).Store(out[i:])
				}
				for ; i < len(out); i++ {
					out[i] += row[i]
				}
			}
		}
	})
}

// AddRows32 adds each of the len(rows) rows of src to row idx[i] of dst (both rows of width
// inner), skipping indices outside [0, dstRows): the ScatterSum that is im2col's gradient.
//
// Several rows of src may go to one row of dst, and must be added there in index order, so
// workers > 1 shares out dst's rows, not src's: each goroutine reads all of idx and adds the
// rows that land in its range, in order. Which ranges, and how many, changes no bit; a few more
// ranges than workers let one that runs ahead take another.
func AddRows32(dst []float32, dstRows int, src []float32, idx []int32, inner, workers int) {
	workers = Workers(workers)
	if len(idx)*inner < 2*parallelGrain {
		workers = 1
	}
	grain := dstRows
	if workers > 1 {
		grain = (dstRows + 2*workers - 1) / (2 * workers)
	}
	parallelFor(workers, dstRows, grain, func(lo, hi int) { addRowsRange(dst, src, idx, inner, lo, hi) })
}

// addRowsRange is AddRows32 for the rows of dst in [lo, hi).
func addRowsRange(dst, src []float32, idx []int32, inner, lo, hi int) {
	if inner == 1 { // rows of one value (a one-channel input's im2col)
		src = src[:len(idx)]
		for i, t := range idx {
			if int(t) >= lo && int(t) < hi {
				dst[t] += src[i]
			}
		}
		return
	}
	l := Lanes()
	for i, t := range idx {
		if int(t) < lo || int(t) >= hi {
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
// into [0, srcRows) as XLA's Gather does: im2col. workers > 1 splits dst's rows among that many
// goroutines.
func GatherRows[T any](dst, src []T, srcRows int, idx []int32, inner, workers int) {
	parallelFor(workers, len(idx), max(1, parallelGrain/max(inner, 1)), func(lo, hi int) {
		if inner == 1 { // rows of one value (conv1's im2col of the images): no copy call per value
			if lo < hi && srcRows > 0 {
				_, _ = dst[hi-1], src[srcRows-1] // every address the assembly touches
				if gatherScalarBytes(unsafe.Pointer(&dst[lo]), unsafe.Pointer(&src[0]), srcRows, idx[lo:hi], int(unsafe.Sizeof(src[0]))) {
					return // wasm's assembly
				}
			}
			d := dst[lo:hi]
			for i, t := range idx[lo:hi] {
				d[i] = src[min(max(int(t), 0), srcRows-1)]
			}
			return
		}
		if lo < hi && srcRows > 0 && inner > 0 { // (rows of no width: nothing to copy, nothing to check)
			_, _ = dst[hi*inner-1], src[srcRows*inner-1] // every address the assembly touches
			if gatherRowBytes(unsafe.Pointer(&dst[lo*inner]), unsafe.Pointer(&src[0]), srcRows, idx[lo:hi], inner*int(unsafe.Sizeof(src[0]))) {
				return // wasm's assembly
			}
		}
		for i := lo; i < hi; i++ {
			r := min(max(int(idx[i]), 0), srcRows-1)
			copy(dst[i*inner:(i+1)*inner], src[r*inner:(r+1)*inner])
		}
	})
}
