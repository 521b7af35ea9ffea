package kernels

// The kernels the model calls itself, on its own slices, rather than through simplego's
// executors: a step's Adam update and the sum of the team's gradients. They exist with and
// without GOEXPERIMENT=simd (host_simd.go, host_generic.go), and give the same bits either way.

import "math"

// AdamCoefficients are the float32 constants of one step of TF 1.x's Adam (model/adam.go):
// B1 = β₁, C1 = 1 − β₁, B2 = β₂, C2 = 1 − β₂, LR the step's bias-corrected learning rate lr_t,
// and Eps = ε.
type AdamCoefficients struct {
	B1, C1, B2, C2, LR, Eps float32
}

// adamScalar is AdamStep32 one element at a time: the reference the vector loop is held to, its
// tail, and all of it without GOEXPERIMENT=simd. Every operation rounds to float32 on its own,
// in the order the graph of model/adam.go computes it (the conversions keep Go from fusing a
// multiply and an add, which the language allows).
func adamScalar(theta, m, v, g []float32, c AdamCoefficients) {
	n := len(g)
	theta, m, v = theta[:n], m[:n], v[:n]
	for i, gi := range g {
		mi := float32(m[i]*c.B1) + float32(gi*c.C1)
		vi := float32(v[i]*c.B2) + float32(float32(gi*gi)*c.C2)
		m[i], v[i] = mi, vi
		root := float32(math.Sqrt(float64(vi))) // correctly rounded, as a float32 square root is
		theta[i] -= float32(c.LR * float32(mi/float32(root+c.Eps)))
	}
}

// sumScalar is SumVectors32 one element at a time.
func sumScalar(dst []float32, srcs [][]float32) {
	for i := range dst {
		var acc float32 // +0
		for _, s := range srcs {
			acc += s[i]
		}
		dst[i] = acc
	}
}
