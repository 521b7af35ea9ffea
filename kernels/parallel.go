//go:build goexperiment.simd && !wasm

package kernels

// Natively the kernels other than the matrix product split their work among goroutines too. The
// work is cut into chunks of a fixed size (parallelGrain units, which never depends on the number
// of cores or workers), and every chunk writes its own outputs and nothing else: no output is
// summed across chunks, so which goroutine runs which chunk, and how many run, cannot change a bit
// of the result. Chunks are claimed one at a time from a counter, so a helper that the operating
// system has not scheduled yet (the reference machine is shared) costs nothing: the caller takes
// its chunks and only ever waits for chunks already started.

import (
	"runtime"
	"sync/atomic"
)

// parallelGrain is the work of one chunk, in units of about one element read and written:
// measured on the reference machine (BENCHMARKS.md, issue 18), waking a second goroutine costs
// about as much as 10–20 thousand elements of an element-wise op, so below two chunks of this an
// op stays on the calling goroutine. A variable only so that tests can cut small inputs into
// many chunks.
var parallelGrain = 1 << 15

// Workers returns how many goroutines a kernel may use when its caller allows want: want capped
// by GOMAXPROCS, at least 1. A negative want (simplego's "unlimited") means GOMAXPROCS.
func Workers(want int) int {
	procs := runtime.GOMAXPROCS(0)
	if want < 0 || want > procs {
		return procs
	}
	return max(want, 1)
}

// parallelFor calls fn(lo, hi) for chunks that cover [0, n) exactly once, on up to workers
// goroutines (the caller's included). Each chunk is [c*grain, min((c+1)*grain, n)) for grain
// units of work per chunk; with one worker, or a single chunk, fn runs once on all of [0, n).
// fn must write only outputs of its own range.
func parallelFor(workers, n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	chunks := (n + grain - 1) / grain
	workers = min(Workers(workers), chunks)
	if workers <= 1 {
		fn(0, n)
		return
	}
	j := &job{chunks: chunks, n: n, grain: grain, fn: fn, done: make(chan struct{})}
	j.left.Store(int64(chunks))
	for range workers - 1 {
		go j.work()
	}
	j.work()
	<-j.done
}

// job is one parallelFor call's shared state.
type job struct {
	next, left       atomic.Int64 // the next chunk to claim; the chunks not finished yet
	chunks, n, grain int
	fn               func(lo, hi int)
	done             chan struct{} // closed when left reaches 0
}

// work runs chunks until none is left to claim. A helper that starts after the last chunk is
// claimed returns at once, even after parallelFor has returned.
func (j *job) work() {
	defer ClearUpper() // the thread runs scalar Go next
	for {
		c := int(j.next.Add(1)) - 1
		if c >= j.chunks {
			return
		}
		lo := c * j.grain
		j.fn(lo, min(lo+j.grain, j.n))
		if j.left.Add(-1) == 0 {
			close(j.done)
		}
	}
}
