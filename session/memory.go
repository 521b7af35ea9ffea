package session

import (
	"math"

	"github.com/mnist-trainer/mnist/model"
)

// mnistBytes is what a worker holds of MNIST once it is loaded: the 10,000 test images as runs
// (mnist.LoadDatasetRuns: 2.04 MB for their 7.84 MB of pixels, with an index of 40 KB), and the
// labels of those and of the 60,000 training images, whose pixels the page keeps
// (wasm/trainset_js.go).
const mnistBytes = 2_100_000 + 10_000*4 + 70_000

// memoryHeadroom is what limitMemory allows beyond MNIST and the network's estimate: the gzipped
// files while they are parsed (1.7 MB; worker 0 also unpacks the training images for the page
// once, an image at a time, mnist.ParseImageRuns), the compiled graphs, the runtime, and the
// buffers simplego keeps in its pools between steps for reuse. 8 MB against 16 took a tab with two
// workers from 482–484 MiB to 465–468 at its peak, at the same speed in Chromium (356–414 images/s
// against 362–381) and in Firefox (294–327 against 272–328), in alternating runs; 4 MB saved little
// more and cost Firefox 11%. The test images, kept as runs since, left 5.8 MB of the limit free:
// it stays in it, as room for the pools, since a team's workers still collected several times a
// step (memoryLimit), and 7 MB less held took a team of two in Chromium from 866–885 images/s to
// 958–991 (BENCHMARKS.md).
const memoryHeadroom = 8<<20 + 5_800_000

// memoryLimit is the soft memory limit a worker's work needs: MNIST, plus the estimated peak of
// the larger of the next run's network and the current one (one and a half times, but for a
// worker of several measuring alone), plus memoryHeadroom. Callers hold s.mu (or own
// s, before it is shared).
//
// In a team, a worker trains on its share of each batch only: the estimate is one replica's of
// the team of the latest run (model.Config.ReplicaMemoryEstimate), about half the whole batch's
// in a team of two.
//
// Half the peak more is room for simplego's pools: it keeps a step's freed buffers for the next
// step in a pool per size, and every collection empties the pools. With the limit at one peak, a
// worker alone collected 7–8 times a step and allocated 83–96 MB a step afresh (Node,
// BenchmarkTrainStep at the same limit), and trained about a quarter slower. With a whole peak
// more it never collected, and its WebAssembly memory grew to that limit, 115–116 MB in Chromium
// for the notebook network. With half a peak more it collects once in about 30 steps (Node, at the
// limit plus the training images, which the test holds and a worker does not: 0.03 collections a
// step, 484–486 images/s against 478 with the whole peak; a quarter of a peak: 3 a step, 450), and
// in Chromium trained at the same speed in 97–99 MB (518.3 and 527.2 images/s, alternating with
// 524.4 and 518.1 at 115–116 MB; BENCHMARKS.md).
//
// The workers of a team of two had no such room, to keep a tab under 500 MB: each collected 15
// times a step in every engine and allocated 50 MB a step afresh, and a quarter of its time went
// to the collector (Chromium: 3,128 collections in 20 s on worker 0, 4.8 s of its CPU). With the
// room, and the step's buffers all going back to the pools (model's TestShardStepReusesBuffers),
// a team of two trained 14–18% faster in Chromium, Firefox and WebKit (alternating builds),
// worker 0's WebAssembly memory grew to 73–78 MB (was 70) and the tab's peak by 10 MB (480–482
// MB; BENCHMARKS.md).
//
// Worker 0 of a team also holds what it alone combines (model.Config.CombineBytes: the other
// workers' gradients and their sum), and gets room for it. Without it, with the same limit as
// worker 1, worker 0 of two collected 2.5 times a step and allocated 18 MB a step afresh (every
// collection emptied simplego's pools, whose buffers the next step allocated again), against 0.5
// and 1.9 MB on worker 1; with it, 0.1 and 0.5 MB (Chromium, the notebook network, Go's
// runtime.MemStats read from each worker over 10 s of training; BENCHMARKS.md).
// A worker of a team that measures alone (web/team.js) gets none: those steps are few, and with
// it, beside the other workers, which hold a team's memory by then, a fresh page's quick run
// peaked at 504 MB. The page then replaces that worker with a fresh one; a worker that trains
// alone beside idle ones gets the room.
func (s *Session) memoryLimit() int64 {
	team := max(s.team, 1)
	// larger is the larger of f's bytes for the next run's network and the current one's.
	larger := func(f func(model.Config) int64) int64 {
		n := f(s.cfg)
		if s.current != nil {
			n = max(n, f(s.current.Config()))
		}
		return n
	}
	peak := larger(func(c model.Config) int64 { return c.ReplicaMemoryEstimate(team).Peak / int64(team) })
	limit := mnistBytes + peak + memoryHeadroom
	if s.peers == nil || s.team > 1 || !s.measuring {
		limit += peak / 2
	}
	if s.peers != nil && s.peers.Index() == 0 && team > 1 {
		limit += larger(func(c model.Config) int64 { return c.CombineBytes(team) })
	}
	if peak <= 0 || limit > math.MaxInt64/2 {
		limit = math.MaxInt64 // no limit: the estimate is out of range
	}
	return limit
}

// limitMemory gives Options.SetMemoryLimit the memoryLimit, when the session has one. By default
// Go's collector lets the heap grow to twice what is live before it collects, and a worker's
// WebAssembly memory keeps its peak for good: a worker holding MNIST and the notebook network
// took 300 MB. With the limit the collector runs as the heap nears it instead. Most of the heap is
// images and tensors, which hold no pointers and cost a collection nothing to scan. The limit is
// soft: a network that needs more than its estimate still trains, at the cost of more
// collections. Callers hold s.mu (or own s, before it is shared).
func (s *Session) limitMemory() {
	if s.setMemoryLimit != nil {
		s.setMemoryLimit(s.memoryLimit())
	}
}
