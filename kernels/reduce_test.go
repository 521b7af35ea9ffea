//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// rowShapes are the [outer, r, inner] views the row kernels are tested on: inner of 1 (the
// scalar path) and around one and two vectors, r of 1 (a copy) and more.
func rowShapes() [][3]int {
	l := Lanes()
	var s [][3]int
	for _, outer := range []int{1, 3} {
		for _, r := range []int{1, 2, 7} {
			for _, inner := range []int{1, 2, l - 1, l, l + 1, 2*l + 3, 5*l + 2, 9*l - 1} {
				s = append(s, [3]int{outer, r, inner})
			}
		}
	}
	// Rows too many for one chunk of work, cut into blocks of columns with workers > 1 (sumBlock).
	return append(s, [3]int{2, 1000, 8*l + 1})
}

// TestSumRows proves that SumRows32 and SumRows64 equal, bit for bit, a sum from +0 over j in
// order, for every output element: simplego's order, so sums of -0 alone are +0.
func TestSumRows(t *testing.T) {
	forEachSplit(t, func(t *testing.T, workers int) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, s := range rowShapes() {
			outer, r, inner := s[0], s[1], s[2]
			src32 := oddFloats(rng, outer*r*inner)
			src64 := make([]float64, len(src32))
			for i, v := range src32 {
				src64[i] = float64(v) * (1 + 1e-9*rng.Float64())
			}
			if rng.IntN(2) == 0 { // a column of -0 alone
				for j := range r {
					src32[j*inner] = float32(math.Copysign(0, -1))
					src64[j*inner] = math.Copysign(0, -1)
				}
			}
			dst32, dst64 := make([]float32, outer*inner+1), make([]float64, outer*inner+1)
			dst32[outer*inner], dst64[outer*inner] = 42, 42
			SumRows32(dst32, src32, outer, r, inner, workers)
			SumRows64(dst64, src64, outer, r, inner, workers)
			name := fmt.Sprintf("outer%d_r%d_inner%d", outer, r, inner)
			if dst32[outer*inner] != 42 || dst64[outer*inner] != 42 {
				t.Fatalf("%s: wrote past outer*inner", name)
			}
			for o := range outer {
				for i := range inner {
					var w32 float32
					var w64 float64
					for j := range r {
						w32 += src32[(o*r+j)*inner+i]
						w64 += src64[(o*r+j)*inner+i]
					}
					if g := dst32[o*inner+i]; !sameFloat(g, w32) {
						t.Fatalf("%s: float32 [%d,%d] = %v, want %v", name, o, i, g, w32)
					}
					if g := dst64[o*inner+i]; !sameFloat(g, w64) {
						t.Fatalf("%s: float64 [%d,%d] = %v, want %v", name, o, i, g, w64)
					}
				}
			}
		}
	})
}

// TestGatherAddRows proves that GatherRows copies row clamp(idx[i], 0, rows-1) into row i, and
// that AddRows32 adds row i into row idx[i] in order, skipping indices outside [0, rows), on
// row widths of none and around the vector width, and with repeated indices.
func TestGatherAddRows(t *testing.T) {
	forEachSplit(t, func(t *testing.T, workers int) {
		rng := rand.New(rand.NewPCG(35, 36))
		l := Lanes()
		for _, rows := range []int{1, 5} {
			for _, inner := range []int{0, 1, 3, l - 1, l, l + 1, 2 * l, 2*l + 3, 8 * l} {
				const n = 20
				idx := make([]int32, n)
				for i := range idx {
					idx[i] = int32(rng.IntN(rows+4) - 2)
				}
				name := fmt.Sprintf("rows%d_inner%d", rows, inner)

				src := oddFloats(rng, rows*inner)
				got := make([]float32, n*inner)
				GatherRows(got, src, rows, idx, inner, workers)
				ints := make([]int32, rows*inner)
				for i := range ints {
					ints[i] = rng.Int32()
				}
				gotInts := make([]int32, n*inner)
				GatherRows(gotInts, ints, rows, idx, inner, workers)
				for i, t0 := range idx {
					r := min(max(int(t0), 0), rows-1)
					for j := range inner {
						if !sameFloat(got[i*inner+j], src[r*inner+j]) || gotInts[i*inner+j] != ints[r*inner+j] {
							t.Fatalf("%s: GatherRows row %d (index %d) col %d wrong", name, i, t0, j)
						}
					}
				}

				base := oddFloats(rng, rows*inner)
				upd := oddFloats(rng, n*inner)
				dst := append([]float32(nil), base...)
				AddRows32(dst, rows, upd, idx, inner, workers)
				want := append([]float32(nil), base...)
				for i, t0 := range idx {
					if t0 < 0 || int(t0) >= rows {
						continue
					}
					for j := range inner {
						want[int(t0)*inner+j] += upd[i*inner+j]
					}
				}
				for i := range want {
					if !sameFloat(dst[i], want[i]) {
						t.Fatalf("%s: AddRows32 [%d] = %v, want %v", name, i, dst[i], want[i])
					}
				}
			}
		}
	})
}

// BenchmarkSumRows times the network's sums over rows, one worker's of a team of two (32 images of
// a batch of 64), by [outer, r, inner]: the normalisations' per-image sums, along each row of an
// image and then over its rows' sums (model.imageMoments), and a virtual shard's bias gradient.
func BenchmarkSumRows(b *testing.B) {
	for _, s := range [][3]int{{448, 14, 32}, {224, 7, 128}, {32, 196, 32}, {32, 49, 128}, {2, 3136, 32}, {2, 784, 128}} {
		outer, r, inner := s[0], s[1], s[2]
		src := oddFloats(rand.New(rand.NewPCG(33, 34)), outer*r*inner)
		dst := make([]float32, outer*inner)
		b.Run(fmt.Sprintf("%dx%dx%d", outer, r, inner), func(b *testing.B) {
			for b.Loop() {
				SumRows32(dst, src, outer, r, inner, 1)
			}
			b.ReportMetric(float64(len(src))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}

// BenchmarkGatherRows times conv2's im2col on one worker's 32 images of a batch of 64 (3×3 taps
// of 7×7 positions of 32 channels, a pad row last) and the same of 64 channels, and conv1's (3×3
// taps at stride 2 of the 28×28 images' one channel: rows of one value), in rows a second.
func BenchmarkGatherRows(b *testing.B) {
	for _, inner := range []int{32, 64, 1} {
		const images = 32
		side, out, stride := 7, 7, 1
		if inner == 1 {
			side, out, stride = 28, 14, 2
		}
		rows := images*side*side + 1
		src := oddFloats(rand.New(rand.NewPCG(37, 38)), rows*inner)
		idx := make([]int32, 0, images*out*out*9)
		for img := range images {
			for y := range out {
				for x := range out {
					for ky := -1; ky <= 1; ky++ {
						for kx := -1; kx <= 1; kx++ {
							r := int32(rows - 1) // the pad row
							if yy, xx := y*stride+ky, x*stride+kx; yy >= 0 && yy < side && xx >= 0 && xx < side {
								r = int32((img*side+yy)*side + xx)
							}
							idx = append(idx, r)
						}
					}
				}
			}
		}
		dst := make([]float32, len(idx)*inner)
		b.Run(fmt.Sprintf("%dx%d", len(idx), inner), func(b *testing.B) {
			for b.Loop() {
				GatherRows(dst, src, rows, idx, inner, 1)
			}
			b.ReportMetric(float64(len(idx))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
}
