//go:build goexperiment.simd

package kernels

import (
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestTileAsmInUse proves that MatMul's register tile is the assembly one on every amd64 CPU
// with AVX-512, where the portable vectors are 16 lanes wide (and only there: the assembly
// assumes B's panels are 32 columns wide).
func TestTileAsmInUse(t *testing.T) {
	if want := archsimd.X86.AVX512() && Lanes() == 16; tileAsm != want {
		t.Fatalf("tileAsm = %v with AVX-512 %v and %d lanes", tileAsm, archsimd.X86.AVX512(), Lanes())
	}
	t.Logf("tileAsm = %v", tileAsm)
}

// TestTileAsmSameBits proves that tile6x2AVX512 gives micro6x2's and micro6x2T's bits, with
// special values (zeros of both signs, subnormals, infinities, NaN) among the inputs, for any
// number of steps, either stride layout, and with and without accumulation; and that it writes
// nothing of C but its 6 rows of 32 columns.
func TestTileAsmSameBits(t *testing.T) {
	if !tileAsm {
		t.Skip("no AVX-512 here: the assembly tile is not used")
	}
	const nr = 32
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kc := range []int{1, 2, 3, 7, 64, 255, 256} {
		for _, ldc := range []int{nr, nr + 5, 3 * nr} {
			for _, accumulate := range []bool{false, true} {
				lda := 6 + rng.IntN(4)
				byRows := oddFloats(rng, 6*kc)     // (r, kk) at r*kc + kk
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
