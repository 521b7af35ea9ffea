//go:build goexperiment.simd

package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// forEachSplit runs fn three ways: in one piece (one worker, the default chunk size), and cut
// into tiny chunks whose size is not a multiple of the vector width (7 and 61 units), shared by
// 4 and 3 goroutines (GOMAXPROCS raised to match, so they really run at once natively). Each
// kernel test compares every way with its scalar reference bit for bit, so a chunk that moved a
// sum, lost a tail or overlapped its neighbour fails. In wasm the split is ignored (one thread).
func forEachSplit(t *testing.T, fn func(t *testing.T, workers int)) {
	for _, s := range []struct{ workers, grain int }{{1, parallelGrain}, {4, 7}, {3, 61}} {
		t.Run(fmt.Sprintf("workers%d_grain%d", s.workers, s.grain), func(t *testing.T) {
			prevGrain := parallelGrain
			parallelGrain = s.grain
			prevProcs := runtime.GOMAXPROCS(max(s.workers, runtime.GOMAXPROCS(0)))
			defer func() {
				parallelGrain = prevGrain
				runtime.GOMAXPROCS(prevProcs)
			}()
			fn(t, s.workers)
		})
	}
}

// TestParallelFor proves that parallelFor covers [0, n) exactly once, in chunks that start at
// multiples of the grain (so their bounds depend on n and the grain alone), and in a single call
// with one worker or one chunk.
func TestParallelFor(t *testing.T) {
	prevProcs := runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(prevProcs)
	for _, n := range []int{0, 1, 6, 7, 8, 100, 1000} {
		for _, workers := range []int{1, 2, 4} {
			for _, grain := range []int{1, 7, 64, 5000} {
				var mu sync.Mutex
				calls := 0
				hits := make([]int, n)
				parallelFor(workers, n, grain, func(lo, hi int) {
					mu.Lock()
					defer mu.Unlock()
					calls++
					if lo >= hi || (workers > 1 && runtime.GOARCH != "wasm" && (lo%grain != 0 || (hi != n && hi != lo+grain))) {
						t.Errorf("n %d workers %d grain %d: chunk [%d, %d)", n, workers, grain, lo, hi)
					}
					for i := lo; i < hi; i++ {
						hits[i]++
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("n %d workers %d grain %d: element %d covered %d times", n, workers, grain, i, h)
					}
				}
				if (workers == 1 || n <= grain) && n > 0 && calls != 1 {
					t.Errorf("n %d workers %d grain %d: %d calls, want 1", n, workers, grain, calls)
				}
			}
		}
	}
}

// BenchmarkParallelAdd measures an element-wise Add (the broadcast kernel on equal shapes) at
// sizes around the split threshold, on one goroutine and on every core, with each split forced
// (the grain set to a quarter of the size): where the split starts to pay is where
// parallelGrain is set.
func BenchmarkParallelAdd(b *testing.B) {
	for _, n := range []int{4 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 512 << 10} {
		a, c := make([]float32, n), make([]float32, n)
		dst := make([]float32, n)
		dims := []int{n}
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("n%dK_workers%d", n>>10, workers), func(b *testing.B) {
				prev := parallelGrain
				parallelGrain = n / 4
				defer func() { parallelGrain = prev }()
				for b.Loop() {
					BroadcastBinary(Add, dst, a, c, dims, dims, dims, workers)
				}
			})
		}
	}
}
