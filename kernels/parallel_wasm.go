//go:build goexperiment.simd && wasm

package kernels

// WebAssembly has one thread: goroutines would only take turns on it, so every kernel runs on
// the calling goroutine, in one piece (see parallel.go for the native split).

// parallelGrain is unused in wasm; it exists so that tests build for both.
var parallelGrain = 1 << 15

// Workers is always 1 in wasm: there is one thread.
func Workers(want int) int { return 1 }

// parallelFor calls fn once on all of [0, n).
func parallelFor(workers, n, grain int, fn func(lo, hi int)) {
	if n > 0 {
		fn(0, n)
	}
}
