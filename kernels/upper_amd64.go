//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// hasAVX is whether this CPU runs the kernels' vector code with AVX (VZEROUPPER needs it).
var hasAVX = archsimd.X86.AVX()

// ClearUpper ends the kernels' vector code on the calling thread: it clears the upper halves of
// the AVX and AVX-512 registers (VZEROUPPER). Go compiles scalar float arithmetic (and math.Exp's
// assembly) to legacy SSE instructions, and on the reference machine each of them waits on
// registers whose upper halves a kernel left dirty: after one 16-lane add, math.Exp took 838 ns
// instead of 7, and simplego's own executors, the optimizer's and every other scalar loop on
// that thread slowed alike (BENCHMARKS.md, issue 18). Go 1.27 does not clear them itself
// (archsimd.ClearAVXUpperBits says a later compiler may). Every kernel executor calls it before
// it returns to simplego (kernels/_simplego/executors_simd.go), and every helper goroutine
// before it ends (parallelFor).
func ClearUpper() {
	if hasAVX {
		archsimd.ClearAVXUpperBits()
	}
}
