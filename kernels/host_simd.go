//go:build goexperiment.simd

package kernels

import "simd"

// AdamStep32 applies one step of TF 1.x's Adam to parameters theta with moments m and v, given
// their gradient g (all of g's length), in place:
//
//	m = m·β₁ + g·(1 − β₁);  v = v·β₂ + (g·g)·(1 − β₂);  θ = θ − lr_t·(m / (√v + ε))
//
// with each operation rounded to float32 as the graph of model/adam.go rounds it, so the same
// bits: one pass over the four arrays, where the graph makes twelve.
func AdamStep32(theta, m, v, g []float32, c AdamCoefficients) {
	n := len(g)
	theta, m, v = theta[:n], m[:n], v[:n]
	l := Lanes()
	i := 0
	if Enabled() {
		i = adamBlocks(theta, m, v, g, c) // in wasm, the blocks of 16 in assembly
		b1, c1 := simd.BroadcastFloat32s(c.B1), simd.BroadcastFloat32s(c.C1)
		b2, c2 := simd.BroadcastFloat32s(c.B2), simd.BroadcastFloat32s(c.C2)
		lr, eps := simd.BroadcastFloat32s(c.LR), simd.BroadcastFloat32s(c.Eps)
		for ; i+l <= n; i += l {
			gi := simd.LoadFloat32s(g[i:])
			mi := simd.LoadFloat32s(m[i:]).Mul(b1).Add(gi.Mul(c1))
			vi := simd.LoadFloat32s(v[i:]).Mul(b2).Add(gi.Mul(gi).Mul(c2))
			step := lr.Mul(mi.Div(vi.Sqrt().Add(eps)))
			simd.LoadFloat32s(theta[i:]).Sub(step).Store(theta[i:])
			mi.Store(m[i:])
			vi.Store(v[i:])
		}
		ClearUpper()
	}
	adamScalar(theta[i:], m[i:], v[i:], g[i:], c)
}

// SumVectors32 sets dst[i] to (((+0 + srcs[0][i]) + srcs[1][i]) + …), the vectors added left to
// right (each at least len(dst) long), as a scalar loop from +0 adds them, in one pass over
// them: the team's gradients, where adding each vector into dst in turn read and wrote dst once
// a vector. workers > 1 splits dst among goroutines natively (each element is one goroutine's);
// a negative workers means one per core.
func SumVectors32(dst []float32, srcs [][]float32, workers int) {
	if !Enabled() {
		sumScalar(dst, srcs)
		return
	}
	parallelFor(workers, len(dst), parallelGrain/max(1, len(srcs)), func(lo, hi int) {
		l := Lanes()
		i := sumVectorBlocks(dst, srcs, lo, hi) // in wasm, the blocks of 32 in assembly
		for ; i+l <= hi; i += l {
			acc := simd.Float32s{} // +0
			for _, s := range srcs {
				acc = acc.Add(simd.LoadFloat32s(s[i:]))
			}
			acc.Store(dst[i:])
		}
		sumScalar(dst[i:hi], shifted(srcs, i))
		ClearUpper()
	})
}

// shifted returns srcs, each from offset i.
func shifted(srcs [][]float32, i int) [][]float32 {
	out := make([][]float32, len(srcs))
	for k, s := range srcs {
		out[k] = s[i:]
	}
	return out
}
