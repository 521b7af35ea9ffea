//go:build goexperiment.simd

package kernels

import (
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
// the Go ones (matMulAsmSameBits), on dense products and Winograd's sparse transforms.
func TestAVX512AsmSameBits(t *testing.T) {
	if !useAVX512Asm {
		t.Skip("no AVX-512 here: the assembly kernels are not used")
	}
	matMulAsmSameBits(t, rand.New(rand.NewPCG(9, 10)), true, &useAVX512Asm)
}
