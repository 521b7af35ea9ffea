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
	tileSameBits(t, 7, 6, 32, func(c tileCase) (got, gotT, want, wantT []float32) {
		want, wantT, got, gotT = clone(c.c0), clone(c.c0), clone(c.c0), clone(c.c0)
		micro6x2(&c.rows, c.pb, c.kc, want, c.ldc, c.accumulate)
		micro6x2T(c.byCols, c.lda, c.pb, c.kc, wantT, c.ldc, c.accumulate)
		tile6x2(c.byRows, c.kc, 1, c.pb, c.kc, got, c.ldc, c.accumulate)
		tile6x2(c.byCols, 1, c.lda, c.pb, c.kc, gotT, c.ldc, c.accumulate)
		return got, gotT, want, wantT
	})
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
