//go:build goexperiment.simd

package kernels

// f32-maxpool: a 2-D max-pool of images stored [batch, height, width, channels] (GoMLX's
// MaxPool, simplego's ReduceWindow with max), and its gradient (SelectAndScatterMax), a vector of
// channels at a time, reading each window where it lies. The model's pools had gathered every
// window into a tensor of its own (2.25 times the input for 3×3 windows at stride 2), found each
// window's first maximum in it (ArgMax), gathered the values at those taps, and differentiated
// that through two scatters into zeroed copies of both tensors: about 17% of a native step.

import (
	"math"
	"simd"
)

// Pool is the geometry of a 2-D pool over images [Batch, Height, Width, Channels] with windows of
// WindowH×WindowW taps, moved by StrideH and StrideW, with PadTop rows and PadLeft columns of
// padding before the image (those after it only make the output larger): the output is
// [Batch, OutH, OutW, Channels]. Padding taps are skipped, never compared.
type Pool struct {
	Batch, Height, Width, Channels int
	WindowH, WindowW               int
	StrideH, StrideW               int
	PadTop, PadLeft                int
	OutH, OutW                     int
}

// taps appends to at the offsets, in units of pixels from the image's first, of the in-image
// taps of the window at output position (oy, ox), in row-major window order.
func (p *Pool) taps(at []int, oy, ox int) []int {
	at = at[:0]
	for ky := range p.WindowH {
		y := oy*p.StrideH - p.PadTop + ky
		if y < 0 || y >= p.Height {
			continue
		}
		for kx := range p.WindowW {
			x := ox*p.StrideW - p.PadLeft + kx
			if x >= 0 && x < p.Width {
				at = append(at, y*p.Width+x)
			}
		}
	}
	return at
}

// lowest is the value simplego's ReduceWindow starts a float32 maximum from: the result of a
// window with no tap inside the image.
var lowest = float32(math.Inf(-1))

// MaxPool32 sets dst [Batch, OutH, OutW, Channels] to each window's maximum of src, as Go's max
// folds it from -Inf over the window's taps in row-major order: a NaN gives NaN and +0 is above
// -0 (simplego's ReduceWindow, bit for bit). workers > 1 splits the output rows among goroutines.
func MaxPool32(dst, src []float32, p Pool, workers int) {
	if poolAsm(p) {
		maxPoolWasm(dst, src, p)
		return
	}
	rows := p.Batch * p.OutH
	perRow := max(1, p.OutW*p.Channels*p.WindowH*p.WindowW)
	parallelFor(workers, rows, max(1, parallelGrain/perRow), func(lo, hi int) {
		at := make([]int, 0, p.WindowH*p.WindowW)
		l, c := Lanes(), p.Channels
		floor := simd.BroadcastFloat32s(lowest)
		for r := lo; r < hi; r++ {
			b, oy := r/p.OutH, r%p.OutH
			image := src[b*p.Height*p.Width*c : (b+1)*p.Height*p.Width*c]
			for ox := range p.OutW {
				at = p.taps(at, oy, ox)
				out := dst[(r*p.OutW+ox)*c : (r*p.OutW+ox+1)*c]
				i := 0
				// Two vectors of channels at once, the taps the inner loop: in wasm every pass of a
				// loop goes through the function's resumption dispatch (see Binary). (Four at once
				// took four times as long in wasm: maxGo's temporaries are more than Go's 16 v128
				// registers.)
				for ; i+2*l <= c; i += 2 * l {
					m0, m1 := floor, floor
					for _, t := range at {
						v := image[t*c+i : t*c+i+2*l]
						m0 = maxGo(m0, simd.LoadFloat32s(v))
						m1 = maxGo(m1, simd.LoadFloat32s(v[l:]))
					}
					o := out[i : i+2*l]
					m0.Store(o)
					m1.Store(o[l:])
				}
				for ; i+l <= c; i += l {
					m := floor
					for _, t := range at {
						m = maxGo(m, simd.LoadFloat32s(image[t*c+i:]))
					}
					m.Store(out[i:])
				}
				for ; i < c; i++ {
					m := lowest
					for _, t := range at {
						m = max(m, image[t*c+i])
					}
					out[i] = m
				}
			}
		}
	})
}

// maxGo is Go's max(m, v) in every lane: NaN if either is NaN, +0 above -0. (The vector Max
// instructions differ from it and from each other on both.)
func maxGo(m, v simd.Float32s) simd.Float32s {
	r := v.IfElse(v.Greater(m).Or(v.NotEqual(v)), m)
	// Equal values have equal bits, but for +0 and -0, whose AND is +0.
	return m.ToBits().And(v.ToBits()).BitsToFloat32().IfElse(v.Equal(m), r)
}

// SelectAndScatterMax32 sets dst [Batch, Height, Width, Channels] to the gradient of MaxPool32
// from grad [Batch, OutH, OutW, Channels]: each window's gradient goes to its first maximum in
// src (a later tap takes over only where it is greater, or NaN, as simplego's ArgMax decides), and
// the windows' gradients that land on one element are added in window order. workers > 1 splits
// the images among goroutines: windows overlap only within an image.
func SelectAndScatterMax32(dst, src, grad []float32, p Pool, workers int) {
	if poolAsm(p) {
		selectAndScatterMaxWasm(dst, src, grad, p)
		return
	}
	size := p.Height * p.Width * p.Channels
	perImage := max(1, p.OutH*p.OutW*p.Channels*p.WindowH*p.WindowW)
	parallelFor(workers, p.Batch, max(1, parallelGrain/perImage), func(lo, hi int) {
		clear(dst[lo*size : hi*size])
		at := make([]int, 0, p.WindowH*p.WindowW)
		l, c := Lanes(), p.Channels
		for b := lo; b < hi; b++ {
			image, out := src[b*size:(b+1)*size], dst[b*size:(b+1)*size]
			for oy := range p.OutH {
				for ox := range p.OutW {
					at = p.taps(at, oy, ox)
					if len(at) == 0 {
						continue
					}
					g := grad[((b*p.OutH+oy)*p.OutW+ox)*c : ((b*p.OutH+oy)*p.OutW+ox+1)*c]
					i := 0
					// Four vectors of channels at once (MaxPool32 takes two, for maxGo's temporaries).
					for ; i+4*l <= c; i += 4 * l {
						v := image[at[0]*c+i : at[0]*c+i+4*l]
						b0, b1, b2, b3 := simd.LoadFloat32s(v), simd.LoadFloat32s(v[l:]), simd.LoadFloat32s(v[2*l:]), simd.LoadFloat32s(v[3*l:])
						var a0, a1, a2, a3 simd.Int32s
						for j := 1; j < len(at); j++ {
							v := image[at[j]*c+i : at[j]*c+i+4*l]
							jv := simd.BroadcastInt32s(int32(j))
							b0, a0 = laterMax(b0, a0, simd.LoadFloat32s(v), jv)
							b1, a1 = laterMax(b1, a1, simd.LoadFloat32s(v[l:]), jv)
							b2, a2 = laterMax(b2, a2, simd.LoadFloat32s(v[2*l:]), jv)
							b3, a3 = laterMax(b3, a3, simd.LoadFloat32s(v[3*l:]), jv)
						}
						g4 := g[i : i+4*l]
						g0, g1, g2, g3 := simd.LoadFloat32s(g4), simd.LoadFloat32s(g4[l:]), simd.LoadFloat32s(g4[2*l:]), simd.LoadFloat32s(g4[3*l:])
						for j, t := range at {
							jv := simd.BroadcastInt32s(int32(j))
							o := out[t*c+i : t*c+i+4*l]
							simd.LoadFloat32s(o).Add(g0.Masked(a0.Equal(jv))).Store(o)
							simd.LoadFloat32s(o[l:]).Add(g1.Masked(a1.Equal(jv))).Store(o[l:])
							simd.LoadFloat32s(o[2*l:]).Add(g2.Masked(a2.Equal(jv))).Store(o[2*l:])
							simd.LoadFloat32s(o[3*l:]).Add(g3.Masked(a3.Equal(jv))).Store(o[3*l:])
						}
					}
					for ; i+l <= c; i += l {
						best := simd.LoadFloat32s(image[at[0]*c+i:])
						var arg simd.Int32s
						for j := 1; j < len(at); j++ {
							best, arg = laterMax(best, arg, simd.LoadFloat32s(image[at[j]*c+i:]), simd.BroadcastInt32s(int32(j)))
						}
						// Each tap adds the gradient in the lanes it won and +0 in the others: dst
						// starts at +0 and a sum is never -0 in round-to-nearest, so +0 changes
						// nothing.
						gv := simd.LoadFloat32s(g[i:])
						for j, t := range at {
							sel := gv.Masked(arg.Equal(simd.BroadcastInt32s(int32(j))))
							simd.LoadFloat32s(out[t*c+i:]).Add(sel).Store(out[t*c+i:])
						}
					}
					for ; i < c; i++ {
						best, arg := image[at[0]*c+i], 0
						for j := 1; j < len(at); j++ {
							if v := image[at[j]*c+i]; v > best || v != v {
								best, arg = v, j
							}
						}
						out[at[arg]*c+i] += g[i]
					}
				}
			}
		}
	})
}

// laterMax is one tap of SelectAndScatterMax32's search, in every lane: tap j (its value v, j in
// every lane of jv) takes over from the best so far where it is greater, or NaN.
func laterMax(best simd.Float32s, arg simd.Int32s, v simd.Float32s, jv simd.Int32s) (simd.Float32s, simd.Int32s) {
	m := v.Greater(best).Or(v.NotEqual(v))
	return v.IfElse(m, best), jv.IfElse(m, arg)
}
