//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randMatrix returns a rows×cols matrix with random values, stored row-major or, if transposed,
// column-major, behind a random offset.
func randMatrix(rng *rand.Rand, rows, cols int, transposed bool) (Matrix, [][]float64) {
	off := rng.IntN(5)
	data := make([]float32, off+rows*cols)
	ref := make([][]float64, rows)
	m := Matrix{Data: data, Offset: off, RowStride: cols, ColStride: 1}
	if transposed {
		m.RowStride, m.ColStride = 1, rows
	}
	for i := range rows {
		ref[i] = make([]float64, cols)
		for j := range cols {
			v := float32(rng.NormFloat64())
			data[off+i*m.RowStride+j*m.ColStride] = v
			ref[i][j] = float64(v)
		}
	}
	return m, ref
}

// TestMatMul compares f32-gemm/4x2v with a float64 triple loop on sizes around the tile and
// block edges (4 rows, 2 vectors of columns, 256 steps of k) and on every operand layout.
func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := Lanes()
	sizes := []int{1, 2, 3, 4, 5, 7, 2*l - 1, 2 * l, 2*l + 1, 33}
	ks := []int{0, 1, 3, 8, 255, 256, 257, 600}
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range ks {
				for layout := range 4 {
					for _, workers := range []int{1, 3} {
						ta, tb := layout&1 != 0, layout&2 != 0
						name := fmt.Sprintf("m%d_k%d_n%d_ta%v_tb%v_w%d", m, k, n, ta, tb, workers)
						a, ra := randMatrix(rng, m, k, ta)
						b, rb := randMatrix(rng, k, n, tb)
						c := make([]float32, m*n+3)
						for i := range c {
							c[i] = float32(math.NaN()) // MatMul must overwrite, not accumulate
						}
						c[m*n] = 7
						MatMul(c, a, b, m, k, n, workers)
						if c[m*n] != 7 {
							t.Fatalf("%s: wrote past m*n", name)
						}
						for i := range m {
							for j := range n {
								want := 0.0
								for kk := range k {
									want += ra[i][kk] * rb[kk][j]
								}
								got := float64(c[i*n+j])
								if math.Abs(got-want) > 1e-4*(1+math.Sqrt(float64(k))) {
									t.Fatalf("%s: c[%d,%d] = %g, want %g", name, i, j, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestMatMulLayoutsSameBits proves that each element of C gets the same bits whatever the layout
// of A (rows contiguous, as the forward products; or columns contiguous, the Aᵀ of a weight
// gradient, which the native tile reads in place) and of B, and however many workers share it:
// the sum over k runs in the same order in every case, which the model's fixed order relies on.
func TestMatMulLayoutsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := Lanes()
	for _, m := range []int{1, 5, 6, 7, 13, 36} {
		for _, n := range []int{1, 2*l - 1, 2 * l, 2*l + 5} {
			for _, k := range []int{1, 7, 256, 300} {
				vals := oddFloats(rng, m*k)
				for i := range vals {
					if vals[i] != vals[i] || math.IsInf(float64(vals[i]), 0) {
						vals[i] = 0.5 // keep the sums finite: NaN payloads need not match
					}
				}
				aRow := Matrix{Data: vals, RowStride: k, ColStride: 1}
				colMajor := make([]float32, m*k+3)
				for i := range m {
					for kk := range k {
						colMajor[3+kk*m+i] = vals[i*k+kk]
					}
				}
				aCol := Matrix{Data: colMajor, Offset: 3, RowStride: 1, ColStride: m}
				b, _ := randMatrix(rng, k, n, rng.IntN(2) == 0)
				want := make([]float32, m*n)
				MatMul(want, aRow, b, m, k, n, 1)
				for _, workers := range []int{1, 3} {
					got := make([]float32, m*n)
					MatMul(got, aCol, b, m, k, n, workers)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("m%d_k%d_n%d_w%d: c[%d] = %v with A by columns, %v by rows", m, k, n, workers, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// BenchmarkMatMul measures the network's three largest products, in GFLOP/s.
func BenchmarkMatMul(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, k, n int
	}{
		{"conv2_3136x288x64", 3136, 288, 64},
		{"conv3_3136x576x128", 3136, 576, 128},
		{"dense1_64x2048x128", 64, 2048, 128},
		{"conv3_dW_T_576x784x128", 576, 784, 128}, // Aᵀ·dY over a virtual shard's rows: A by columns
		{"conv2_dW_T_288x784x64", 288, 784, 64},
	} {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, _ := randMatrix(rng, s.m, s.k, strings.Contains(s.name, "_T_"))
			bm, _ := randMatrix(rng, s.k, s.n, false)
			c := make([]float32, s.m*s.n)
			for b.Loop() {
				MatMul(c, a, bm, s.m, s.k, s.n, 1)
			}
			b.ReportMetric(2*float64(s.m*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestMatMulSparseSameBits checks that a small, mostly zero A (Winograd's transforms) gets the
// same bits from the path that skips its zeros as from the register tile, for A read by rows or
// by columns (a transform's transpose, in the gradients), B's width around the block and any
// split among workers; and that such products do take that path.
func TestMatMulSparseSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	l := Lanes()
	// Winograd's transforms of F(2×2, 3×3) and F(4×4, 3×3), Kronecker squares and factors, and
	// their transposes, and odd sizes.
	for _, mk := range [][2]int{{16, 16}, {16, 9}, {9, 16}, {4, 16}, {16, 4}, {36, 36}, {36, 9}, {9, 36}, {16, 36}, {36, 16}, {6, 6}, {4, 6}, {6, 4}, {3, 5}} {
		m, k := mk[0], mk[1]
		for _, n := range []int{8 * l, 8*l + 1, 24*l - 3, 1000} {
			// About a third of A non-zero, in 0, ±1, ±½ and arbitrary values.
			vals := make([]float32, m*k)
			for i := range vals {
				switch rng.IntN(6) {
				case 0:
					vals[i] = 1
				case 1:
					vals[i] = -0.5
				case 2:
					vals[i] = float32(rng.NormFloat64())
				}
			}
			aRow := Matrix{Data: vals, RowStride: k, ColStride: 1}
			if sparsify(aRow, Matrix{ColStride: 1}, m, k, n) == nil {
				continue // too dense by chance: nothing to compare
			}
			aCol := Matrix{Data: make([]float32, m*k), RowStride: 1, ColStride: m}
			for i := range m {
				for kk := range k {
					aCol.Data[kk*m+i] = vals[i*k+kk]
				}
			}
			b, _ := randMatrix(rng, k, n, false)
			for i := range b.Data {
				if rng.IntN(8) == 0 {
					b.Data[i] = 0
				}
			}
			want := make([]float32, m*n)
			matMulTiled(want, aRow, b, m, k, n, 1)
			for _, a := range []Matrix{aRow, aCol} {
				for _, workers := range []int{1, 3} {
					got := make([]float32, m*n)
					for i := range got {
						got[i] = float32(math.NaN()) // MatMul must overwrite every element
					}
					MatMul(got, a, b, m, k, n, workers)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%dx%d·%dx%d (A row stride %d), %d workers: c[%d] = %v, the register tile gives %v",
								m, k, k, n, a.RowStride, workers, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
	// A dense A of the same sizes keeps the register tile, as does one too large.
	for _, side := range []int{16, 36, 37} {
		dense := Matrix{Data: oddFloats(rng, side*side), RowStride: side, ColStride: 1}
		for i, v := range dense.Data {
			if v == 0 || v != v {
				dense.Data[i] = 1
			}
		}
		if side == 37 {
			for i := range dense.Data {
				if i%3 != 0 {
					dense.Data[i] = 0 // sparse, but larger than any transform
				}
			}
		}
		if sparsify(dense, Matrix{ColStride: 1}, side, side, 1000) != nil {
			t.Errorf("a %d×%d A (%s) took the sparse path", side, side, map[bool]string{true: "a third non-zero", false: "dense"}[side == 37])
		}
	}
}

// BenchmarkMatMulSparse measures Winograd's input transform for a batch of 64 at conv2 (16×16 by
// 16 × 1,024 tiles·32 channels) through each path, in GFLOP/s of the dense product.
func BenchmarkMatMulSparse(b *testing.B) {
	bt := [4][4]float32{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	a := make([]float32, 0, 256)
	for i := range 4 {
		for j := range 4 {
			for p := range 4 {
				for q := range 4 {
					a = append(a, bt[i][p]*bt[j][q])
				}
			}
		}
	}
	const m, k, n = 16, 16, 1024 * 32
	rng := rand.New(rand.NewPCG(7, 8))
	bm, _ := randMatrix(rng, k, n, false)
	am := Matrix{Data: a, RowStride: k, ColStride: 1}
	c := make([]float32, m*n)
	for _, path := range []struct {
		name string
		mul  func()
	}{
		{"sparse", func() { MatMul(c, am, bm, m, k, n, 1) }},
		{"tiled", func() { matMulTiled(c, am, bm, m, k, n, 1) }},
	} {
		b.Run(path.name, func(b *testing.B) {
			for b.Loop() {
				path.mul()
			}
			b.ReportMetric(2*m*k*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMatMulBT measures products whose B is stored by columns, which MatMul packs element
// by element: the dense layers' input gradients, dX = dY·Wᵀ (dense1 at a worker's 32 images).
func BenchmarkMatMulBT(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, k, n int
	}{{"dense1_dX_32x128x2048", 32, 128, 2048}, {"conv3_winograd_dV_128x128x64", 128, 128, 64}} {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, _ := randMatrix(rng, s.m, s.k, false)
			bm, _ := randMatrix(rng, s.k, s.n, true)
			c := make([]float32, s.m*s.n)
			for b.Loop() {
				MatMul(c, a, bm, s.m, s.k, s.n, 1)
			}
			b.ReportMetric(2*float64(s.m*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// tileCase is one case of a register tile's test: mr rows of A over kc steps, by rows (rows, and
// byRows with (r, kk) at r*kc + kk) and by columns (byCols, (r, kk) at kk*lda + r), B's panel pb
// of nr columns, and C (c0, rows ldc apart, with 3 floats past the tile), with special values
// (zeros of both signs, subnormals, infinities, NaN) among them.
type tileCase struct {
	kc, ldc, lda int
	accumulate   bool
	rows         [gemmMR][]float32
	byRows       []float32
	byCols       []float32
	pb, c0       []float32
}

// tileSameBits runs check on tile cases of mr rows and nr columns for any number of steps, three
// row strides of C, and with and without accumulation: check returns the tile's result by rows
// and by columns, and the two Go tiles' (the reference), each from a copy of c0. It fails at the
// first element of C, inside the tile or past it, where they differ.
func tileSameBits(t *testing.T, seed uint64, mr, nr int, check func(c tileCase) (got, gotT, want, wantT []float32)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for _, kc := range []int{1, 2, 3, 7, 64, 255, 256} {
		for _, ldc := range []int{nr, nr + 5, 3 * nr} {
			for _, accumulate := range []bool{false, true} {
				c := tileCase{kc: kc, ldc: ldc, lda: mr + rng.IntN(4), accumulate: accumulate}
				c.byRows = oddFloats(rng, mr*kc)
				c.byCols = make([]float32, kc*c.lda)
				for r := range mr {
					c.rows[r] = c.byRows[r*kc : (r+1)*kc]
					for kk := range kc {
						c.byCols[kk*c.lda+r] = c.byRows[r*kc+kk]
					}
				}
				c.pb = oddFloats(rng, kc*nr)
				c.c0 = oddFloats(rng, mr*ldc+3)
				got, gotT, want, wantT := check(c)
				for i := range c.c0 {
					for _, g := range []float32{got[i], gotT[i]} {
						if !sameFloat(g, want[i]) || !sameFloat(g, wantT[i]) {
							t.Fatalf("kc%d ldc%d acc%v: c[%d] = %v (by rows %v, by columns %v), Go tiles %v and %v", kc, ldc, accumulate, i, g, got[i], gotT[i], want[i], wantT[i])
						}
					}
				}
			}
		}
	}
}

// clone returns a copy of x.
func clone(x []float32) []float32 { return append([]float32(nil), x...) }

// matMulAsmSameBits proves that MatMul gives the same bits with *use true (assembly kernels) as
// with it false (the Go ones): on dense products around the tile and block edges (if dense) and
// on Winograd's sparse transforms around the block width, with special values in A and B, A by
// rows and by columns, and B behind an offset. It leaves *use true.
func matMulAsmSameBits(t *testing.T, rng *rand.Rand, dense bool, use *bool) {
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
	if dense {
		for _, m := range []int{1, 6, 7, 13, 36} {
			for _, k := range []int{1, 9, 256, 300} {
				for _, n := range []int{5, 32, 33, 100} {
					shapes = append(shapes, shape{m, k, n, false})
				}
			}
		}
	}
	for _, mk := range [][2]int{{36, 36}, {16, 36}, {36, 16}, {4, 6}, {6, 4}, {16, 16}} {
		for _, n := range []int{8 * Lanes(), 8*Lanes() + 1, 128, 129, 1000} {
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
			*use = false
			want := make([]float32, s.m*s.n)
			MatMul(want, a, b, s.m, s.k, s.n, 1)
			*use = true
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
