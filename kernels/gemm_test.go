//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// BenchmarkMatMul measures the network's three largest products, in GFLOP/s.
func BenchmarkMatMul(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, k, n int
	}{
		{"conv2_3136x288x64", 3136, 288, 64},
		{"conv3_3136x576x128", 3136, 576, 128},
		{"dense1_64x2048x128", 64, 2048, 128},
	} {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, _ := randMatrix(rng, s.m, s.k, false)
			bm, _ := randMatrix(rng, s.k, s.n, false)
			c := make([]float32, s.m*s.n)
			for b.Loop() {
				MatMul(c, a, bm, s.m, s.k, s.n, 1)
			}
			b.ReportMetric(2*float64(s.m*s.k*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
