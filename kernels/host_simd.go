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

// AddTo32 adds src to dst, element by element (len(src) >= len(dst)): the same float32 additions
// as a scalar loop, a vector at a time.
func AddTo32(dst, src []float32) {
	if !Enabled() {
		addScalar(dst, src)
		return
	}
	Binary(Add, dst, dst, src[:len(dst)])
	ClearUpper()
}
