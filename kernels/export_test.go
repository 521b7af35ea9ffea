//go:build goexperiment.simd

package kernels

// SetParallelGrain sets the work per chunk of the native split (parallel.go) and returns a
// function that restores the previous one: for the graph tests in package kernels_test, whose
// inputs are far smaller than one chunk of the default size.
func SetParallelGrain(n int) (restore func()) {
	prev := parallelGrain
	parallelGrain = n
	return func() { parallelGrain = prev }
}
