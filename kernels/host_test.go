//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestAdamStep32 holds the vector loop to the scalar reference, bit for bit, on every length up
// to three vectors and a half (each tail), with special values among the gradients and
// moments, and with the kernels switched off.
func TestAdamStep32(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	c := AdamCoefficients{B1: 0.9, C1: 0.1, B2: 0.999, C2: 0.001, LR: 0.0049, Eps: 1e-8}
	for _, enabled := range []bool{true, false} {
		SetEnabled(enabled)
		for n := range 3*Lanes() + Lanes()/2 + 1 {
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

// TestAddTo32 holds AddTo32 to scalar Go on every length to three vectors and a half, with
// special values, and checks it writes nothing past dst.
func TestAddTo32(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for n := range 3*Lanes() + Lanes()/2 + 1 {
		dst, src := oddFloats(rng, n), oddFloats(rng, n+1)
		want := append([]float32(nil), dst...)
		addScalar(want, src)
		got := append(dst, 42)
		AddTo32(got[:n], src)
		for i := range n {
			if !sameFloat(got[i], want[i]) || !sameFloat(want[i], dst[i]+src[i]) {
				t.Fatalf("n %d: [%d] = %v, scalar Go gives %v", n, i, got[i], dst[i]+src[i])
			}
		}
		if got[n] != 42 {
			t.Fatalf("n %d: wrote past dst", n)
		}
	}
}
