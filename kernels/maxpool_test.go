//go:build goexperiment.simd

package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/mnist-trainer/mnist/kernels"
)

// poolCase is a max-pool of images [B,H,W,C] with square windows.
type poolCase struct {
	dims            [4]int
	window, stride  int
	padH, padW      [2]int // (before, after) rows and columns
	name            string
	specialsAndTies bool
}

// poolCases cover the model's pools (3×3 at stride 2, TF's SAME padding), pools without padding
// or overlap, a window larger than the image, padding as large as the window (windows with no
// tap inside), and channel counts around the vector widths (4, 8 or 16 lanes) and past four
// vectors.
func poolCases() []poolCase {
	var cases []poolCase
	for _, c := range []int{1, 3, 4, 16, 17, 32, 33, 48, 5*kernels.Lanes() + 3} { // 16, 32 and 48: wasm's assembly; the last: four vectors at once, one, and a tail
		for _, g := range []struct {
			b, h, w, window, stride int
			padH, padW              [2]int
		}{
			{2, 7, 7, 3, 2, [2]int{1, 1}, [2]int{1, 1}},   // SAME, odd side: 7 → 4
			{2, 14, 14, 3, 2, [2]int{0, 1}, [2]int{0, 1}}, // SAME, even side: 14 → 7
			{1, 6, 5, 2, 2, [2]int{}, [2]int{}},
			{3, 5, 6, 3, 1, [2]int{1, 1}, [2]int{1, 1}},
			{1, 2, 3, 4, 3, [2]int{1, 2}, [2]int{0, 2}},
			{1, 3, 3, 2, 1, [2]int{2, 0}, [2]int{0, 2}}, // whole windows in the padding
		} {
			for _, special := range []bool{false, true} {
				cases = append(cases, poolCase{dims: [4]int{g.b, g.h, g.w, c}, window: g.window, stride: g.stride,
					padH: g.padH, padW: g.padW, specialsAndTies: special,
					name: fmt.Sprintf("%dx%dx%dx%d/w%d/s%d/p%v%v/special=%v", g.b, g.h, g.w, c, g.window, g.stride, g.padH, g.padW, special)})
			}
		}
	}
	return cases
}

// pool builds the case's MaxPool of x.
func (c poolCase) pool(x *graph.Node) *graph.Node {
	return graph.MaxPool(x).Window(c.window).Strides(c.stride).PaddingPerDim([][2]int{c.padH, c.padW}).Done()
}

// input returns the case's images: random values, or few distinct ones (ties everywhere) with
// signed zeros, infinities and NaNs among them.
func (c poolCase) input(rng *rand.Rand) ([]float32, *tensors.Tensor) {
	v := make([]float32, size(c.dims[:]))
	for i := range v {
		switch r := rng.IntN(24); {
		case !c.specialsAndTies:
			v[i] = rng.Float32()*4 - 2
		case r == 0:
			v[i] = float32(math.NaN())
		case r == 1:
			v[i] = float32(math.Inf(-1 + 2*rng.IntN(2)))
		case r < 6:
			v[i] = float32(math.Copysign(0, float64(1-2*rng.IntN(2))))
		case r < 12:
			v[i] = float32(math.Inf(-1))
		default:
			v[i] = float32(rng.IntN(3) - 1)
		}
	}
	return v, tensors.FromFlatDataAndDimensions(v, c.dims[:]...)
}

// TestMaxPoolMatchesGeneric proves that the float32 max-pool of images gives simplego's own
// ReduceWindow results bit for bit, signed zeros, infinities, NaNs and windows with nothing but
// -Inf or padding included; and that a float64 pool and a sum pool go to simplego.
func TestMaxPoolMatchesGeneric(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(23, 24))
	for _, c := range poolCases() {
		_, x := c.input(rng)
		got, want := runBoth(t, backend, c.name, familyPool, true, func(in []*graph.Node) *graph.Node { return c.pool(in[0]) }, x)
		requireExact(t, c.name, got, want)
	}
	c := poolCases()[0]
	got, want := runBoth(t, backend, "float64", familyPool, false, func(in []*graph.Node) *graph.Node { return c.pool(in[0]) },
		randF64Tensor(rng, true, c.dims[:]...))
	requireExact(t, "float64", got, want)
	got, want = runBoth(t, backend, "sum", familyPool, false, func(in []*graph.Node) *graph.Node {
		return graph.SumPool(in[0]).Window(3).Strides(2).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
	}, randF32Tensor(rng, false, c.dims[:]...))
	requireExact(t, "sum", got, want)
}

// TestMaxPoolGradientMatchesReference proves that the gradient of the float32 max-pool of images
// (SelectAndScatterMax, which simplego lacks and kernels/_simplego/selectandscatter.go adds) gives
// the generic executor's results and a reference written here bit for bit: each window's
// gradient goes to its first maximum among the taps inside the image (a NaN takes over, the last
// one winning, as in simplego's ArgMax), and those that land on one element are added in window
// order. A float64 gradient goes to the generic executor.
func TestMaxPoolGradientMatchesReference(t *testing.T) {
	backend := defaultBackend(t)
	rng := rand.New(rand.NewPCG(25, 26))
	for _, c := range poolCases() {
		xv, x := c.input(rng)
		b, h, w, ch := c.dims[0], c.dims[1], c.dims[2], c.dims[3]
		oh := (h+c.padH[0]+c.padH[1]-c.window)/c.stride + 1
		ow := (w+c.padW[0]+c.padW[1]-c.window)/c.stride + 1
		gv := randF32(rng, b*oh*ow*ch, false)
		g := tensors.FromFlatDataAndDimensions(gv, b, oh, ow, ch)
		grad := func(in []*graph.Node) *graph.Node {
			return graph.Gradient(graph.ReduceAllSum(graph.Mul(c.pool(in[0]), in[1])), in[0])[0]
		}
		got, generic := runBoth(t, backend, c.name, familyPool, true, grad, x, g)
		requireExact(t, c.name, got, generic)

		want := make([]float32, len(xv))
		for n := range b {
			for oy := range oh {
				for ox := range ow {
					for k := range ch {
						best := -1
						for ky := range c.window {
							for kx := range c.window {
								y, x := oy*c.stride-c.padH[0]+ky, ox*c.stride-c.padW[0]+kx
								if y < 0 || y >= h || x < 0 || x >= w {
									continue
								}
								i := ((n*h+y)*w+x)*ch + k
								if best < 0 || xv[i] > xv[best] || xv[i] != xv[i] {
									best = i
								}
							}
						}
						if best >= 0 {
							want[best] += gv[((n*oh+oy)*ow+ox)*ch+k]
						}
					}
				}
			}
		}
		exactSlices(t, c.name+"/reference", tensors.MustCopyFlatData[float32](got), want,
			func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })
	}
	c := poolCases()[0]
	x64 := randF64Tensor(rng, false, c.dims[:]...)
	pooled := graph.MustNewExec(backend, func(x *graph.Node) *graph.Node { return c.pool(x) })
	defer pooled.Finalize()
	out := pooled.MustExec(x64)[0]
	got, want := runBoth(t, backend, "float64", familyPool, false, func(in []*graph.Node) *graph.Node {
		return graph.Gradient(graph.ReduceAllSum(graph.Mul(c.pool(in[0]), in[1])), in[0])[0]
	}, x64, randF64Tensor(rng, false, out.Shape().Dimensions...))
	requireExact(t, "float64", got, want)
}

// TestMaxPoolEmptyImages: images of no pixel, whose windows lie wholly in the padding, pool to
// -Inf (simplego's start) and take no gradient, on every path (wasm's assembly takes 16 channels).
func TestMaxPoolEmptyImages(t *testing.T) {
	for _, c := range []int{3, 16} {
		p := kernels.Pool{Batch: 2, Channels: c, WindowH: 1, WindowW: 1, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 1, OutW: 1}
		dst := make([]float32, 2*c)
		kernels.MaxPool32(dst, nil, p, 1)
		for i, v := range dst {
			if !math.IsInf(float64(v), -1) {
				t.Fatalf("%d channels: pool[%d] = %v, want -Inf", c, i, v)
			}
		}
		kernels.SelectAndScatterMax32(nil, nil, make([]float32, 2*c), p, 1)
	}
}

// BenchmarkMaxPool times the network's two pools, on one worker's 32 images of a batch of 64
// (3×3 windows at stride 2, TF's SAME padding), forward and back, in input elements a second.
func BenchmarkMaxPool(b *testing.B) {
	for _, s := range []struct {
		side, c, out, padTop int
	}{{14, 32, 7, 0}, {7, 128, 4, 1}} {
		p := kernels.Pool{Batch: 32, Height: s.side, Width: s.side, Channels: s.c, WindowH: 3, WindowW: 3,
			StrideH: 2, StrideW: 2, PadTop: s.padTop, PadLeft: s.padTop, OutH: s.out, OutW: s.out}
		n := p.Batch * s.side * s.side * s.c
		rng := rand.New(rand.NewPCG(27, 28))
		x, grad := randF32(rng, n, false), randF32(rng, p.Batch*s.out*s.out*s.c, false)
		pooled, dx := make([]float32, len(grad)), make([]float32, n)
		b.Run(fmt.Sprintf("%dx%dx%d/forward", s.side, s.side, s.c), func(b *testing.B) {
			for b.Loop() {
				kernels.MaxPool32(pooled, x, p, 1)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
		b.Run(fmt.Sprintf("%dx%dx%d/gradient", s.side, s.side, s.c), func(b *testing.B) {
			for b.Loop() {
				kernels.SelectAndScatterMax32(dx, x, grad, p, 1)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
