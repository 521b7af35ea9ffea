package model

// Data-parallel training over shards of each batch (Web Workers in the browser, goroutines
// natively), computing exactly what one whole-batch step computes.
//
// The batch-statistics normalisation couples every image of a batch: its mean and variance are
// over the whole batch, and so is its gradient. So a shard cannot simply compute gradients on its
// images and average them. Instead the network is cut at the three normalisations (see segment),
// and the shards sum small per-channel vectors between the pieces:
//
//	forward, per normalisation:  Σx, then Σ(x-mean)²   → the batch mean and variance
//	backward, per normalisation: Σg, Σ(g·y)            → the batch terms of its gradient,
//	                             dx = (g - mean(g) - y·mean(g·y)) / std
//	at the end:                  the parameter gradients and the loss
//
// The backward pieces of the three conv segments take the segment's output from the forward pass
// and differentiate the conv by hand (dW = colsᵀ·dPre, dCols = dPre·Wᵀ, with the ReLU's mask read
// off the output), so they redo only the cheap im2col gather, never the conv's matrix product.
// The dense segment, and every segment on a backend with native conv (XLA), recomputes its
// forward piece for autodiff: a few percent more work.

import (
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Shard is one participant of a data-parallel training run. Every shard holds a replica of the
// model, created with the same Config (so the same initial weights), and trains on the same
// dataset; each step, shard i takes its contiguous part of the global batch.
type Shard struct {
	// Index is this shard's position, 0 ≤ Index < Count.
	Index, Count int
	// Reduce sums v element-wise over all shards and returns the total. Every shard calls it the
	// same number of times, in the same order, with vectors of the same lengths; it blocks until all
	// have contributed. The total must be the same on every shard, bit for bit, so that the replicas
	// stay identical: sum in shard order.
	Reduce func(v []float32) ([]float32, error)
}

// part returns shard s's range of a global batch of n images.
func (s *Shard) part(n int) (lo, hi int) {
	return s.Index * n / s.Count, (s.Index + 1) * n / s.Count
}

func (s *Shard) validate(batch int) error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count || s.Reduce == nil {
		return fmt.Errorf("shard %d of %d: invalid", s.Index, s.Count)
	}
	if batch < s.Count {
		return fmt.Errorf("batch: size %d is smaller than the %d shards training it", batch, s.Count)
	}
	return nil
}

// LocalShards returns n shards whose Reduce sums in memory, for n goroutines of one process, and
// a function that makes every pending and later Reduce fail with err: a shard that stops must call
// it, or the others wait for it forever.
func LocalShards(n int) ([]Shard, func(err error)) {
	r := &localReducer{n: n, parts: make([][]float32, n)}
	r.cond = sync.NewCond(&r.mu)
	shards := make([]Shard, n)
	for i := range shards {
		shards[i] = Shard{Index: i, Count: n, Reduce: func(v []float32) ([]float32, error) { return r.reduce(i, v) }}
	}
	return shards, r.abort
}

// localReducer is a reusable barrier that sums the shards' vectors in shard order.
type localReducer struct {
	mu         sync.Mutex
	cond       *sync.Cond
	n, arrived int
	generation int
	parts      [][]float32
	total      []float32
	err        error // the last sum's error
	aborted    error // set by abort: every reduce fails from then on
}

func (r *localReducer) reduce(i int, v []float32) ([]float32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.aborted != nil {
		return nil, r.aborted
	}
	gen := r.generation
	r.parts[i] = v
	r.arrived++
	if r.arrived == r.n {
		r.total, r.err = SumInOrder(r.parts)
		r.arrived = 0
		r.generation++
		r.cond.Broadcast()
	} else {
		for gen == r.generation && r.aborted == nil {
			r.cond.Wait()
		}
		if r.aborted != nil {
			return nil, r.aborted
		}
	}
	return r.total, r.err
}

func (r *localReducer) abort(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.aborted == nil {
		r.aborted = err
		r.cond.Broadcast()
	}
}

// SumInOrder adds the shards' vectors element-wise, in shard order: float addition is not
// associative, and every shard must get identical bits so that the replicas stay identical. A
// Shard.Reduce made outside this package (the browser's, across Web Workers) uses it too.
func SumInOrder(parts [][]float32) ([]float32, error) {
	total := make([]float32, len(parts[0]))
	for i, p := range parts {
		if len(p) != len(total) {
			return nil, fmt.Errorf("reduce: shard %d sent %d values, shard 0 sent %d", i, len(p), len(total))
		}
		for j, x := range p {
			total[j] += x
		}
	}
	return total, nil
}

// segmentBlocks lists the blocks whose parameters belong to each segment.
var segmentBlocks = [numSegments][]string{{conv1}, {conv2}, {conv3}, {dense1, dense2, output}}

// shardGraphs are the compiled pieces of a sharded step, built on first use.
type shardGraphs struct {
	forward  [numSegments - 1]*context.Exec // segment k's output, before normalisation, and its per-channel Σx
	centred  *context.Exec                  // per-channel Σ(x-mean)²
	backward [numSegments]*context.Exec     // segment k differentiated
	apply    *context.Exec                  // Adam update from the summed gradients
}

// segmentParams returns the ParamSpecs of segment k, in Config.Params order.
func (c Config) segmentParams(k int) []ParamSpec {
	var out []ParamSpec
	for _, p := range c.Params() {
		for _, b := range segmentBlocks[k] {
			if p.Name == b+".kernel" || p.Name == b+".bias" {
				out = append(out, p)
			}
		}
	}
	return out
}

// batchStats is one normalisation's statistics over the global batch.
type batchStats struct {
	mean, std *tensors.Tensor // [C]
	rows      int             // global number of rows (images × height × width) averaged over
}

// shardStep runs one training step on this shard's images and labels (its part of a global batch
// of globalBatch images) and applies the summed update. It returns the loss of the whole batch.
// Callers hold m.mu.
func (m *Model) shardStep(s *Shard, images []byte, labels []int32, globalBatch int) (float64, error) {
	g, err := m.shardGraphs()
	if err != nil {
		return 0, err
	}
	total, err := m.shardGradients(g, s, images, labels, globalBatch)
	if err != nil {
		return 0, err
	}
	var args []any
	offset := 0
	for _, p := range m.cfg.Params() {
		args = append(args, tensors.FromFlatDataAndDimensions(total[offset:offset+p.Size()], p.Shape...))
		offset += p.Size()
	}
	if _, err := g.apply.Exec(args...); err != nil {
		return 0, err
	}
	return float64(total[len(total)-1]), nil
}

// shardGradients computes the gradients of the whole batch's loss, summed over the shards, for
// the parameters in Config.Params order, concatenated, followed by the loss itself.
func (m *Model) shardGradients(g *shardGraphs, s *Shard, images []byte, labels []int32, globalBatch int) ([]float32, error) {
	reduce := func(t *tensors.Tensor) ([]float32, error) { return s.Reduce(flat(t)) }

	// Forward: segment by segment, with the batch statistics of each output.
	inputs := [numSegments]*tensors.Tensor{imageTensor(images)}
	var stats [numSegments - 1]batchStats
	for k := range numSegments - 1 {
		args := []any{inputs[k]}
		if k > 0 {
			args = append(args, stats[k-1].mean, stats[k-1].std)
		}
		out, err := g.forward[k].Exec(args...)
		if err != nil {
			return nil, err
		}
		a := out[0]
		inputs[k+1] = a
		dims := a.Shape().Dimensions
		rows := globalBatch * dims[1] * dims[2]
		sum, err := reduce(out[1])
		if err != nil {
			return nil, err
		}
		mean := make([]float32, len(sum))
		for i, v := range sum {
			mean[i] = float32(float64(v) / float64(rows))
		}
		meanT := tensors.FromFlatDataAndDimensions(mean, len(mean))
		sq, err := execReduce(g.centred, reduce, a, meanT)
		if err != nil {
			return nil, err
		}
		std := make([]float32, len(sq))
		for i, v := range sq {
			std[i] = float32(math.Sqrt(float64(v)/float64(rows) + m.cfg.Epsilon))
		}
		stats[k] = batchStats{mean: meanT, std: tensors.FromFlatDataAndDimensions(std, len(std)), rows: rows}
	}

	// Backward: the last segment gives the loss; each segment hands the gradient of its normalised
	// input, with its two per-channel sums, to the one before.
	grads := make(map[string][]float32)
	labelsT := tensors.FromFlatDataAndDimensions(labels, len(labels))
	out, err := g.backward[3].Exec(inputs[3], stats[2].mean, stats[2].std, labelsT, float32(globalBatch))
	if err != nil {
		return nil, err
	}
	localLoss := flat(out[0])[0]
	out = m.collectGrads(3, out[1:], grads)
	for k := numSegments - 2; k >= 0; k-- {
		// out is [g, Σg, Σg·y] for segment k's output; sum the two vectors over the shards.
		// One Reduce for both: every exchange is a barrier where the shards wait for the slowest.
		sums, err := s.Reduce(append(flat(out[1]), flat(out[2])...))
		if err != nil {
			return nil, err
		}
		s1, s2 := sums[:len(sums)/2], sums[len(sums)/2:]
		args := []any{inputs[k]}
		if k > 0 {
			args = append(args, stats[k-1].mean, stats[k-1].std)
		}
		args = append(args, inputs[k+1], out[0], stats[k].mean, stats[k].std,
			tensors.FromFlatDataAndDimensions(s1, len(s1)), tensors.FromFlatDataAndDimensions(s2, len(s2)),
			float32(stats[k].rows))
		if out, err = g.backward[k].Exec(args...); err != nil {
			return nil, err
		}
		out = m.collectGrads(k, out, grads)
	}

	// Sum the gradients and the loss over the shards, in one vector.
	var all []float32
	for _, p := range m.cfg.Params() {
		all = append(all, grads[p.Name]...)
	}
	return s.Reduce(append(all, localLoss))
}

// collectGrads moves the parameter gradients of segment k (the first outputs of its backward
// graph, in segmentParams order) into grads and returns the remaining outputs.
func (m *Model) collectGrads(k int, out []*tensors.Tensor, grads map[string][]float32) []*tensors.Tensor {
	params := m.cfg.segmentParams(k)
	for i, p := range params {
		grads[p.Name] = flat(out[i])
	}
	return out[len(params):]
}

// execReduce runs a per-channel sum graph and sums its result over the shards.
func execReduce(e *context.Exec, reduce func(*tensors.Tensor) ([]float32, error), args ...any) ([]float32, error) {
	out, err := e.Exec(args...)
	if err != nil {
		return nil, err
	}
	return reduce(out[0])
}

// shardGraphs builds the graphs of a sharded step once.
func (m *Model) shardGraphs() (*shardGraphs, error) {
	if m.shards != nil {
		return m.shards, nil
	}
	g := &shardGraphs{}
	newExec := func(fn func(ctx *context.Context, in []*Node) []*Node) *context.Exec {
		e, err := context.NewExec(m.backend, m.ctx, fn)
		if err != nil {
			panic(err)
		}
		return e
	}
	rows := func(x *Node) *Node { return Reshape(x, -1, x.Shape().Dimensions[3]) }
	for k := range numSegments - 1 {
		g.forward[k] = newExec(func(ctx *context.Context, in []*Node) []*Node {
			x := in[0]
			if k > 0 {
				x = normalizeWith(x, in[1], in[2])
			}
			a := segment(m.cfg, m.graphWeights(x.Graph()), k, x, &forward{native: m.native})
			return []*Node{a, channelSum(a)}
		})
	}
	g.centred = newExec(func(ctx *context.Context, in []*Node) []*Node {
		c := in[1].Shape().Dimensions[0]
		return []*Node{channelSum(Square(Sub(in[0], Reshape(in[1], 1, 1, 1, c))))}
	})

	// paramNodes returns segment k's weights and their nodes in segmentParams order.
	paramNodes := func(k int, gr *Graph) (weights, []*Node) {
		w := m.graphWeights(gr)
		var nodes []*Node
		for _, p := range m.cfg.segmentParams(k) {
			nodes = append(nodes, w[p.Name])
		}
		return w, nodes
	}
	// The last segment: inputs a, mean, std, labels, global batch; outputs loss, parameter
	// gradients, then g = dLoss/dy for its normalised input y, Σg and Σg·y per channel.
	g.backward[3] = newExec(func(ctx *context.Context, in []*Node) []*Node {
		w, params := paramNodes(3, in[0].Graph())
		y := normalizeWith(in[0], in[1], in[2])
		logits := segment(m.cfg, w, 3, y, &forward{native: m.native})
		logProbs := LogSoftmax(logits, -1)
		loss := Div(Neg(ReduceAllSum(Mul(OneHot(in[3], NumClasses, logProbs.DType()), logProbs))), in[4])
		grads := Gradient(loss, append(params, y)...)
		gy := grads[len(grads)-1]
		return append(append([]*Node{loss}, grads[:len(params)]...),
			gy, ReduceSum(rows(gy), 0), ReduceSum(rows(Mul(gy, y)), 0))
	})
	// Segments 2..0: inputs [a_in, mean_in, std_in] (segment 0: the images), then for its own
	// output: a (from the forward pass), g, mean, std, Σg, Σg·y over the batch, and the global
	// row count.
	for k := range numSegments - 1 {
		g.backward[k] = newExec(func(ctx *context.Context, in []*Node) []*Node {
			w, params := paramNodes(k, in[0].Graph())
			x := in[0]
			if k > 0 {
				x = normalizeWith(x, in[1], in[2])
				in = in[3:]
			} else {
				in = in[1:]
			}
			a, gOut, mean, std, sumG, sumGY, n := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
			c := a.Shape().Dimensions[3]
			bcast := func(v *Node) *Node { return Reshape(v, 1, 1, 1, c) }
			y := normalizeWith(a, mean, std)
			// The normalisation's gradient with batch statistics: (g - mean(g) - y·mean(g·y)) / std.
			dA := Div(Sub(Sub(gOut, bcast(Div(sumG, n))), Mul(y, bcast(Div(sumGY, n)))), bcast(std))
			var grads []*Node
			if m.native {
				target := ReduceAllSum(Mul(segment(m.cfg, w, k, x, &forward{native: true}), StopGradient(dA)))
				wrt := params
				if k > 0 {
					wrt = append(wrt, x)
				}
				grads = Gradient(target, wrt...)
			} else {
				grads = convBackward(m.cfg, w, k, x, a, dA)
			}
			if k == 0 {
				return grads
			}
			gx := grads[len(grads)-1]
			return append(grads[:len(params)], gx, ReduceSum(rows(gx), 0), ReduceSum(rows(Mul(gx, x)), 0))
		})
	}

	// The update takes the gradients in Config.Params order.
	g.apply = newExec(func(ctx *context.Context, grads []*Node) []*Node {
		m.applyGradients(grads)
		return []*Node{ScalarZero(grads[0].Graph(), grads[0].DType())}
	})
	m.shards = g
	return g, nil
}

// convBackward differentiates conv segment k (see segment) by hand, from its input x (segment 0:
// the images; else the normalised output of segment k-1), its output a = ReLU(conv) and the
// gradient dA of the loss with respect to a. It returns the gradients of the conv's kernel and
// bias, then, for k > 0, of x. Only the im2col gather of the conv's input is rebuilt: the
// forward matrix product is not, since the ReLU's mask is a > 0 and the conv is linear.
func convBackward(c Config, w weights, k int, x, a, dA *Node) []*Node {
	name := convNames[k]
	kernel := w[name+".kernel"]
	convIn, stride := x, 1
	switch k {
	case 0:
		convIn, stride = DivScalar(ConvertDType(x, dtypes.Float32), 255.0), c.Stride
	case 1:
		convIn = maxPool(x, false)
	}
	cols := convCols(convIn, c.KernelSize, stride) // [rows, K*K*C]
	filters := a.Shape().Dimensions[3]
	dPre := Reshape(Mul(dA, StopGradient(reluMask(a))), -1, filters) // a > 0 exactly where the conv's output was
	dKernel := Reshape(DotGeneral(cols, []int{0}, nil, dPre, []int{0}, nil), kernel.Shape().Dimensions...)
	grads := []*Node{dKernel, ReduceSum(dPre, 0)}
	if k == 0 {
		return grads
	}
	dCols := DotGeneral(dPre, []int{1}, nil, Reshape(kernel, -1, filters), []int{1}, nil)
	return append(grads, Gradient(ReduceAllSum(Mul(cols, StopGradient(dCols))), x)[0])
}
