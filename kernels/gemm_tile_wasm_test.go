//go:build goexperiment.simd

package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestTile4AsmSameBits proves that the wasm tile in assembly (tile4), on A spread by rows
// (spreadRows4) and by columns (spreadCols4), gives micro4x2's and micro4x2T's bits, with special
// values among the inputs, for any number of steps, and with and without accumulation; and that
// it writes nothing of C but its 4 rows of 8 columns (tileSameBits).
func TestTile4AsmSameBits(t *testing.T) {
	if gemmMR != 4 {
		t.Skip("the 4-row tile is wasm's")
	}
	tileSameBits(t, 9, 4, 2*Lanes(), func(c tileCase) (got, gotT, want, wantT []float32) {
		want, wantT, got, gotT = clone(c.c0), clone(c.c0), clone(c.c0), clone(c.c0)
		micro4x2(&c.rows, c.pb, c.kc, want, c.ldc, c.accumulate)
		micro4x2T(c.byCols, c.lda, c.pb, c.kc, wantT, c.ldc, c.accumulate)
		spread := oddFloats(rand.New(rand.NewPCG(1, 2)), 16*c.kc+5) // what spreading leaves alone must not matter
		spreadRows4(spread, &c.rows, c.kc)
		tile4(spread, c.pb, c.kc, got, c.ldc, c.accumulate, 1, 0)
		spreadCols4(spread, c.byCols, c.lda, c.kc)
		tile4(spread, c.pb, c.kc, gotT, c.ldc, c.accumulate, 1, 0)
		return got, gotT, want, wantT
	})
}

// TestTile4Panels proves that tile4 on several panels at once gives, bit for bit, what it gives
// one panel at a time, and writes nothing else of C.
func TestTile4Panels(t *testing.T) {
	if gemmMR != 4 {
		t.Skip("the 4-row tile is wasm's")
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kc := range []int{1, 2, 7, gemmKC} {
		for _, panels := range []int{1, 2, 5} {
			for _, accumulate := range []bool{false, true} {
				pstride, ldc := 8*kc+3, 8*panels+5
				spread := oddFloats(rng, 16*kc)
				pb := oddFloats(rng, (panels-1)*pstride+8*kc)
				c0 := oddFloats(rng, 4*ldc)
				got, want := clone(c0), clone(c0)
				tile4(spread, pb, kc, got, ldc, accumulate, panels, pstride)
				for p := range panels {
					tile4(spread, pb[p*pstride:], kc, want[8*p:], ldc, accumulate, 1, 0)
				}
				for i := range got {
					if !sameFloat(got[i], want[i]) {
						t.Fatalf("kc %d, %d panels, accumulate %v: c[%d] = %v, want %v", kc, panels, accumulate, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestSparseWasmAsmSameBits proves that Winograd's sparse products give the same bits with the
// sparse block in assembly (sparseBlockWasm) as with sparseBlock's Go loop, which the products
// take by default in wasm.
func TestSparseWasmAsmSameBits(t *testing.T) {
	if !useWasmSparseAsm {
		t.Fatal("the sparse block in assembly is not in use")
	}
	matMulAsmSameBits(t, rand.New(rand.NewPCG(11, 12)), false, &useWasmSparseAsm)
}
