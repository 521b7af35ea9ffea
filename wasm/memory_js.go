//go:build js && wasm

package main

import (
	"math"
	"runtime/debug"

	"github.com/mnist-trainer/mnist/model"
)

// mnistBytes is what a worker holds of MNIST once it is loaded: 70,000 images of 28×28 grey
// levels and their labels.
const mnistBytes = (60_000 + 10_000) * (model.ImageSize*model.ImageSize + 1)

// memoryHeadroom is what limitMemory allows beyond MNIST and the network's estimate: the gzipped
// files while they are parsed (11.5 MB), the compiled graphs, the runtime, and the buffers
// simplego keeps in its pools between steps for reuse.
const memoryHeadroom = 32 << 20

// limitMemory sets Go's soft memory limit to what this worker's work needs: MNIST, plus the
// estimated peak of the larger of the next run's network and the current one, plus
// memoryHeadroom. By default Go's collector lets the heap grow to twice what is live before it
// collects, and a worker's WebAssembly memory keeps its peak for good: a worker holding MNIST and
// the notebook network took 300 MB. With the limit the collector runs as the heap nears it
// instead. Most of the heap is images and tensors, which hold no pointers and cost a collection
// nothing to scan. The limit is soft: a network that needs more than its estimate still trains,
// at the cost of more collections. Callers hold t.mu (or own t, before it is shared).
func (t *trainer) limitMemory() {
	peak := t.cfg.MemoryEstimate().Peak
	if t.current != nil {
		peak = max(peak, t.current.Config().MemoryEstimate().Peak)
	}
	limit := mnistBytes + peak + memoryHeadroom
	if peak <= 0 || limit > math.MaxInt64/2 {
		limit = math.MaxInt64 // no limit: the estimate is out of range
	}
	debug.SetMemoryLimit(limit)
}
