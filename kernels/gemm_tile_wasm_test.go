//go:build goexperiment.simd

package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestTile4AsmSameBits proves that the wasm tile in assembly (tile4, tile4T) gives micro4x2's and
// micro4x2T's bits, with special values (zeros of both signs, subnormals, infinities, NaN) among
// the inputs, for any number of steps, either layout of A, and with and without accumulation; and
// that it writes nothing of C but its 4 rows of 8 columns.
func TestTile4AsmSameBits(t *testing.T) {
	nr := 2 * Lanes()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, kc := range []int{1, 2, 3, 7, 64, 255, 256} {
		for _, ldc := range []int{nr, nr + 5, 3 * nr} {
			for _, accumulate := range []bool{false, true} {
				lda := 4 + rng.IntN(4)
				byRows := oddFloats(rng, 4*kc)    // (r, kk) at r*kc + kk
				byCols := make([]float32, kc*lda) // (r, kk) at kk*lda + r
				var rows [gemmMR][]float32
				for r := range 4 {
					rows[r] = byRows[r*kc : (r+1)*kc]
					for kk := range kc {
						byCols[kk*lda+r] = byRows[r*kc+kk]
					}
				}
				pb := oddFloats(rng, kc*nr)
				c0 := oddFloats(rng, 4*ldc+3)
				want := append([]float32(nil), c0...)
				micro4x2(&rows, pb, kc, want, ldc, accumulate)
				wantT := append([]float32(nil), c0...)
				micro4x2T(byCols, lda, pb, kc, wantT, ldc, accumulate)
				got := append([]float32(nil), c0...)
				tile4(&rows, pb, kc, got, ldc, accumulate)
				gotT := append([]float32(nil), c0...)
				tile4T(byCols, lda, pb, kc, gotT, ldc, accumulate)
				for i := range c0 {
					for _, p := range [][3][]float32{{got, want, wantT}, {gotT, want, wantT}} {
						g, w, wt := p[0][i], p[1][i], p[2][i]
						if !sameFloat(g, w) || !sameFloat(g, wt) {
							t.Fatalf("kc%d ldc%d acc%v: c[%d] = %v, micro4x2 %v, micro4x2T %v", kc, ldc, accumulate, i, g, w, wt)
						}
					}
				}
			}
		}
	}
}
