//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestAVX512AsmInUse proves that the products run the assembly kernels on every amd64 CPU with
// AVX-512, where the portable vectors are 16 lanes wide (and only there: the assembly assumes
// B's panels are 32 columns wide and a sparse block 128).
func TestAVX512AsmInUse(t *testing.T) {
	if want := archsimd.X86.AVX512() && Lanes() == 16; useAVX512Asm != want {
		t.Fatalf("useAVX512Asm = %v with AVX-512 %v and %d lanes", useAVX512Asm, archsimd.X86.AVX512(), Lanes())
	}
	t.Logf("useAVX512Asm = %v", useAVX512Asm)
}

// TestTileAsmSameBits proves that tile6x2AVX512 gives micro6x2's and micro6x2T's bits, with
// special values (zeros of both signs, subnormals, infinities, NaN) among the inputs, for any
// number of steps, either stride layout, and with and without accumulation; and that it writes
// nothing of C but its 6 rows of 32 columns.
func TestTileAsmSameBits(t *testing.T) {
	if !useAVX512Asm {
		t.Skip("no AVX-512 here: the assembly tile is not used")
	}
	const nr = 32
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kc := range []int{1, 2, 3, 7, 64, 255, 256} {
		for _, ldc := range []int{nr, nr + 5, 3 * nr} {
			for _, accumulate := range []bool{false, true} {
				lda := 6 + rng.IntN(4)
				byRows := oddFloats(rng, 6*kc)    // (r, kk) at r*kc + kk
				byCols := make([]float32, kc*lda) // (r, kk) at kk*lda + r
				var rows [gemmMR][]float32
				for r := range 6 {
					rows[r] = byRows[r*kc : (r+1)*kc]
					for kk := range kc {
						byCols[kk*lda+r] = byRows[r*kc+kk]
					}
				}
				pb := oddFloats(rng, kc*nr)
				c0 := oddFloats(rng, 6*ldc+3)
				want := append([]float32(nil), c0...)
				micro6x2(&rows, pb, kc, want, ldc, accumulate)
				wantT := append([]float32(nil), c0...)
				micro6x2T(byCols, lda, pb, kc, wantT, ldc, accumulate)
				got := append([]float32(nil), c0...)
				tile6x2(byRows, kc, 1, pb, kc, got, ldc, accumulate)
				gotT := append([]float32(nil), c0...)
				tile6x2(byCols, 1, lda, pb, kc, gotT, ldc, accumulate)
				for i := range c0 {
					for _, p := range [][3][]float32{{got, want, wantT}, {gotT, want, wantT}} {
						g, w, wt := p[0][i], p[1][i], p[2][i]
						if !sameFloat(g, w) || !sameFloat(g, wt) {
							t.Fatalf("kc%d ldc%d acc%v: c[%d] = %v, micro6x2 %v, micro6x2T %v", kc, ldc, accumulate, i, g, w, wt)
						}
					}
				}
			}
		}
	}
}

// TestAVX512AsmSameBits proves that MatMul gives the same bits with the assembly kernels as with
// the Go ones, on dense products around the tile and block edges and on Winograd's sparse
// transforms, with special values in A and B, A by rows and by columns, and B behind an offset.
func TestAVX512AsmSameBits(t *testing.T) {
	if !useAVX512Asm {
		t.Skip("no AVX-512 here: the assembly kernels are not used")
	}
	defer func() { useAVX512Asm = true }()
	rng := rand.New(rand.NewPCG(9, 10))
	finite := func(v []float32) []float32 {
		for i := range v {
			if v[i] != v[i] || math.IsInf(float64(v[i]), 0) {
				v[i] = 0.5 // NaN payloads and Inf−Inf need not match: the sparse path skips zeros
			}
		}
		return v
	}
	type shape struct {
		m, k, n int
		sparse  bool
	}
	var shapes []shape
	for _, m := range []int{1, 6, 7, 13, 36} {
		for _, k := range []int{1, 9, 256, 300} {
			for _, n := range []int{5, 32, 33, 100} {
				shapes = append(shapes, shape{m, k, n, false})
			}
		}
	}
	for _, mk := range [][2]int{{36, 36}, {16, 36}, {36, 16}, {4, 6}, {6, 4}, {16, 16}} {
		for _, n := range []int{128, 129, 1000} {
			shapes = append(shapes, shape{mk[0], mk[1], n, true})
		}
	}
	for _, s := range shapes {
		vals := finite(oddFloats(rng, s.m*s.k))
		if s.sparse {
			for i := range vals {
				if rng.IntN(3) != 0 {
					vals[i] = 0
				}
			}
		}
		aRow := Matrix{Data: vals, RowStride: s.k, ColStride: 1}
		aCol := Matrix{Data: make([]float32, s.m*s.k), RowStride: 1, ColStride: s.m}
		for i := range s.m {
			for kk := range s.k {
				aCol.Data[kk*s.m+i] = vals[i*s.k+kk]
			}
		}
		off := rng.IntN(4)
		b := Matrix{Data: finite(oddFloats(rng, off+s.k*s.n)), Offset: off, RowStride: s.n, ColStride: 1}
		if s.sparse && sparsify(aRow, b, s.m, s.k, s.n) == nil {
			t.Fatalf("%v: the sparse path is not taken", s)
		}
		for _, a := range []Matrix{aRow, aCol} {
			name := fmt.Sprintf("%dx%dx%d, A row stride %d", s.m, s.k, s.n, a.RowStride)
			useAVX512Asm = false
			want := make([]float32, s.m*s.n)
			MatMul(want, a, b, s.m, s.k, s.n, 1)
			useAVX512Asm = true
			got := make([]float32, s.m*s.n)
			MatMul(got, a, b, s.m, s.k, s.n, 2)
			for i := range got {
				if !sameFloat(got[i], want[i]) {
					t.Fatalf("%s: c[%d] = %v with the assembly, %v without", name, i, got[i], want[i])
				}
			}
		}
	}
}
