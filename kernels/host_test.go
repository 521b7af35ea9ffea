//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// shortLengths returns every length up to three vectors and a half (so every tail), then longer.
func shortLengths(longer ...int) []int {
	var n []int
	for i := range 3*Lanes() + Lanes()/2 + 1 {
		n = append(n, i)
	}
	return append(n, longer...)
}

// TestAdamStep32 holds the vector loop to the scalar reference, bit for bit, on every length up
// to three vectors and a half (each tail) and a few longer, with special values among the gradients and
// moments, and with the kernels switched off.
func TestAdamStep32(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	c := AdamCoefficients{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, LR: 0.0049, Eps: 1e-8}
	for _, enabled := range []bool{true, false} {
		SetEnabled(enabled)
		for _, n := range shortLengths(16, 17, 64+Lanes()+3, 300) { // wasm's blocks of 16 in assembly
			theta, m, g := oddFloats(rng, n), oddFloats(rng, n), oddFloats(rng, n)
			v := oddFloats(rng, n)
			for i := range v {
				if rng.IntN(4) != 0 {
					v[i] *= v[i] // mostly non-negative, as a second moment is
				}
			}
			want := [3][]float32{append([]float32(nil), theta...), append([]float32(nil), m...), append([]float32(nil), v...)}
			adamScalar(want[0], want[1], want[2], g, c)
			got := [3][]float32{append(theta, 42), append(m, 42), append(v, 42)}
			AdamStep32(got[0], got[1], got[2], g, c)
			for k, name := range []string{"theta", "m", "v"} {
				for i := range n {
					if !sameFloat(got[k][i], want[k][i]) {
						t.Fatalf("%s: n %d enabled %v: %s[%d] = %v, the scalar reference gives %v (g %v)",
							fmt.Sprint(c), n, enabled, name, i, got[k][i], want[k][i], g[i])
					}
				}
				if got[k][n] != 42 {
					t.Fatalf("n %d: wrote past %s", n, name)
				}
			}
		}
	}
	SetEnabled(true)
}

// TestSumVectors32 holds SumVectors32 to scalar Go, bit for bit, on every length to three
// vectors and a half and a few longer (wasm's blocks of 32 in assembly, and what follows them),
// and one to four vectors, with special values (all -0 sums to +0, as the
// adds from +0 do), split into chunks of 5 among goroutines and on one, and checks it writes
// nothing past dst.
func TestSumVectors32(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	restore := SetParallelGrain(5)
	defer restore()
	negZero := float32(math.Copysign(0, -1))
	for k := 1; k <= 4; k++ {
		for _, n := range shortLengths(32, 33, 64+Lanes()+3, 300) { // wasm's blocks of 32 in assembly
			srcs := make([][]float32, k)
			for j := range srcs {
				srcs[j] = oddFloats(rng, n+1)
				if n > 0 {
					srcs[j][0] = negZero
				}
			}
			want := make([]float32, n)
			for i := range want {
				var acc float32
				for _, s := range srcs {
					acc += s[i]
				}
				want[i] = acc
			}
			for _, workers := range []int{1, 4} {
				got := make([]float32, n+1)
				got[n] = 42
				SumVectors32(got[:n], srcs, workers)
				for i := range n {
					if !sameFloat(got[i], want[i]) {
						t.Fatalf("%d vectors, n %d, %d workers: [%d] = %v, scalar Go gives %v", k, n, workers, i, got[i], want[i])
					}
				}
				if got[n] != 42 {
					t.Fatalf("%d vectors, n %d: wrote past dst", k, n)
				}
			}
		}
	}
}

// BenchmarkAdamStep32 times one Adam step of the notebook network's 372,000 parameters.
func BenchmarkAdamStep32(b *testing.B) {
	const n = 372_000
	rng := rand.New(rand.NewPCG(39, 40))
	theta, m, v, g := oddFloats(rng, n), oddFloats(rng, n), oddFloats(rng, n), oddFloats(rng, n)
	for i := range v {
		v[i] *= v[i]
	}
	c := AdamCoefficients{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, LR: 0.0049, Eps: 1e-8}
	for b.Loop() {
		AdamStep32(theta, m, v, g, c)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gparams/s")
}
