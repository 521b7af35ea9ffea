//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"testing"
)

var expSink float64

// BenchmarkScalarAfterKernel times math.Exp (scalar SSE code, as all of Go's float arithmetic
// is) on a thread that just ran a 16-float kernel: "dirty" as the kernel left the vector
// registers, "cleared" after ClearUpper, as every kernel executor and helper goroutine now ends.
// On the reference machine: 838 ns an Exp dirty, 7 cleared (BENCHMARKS.md, issue 18).
func BenchmarkScalarAfterKernel(b *testing.B) {
	x := make([]float32, 64)
	for _, clear := range []bool{false, true} {
		name := "dirty"
		if clear {
			name = "cleared"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Binary(Add, x, x, x)
				if clear {
					ClearUpper()
				}
				s := 0.0
				for i := range 100 {
					s += math.Exp(-float64(i) * 0.01)
				}
				expSink += s
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(100*b.N), "ns/exp")
		})
	}
}
