package model

// Data-parallel training over shards of each batch (Web Workers in the browser, goroutines
// natively), in one fixed order of float operations whatever the team: the same settings give
// the same weights, bit for bit, with 1, 2, 3 or 4 workers.
//
// The batch-statistics normalisation couples every image of a batch: its mean and variance are
// over the whole batch, and so is its gradient. So a shard cannot simply compute gradients on its
// images and average them. Instead the network is cut at the three normalisations (see segment),
// and the shards combine small per-channel vectors between the pieces, one exchange for each line:
//
//	forward, per normalisation:  per image Σx and Σ(x-meanᵢ)²  → the batch mean and variance
//	backward, per normalisation: Σg, Σ(g·y)                   → the batch terms of its gradient,
//	                             dx = (g - mean(g) - y·mean(g·y)) / std
//	at the end:                  the parameter gradients and the loss
//
// Seven exchanges a step, each a barrier where the team waits for its slowest. Going back, a
// shard starts each exchange (Shard.Start) as soon as it has its sums, and computes the
// segment's parameter gradients, which need nothing from it, before it waits: the messages
// travel, and a shard that arrived early works, in the meantime. The forward one
// sends each image's sum and its sum of squares around its own mean (meanᵢ), and the fold
// combines them as Chan et al.'s parallel variance (foldMoments): the batch's mean from the sums,
// then M2 = Σᵢ (M2ᵢ + n·(meanᵢ - mean)²) over the images in order, n being an image's positions.
//
// Float addition is not associative, so the order of every sum over the batch is fixed by the
// batch alone, never by the team:
//
//   - Every batch is cut into the same virtual shards (VirtualShards of them, near-equal, the
//     larger first), and a worker takes a contiguous run of them (Shard.span). A team of one
//     takes them all, in one graph (soloStep) that adds in the same order as a team's combines.
//   - Per-channel sums are taken per image, over its positions, in float32 (forward along each
//     row, then over the rows' sums: imageMoments), and the per-image sums of the whole batch are
//     added in image order in float64 (foldImages, foldMoments).
//   - Weight gradients, whose products run over images × positions, are computed per virtual
//     shard: one product per virtual shard (a batched DotGeneral whose batch axis is the virtual
//     shard), whose inner loop runs over that shard's rows in order whatever else the op holds
//     (the matrix kernel's k-loop order depends on k alone: kernels/README.md). The virtual
//     shards' gradients are then added in pairs, (g1+g2)+(g3+g4) (foldGradients): a worker that
//     holds a pair adds it before it sends, so a worker of two sends one vector of gradients, not
//     two (gradientPieces).
//   - Everything else is per image (element-wise ops, gathers, each row of a forward product,
//     whose k-loop order again depends on k alone), so it does not depend on which images share
//     an op. (simplego's own DotGeneral, without the SIMD kernels, picks its path by M·N: see
//     kernels/README.md for when that matters.)
//
// The folds run on one participant, on what every shard sent (Shard.Reduce's combine), and all
// get the result. Evaluation is cut into fixed batches (EvalBatchBounds) that stay whole, and
// their losses are added in batch order, so it too is the same for any team.
//
// The backward pieces of the three conv segments take the segment's output, and the conv's im2col
// rows (or Winograd's transformed tiles, winograd.go), from the forward pass and differentiate
// the conv by hand (dW = colsᵀ·dPre, dCols = dPre·Wᵀ, with the ReLU's mask read off the output),
// so they redo neither the conv's matrix product nor its gather. The dense segment's backward
// piece redoes its forward (a few percent of the work) and differentiates its three layers by
// hand.

import (
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnist-trainer/mnist/kernels"
	"github.com/mnist-trainer/mnist/mnist"
)

// VirtualShards is how many virtual shards every training batch is cut into, whatever the number
// of workers (fewer when the batch has fewer images): the unit of work a worker takes, and the
// grain of the fixed order in which gradients are added. It also bounds the team: each worker
// needs one virtual shard at least. 4 matches the page's largest default team (one worker per
// core but one, at most 4): on the machines measured, a fifth worker added nothing, while every
// virtual shard costs a copy of the weight gradients (1.5 MB for the notebook's network) that a
// worker computes, sends and adds.
const VirtualShards = 4

// Combine makes one vector of the shards' vectors, parts[i] from shard i. It only reads parts, and
// returns a vector of its own: the team may reuse their memory once it returns.
type Combine func(parts [][]float32) ([]float32, error)

// Shard is one participant of a data-parallel training run. Every shard holds a replica of the
// model, created with the same Config (so the same initial weights), and trains on the same
// dataset; each step, shard i takes its contiguous run of the batch's virtual shards.
type Shard struct {
	// Index is this shard's position, 0 ≤ Index < Count.
	Index, Count int
	// Start gives v, this shard's vector, to the team, and returns wait, which blocks until all
	// have contributed and returns combine applied to every shard's vector in shard order. Every
	// shard calls Start the same number of times, in the same order, with the same combine, and
	// calls wait before its next Start; in between it may compute what does not need the result,
	// while the team exchanges (a step's weight gradients, in the backward pass). combine is run
	// once, by any one participant, and every shard gets its result, the same bits, so that the
	// replicas stay identical. v must stay as it is until wait returns, and is not kept after: the
	// caller reuses it.
	Start func(v []float32, combine Combine) (wait func() ([]float32, error))
}

// Reduce is Start and its wait at once: the result of combine over every shard's vector.
func (s *Shard) Reduce(v []float32, combine Combine) ([]float32, error) { return s.Start(v, combine)() }

// virtualShards returns how many virtual shards a batch is cut into: VirtualShards, or the batch
// size if that is smaller.
func virtualShards(batch int) int { return max(1, min(VirtualShards, batch)) }

// shardBounds returns where a batch's virtual shards start: shard v is images b[v] to b[v+1]-1.
// Their sizes differ by one at most, the larger first (as EvalBatchBounds), so that the products
// of equal-size shards can share one batched op.
func shardBounds(batch int) []int { return splitEven(batch, virtualShards(batch)) }

// span returns the virtual shards [v0, v1) that shard s takes of a batch.
func (s *Shard) span(batch int) (v0, v1 int) {
	n := virtualShards(batch)
	return s.Index * n / s.Count, (s.Index + 1) * n / s.Count
}

// part returns shard s's images of a batch: those of its virtual shards.
func (s *Shard) part(batch int) (lo, hi int) {
	b := shardBounds(batch)
	v0, v1 := s.span(batch)
	return b[v0], b[v1]
}

func (s *Shard) validate(batch int) error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count || s.Start == nil {
		return fmt.Errorf("shard %d of %d: invalid", s.Index, s.Count)
	}
	if s.Count > VirtualShards {
		return fmt.Errorf("workers: %d workers, but each needs one of the %d virtual shards every batch is cut into; use 1 to %d",
			s.Count, VirtualShards, VirtualShards)
	}
	if n := virtualShards(batch); s.Count > n {
		return fmt.Errorf("batch: size %d is smaller than the %d workers training it", batch, s.Count)
	}
	return nil
}

// soloShard is a team of one: its Start combines its own vector.
func soloShard() *Shard {
	return &Shard{Count: 1, Start: func(v []float32, combine Combine) func() ([]float32, error) {
		total, err := combine([][]float32{v})
		return func() ([]float32, error) { return total, err }
	}}
}

// LocalShards returns n shards whose Start combines in memory, for n goroutines of one process,
// and a function that makes every pending and later wait fail with err: a shard that stops must
// call it, or the others wait for it forever.
func LocalShards(n int) ([]Shard, func(err error)) {
	r := &localReducer{n: n, parts: make([][]float32, n)}
	r.cond = sync.NewCond(&r.mu)
	shards := make([]Shard, n)
	for i := range shards {
		shards[i] = Shard{Index: i, Count: n, Start: func(v []float32, combine Combine) func() ([]float32, error) {
			return r.start(i, v, combine)
		}}
	}
	return shards, r.abort
}

// localReducer is a reusable barrier whose last arrival combines the shards' vectors.
type localReducer struct {
	mu         sync.Mutex
	cond       *sync.Cond
	n, arrived int
	generation int
	parts      [][]float32
	total      []float32
	err        error // the last combine's error
	aborted    error // set by abort: every reduce fails from then on
}

// start is shard i's Start: the last to arrive combines, at once, and the others' waits return
// its result. (The next combine cannot overwrite it before every shard has read it: each starts
// the next exchange only after its wait.)
func (r *localReducer) start(i int, v []float32, combine Combine) func() ([]float32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.aborted != nil {
		err := r.aborted
		return func() ([]float32, error) { return nil, err }
	}
	gen := r.generation
	r.parts[i] = v
	r.arrived++
	if r.arrived == r.n {
		r.total, r.err = combine(r.parts)
		r.arrived = 0
		r.generation++
		r.cond.Broadcast()
	}
	return func() ([]float32, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for gen == r.generation && r.aborted == nil {
			r.cond.Wait()
		}
		if r.aborted != nil {
			return nil, r.aborted
		}
		return r.total, r.err
	}
}

func (r *localReducer) abort(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.aborted == nil {
		r.aborted = err
		r.cond.Broadcast()
	}
}

// addDisjoint adds the shards' vectors element-wise, in shard order. The evaluation combines with
// it, where exactly one shard sends each value and the others zeros, so the order does not matter.
func addDisjoint(parts [][]float32) ([]float32, error) {
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

// foldImages returns a Combine for per-image, per-channel sums: each shard sends `groups` blocks,
// each its images' sums [images, channels] in image order. For each group and channel, the sums of
// all the batch's images are added in image order in float64, and finish turns the total into
// the result. The result is groups × channels values, group-major.
func foldImages(groups, channels int, finish func(sum float64) float32) Combine {
	return func(parts [][]float32) ([]float32, error) {
		totals := make([]float64, groups*channels)
		for i, p := range parts {
			if len(p)%(groups*channels) != 0 {
				return nil, fmt.Errorf("reduce: shard %d sent %d values, not %d blocks of %d channels", i, len(p), groups, channels)
			}
			block := len(p) / groups
			for g := range groups {
				t := totals[g*channels : (g+1)*channels]
				for r := 0; r < block; r += channels {
					for c, x := range p[g*block+r : g*block+r+channels] {
						t[c] += float64(x)
					}
				}
			}
		}
		out := make([]float32, len(totals))
		for i, t := range totals {
			out[i] = finish(t)
		}
		return out, nil
	}
}

// foldMoments returns the Combine of a normalisation's forward statistics, for rows = images ×
// positions over the whole batch: each shard sends its images' sums [images, channels] (see
// imageMoments), then their M2s, both in image order. The sums of all the batch's images, added in
// image order in float64, give the mean; each image's M2 is moved from its own mean (its sum /
// positions) to the batch's with Chan et al.'s parallel-variance term, and those are added in
// image order in float64:
//
//	M2 = Σᵢ (M2ᵢ + n·(meanᵢ - mean)²),  std = √(M2/rows + ε)
//
// (imageMoments centred on meanᵢ as float32 computes it: that moves M2 by about 1e-7 of itself,
// the float32 rounding every exchanged value has anyway.) The result is the mean [channels], then
// std [channels]. soloGraph computes the same in its graph.
func foldMoments(channels, positions, rows int, epsilon float64) Combine {
	return func(parts [][]float32) ([]float32, error) {
		images := 0
		for i, p := range parts {
			if len(p)%(2*channels) != 0 {
				return nil, fmt.Errorf("reduce: shard %d sent %d values, not sums and M2s of %d channels", i, len(p), channels)
			}
			images += len(p) / (2 * channels)
		}
		if images*positions != rows {
			return nil, fmt.Errorf("reduce: the shards sent the moments of %d images of %d positions, want %d rows", images, positions, rows)
		}
		mean := make([]float64, channels)
		for _, p := range parts {
			sums := p[:len(p)/2] // [images, channels]
			for r := 0; r < len(sums); r += channels {
				for c, x := range sums[r : r+channels] {
					mean[c] += float64(x)
				}
			}
		}
		for c := range mean {
			mean[c] /= float64(rows)
		}
		n := float64(positions)
		m2 := make([]float64, channels)
		for _, p := range parts {
			sums, squares := p[:len(p)/2], p[len(p)/2:]
			for r := 0; r < len(sums); r += channels {
				for c := range channels {
					d := float64(sums[r+c])/n - mean[c]
					// The explicit conversion rounds the product, so that Go cannot fuse it with
					// the add (an FMA, which it may emit on some architectures): the graph rounds
					// every op.
					m2[c] += float64(squares[r+c]) + float64(n*(d*d))
				}
			}
		}
		out := make([]float32, 2*channels)
		for c := range channels {
			out[c] = float32(mean[c])
			out[channels+c] = float32(math.Sqrt(m2[c]/float64(rows) + epsilon))
		}
		return out, nil
	}
}

// gradientPieces lists the vectors a shard holding virtual shards [v0, v1) of n sends of a step's
// gradients, in order, each as the virtual shards [from, to) it stands for. The virtual shards
// are paired, {1, 2}, {3, 4} (the last alone when n is odd), and a pair's sum is always
// SumVectors32 of its members in order, from +0, whoever adds them: a shard that holds a whole
// pair sends its sum, a shard that holds part of one sends that part's gradients as they are,
// and the fold adds them (foldGradients). A worker of a team of two thus sends 1.5 MB a step for
// the notebook's network, not 3, and worker 0 adds two vectors, not four.
func gradientPieces(v0, v1, n int) [][2]int {
	var pieces [][2]int
	for a := v0 - v0%2; a < v1; a += 2 {
		if b := min(a+2, n); a >= v0 && b <= v1 {
			pieces = append(pieces, [2]int{a, b}) // the whole pair: its sum
			continue
		}
		for v := max(a, v0); v < min(a+2, v1); v++ {
			pieces = append(pieces, [2]int{v, v + 1}) // part of a pair: as it is
		}
	}
	return pieces
}

// wholePair says whether a piece of gradientPieces is a whole pair of n virtual shards (its sum).
func wholePair(piece [2]int, n int) bool { return piece[0]%2 == 0 && piece[1] == min(piece[0]+2, n) }

// foldGradients returns the Combine of a step's gradients, for a batch of batch images, a team of
// count and size gradient values: each shard sends its gradientPieces, size values each, then the
// loss of each of its images. The result is the pairs' sums added in order from +0,
// (g1+g2)+(g3+g4), then the batch's mean loss, in *total (grown when short; it also holds the
// sums of pairs that two shards sent halves of): a step's result is read before the next step's
// combine runs, since every shard reads it before it sends its next gradients. Natively the sums
// use every core: the other shards wait for them.
func foldGradients(batch, count, size int, total *[]float32) Combine {
	return func(parts [][]float32) ([]float32, error) {
		if len(parts) != count {
			return nil, fmt.Errorf("reduce: %d shards sent gradients, want %d", len(parts), count)
		}
		n := virtualShards(batch)
		sums := make([][]float32, (n+1)/2)       // each pair's sum, in order
		halves := make([][][]float32, len(sums)) // the members of a pair that two shards sent, in order
		var loss float64
		for i, p := range parts {
			s := Shard{Index: i, Count: count}
			v0, v1 := s.span(batch)
			lo, hi := s.part(batch)
			pieces := gradientPieces(v0, v1, n)
			if want := len(pieces)*size + hi - lo; len(p) != want {
				return nil, fmt.Errorf("reduce: shard %d sent %d values, want %d", i, len(p), want)
			}
			for k, piece := range pieces {
				if v := p[k*size : (k+1)*size]; wholePair(piece, n) {
					sums[piece[0]/2] = v
				} else {
					halves[piece[0]/2] = append(halves[piece[0]/2], v)
				}
			}
			for _, l := range p[len(pieces)*size:] {
				loss += float64(l)
			}
		}
		split := 0
		for _, h := range halves {
			split += min(len(h), 1)
		}
		if need := size + 1 + split*size; cap(*total) < need {
			*total = make([]float32, need)
		}
		t, room := (*total)[:size+1], (*total)[size+1:cap(*total)]
		for j, h := range halves {
			if len(h) > 0 {
				sums[j], room = room[:size], room[size:]
				kernels.SumVectors32(sums[j], h, -1)
			}
		}
		kernels.SumVectors32(t[:size], sums, -1)
		t[size] = float32(loss / float64(batch))
		return t, nil
	}
}

// shardGraphs are the compiled pieces of a sharded step for one run of virtual shards, built on
// first use.
type shardGraphs struct {
	span [2]int // the virtual shards [v0, v1) they were built for
	// backIn[k] differentiates segment k as far as what the team's next exchange needs: the
	// gradient of its input (k > 0) with its per-image sums, and what backW[k] takes; backW[k]
	// gives its parameters' gradients per virtual shard from that, while the exchange is under
	// way (Shard.Start).
	backIn, backW [numSegments]*context.Exec
	apply         *context.Exec // Adam update from the combined gradients, unless Model.hostAdam
}

// forwardGraphs are the forward pass cut at the normalisations (segment), for shards of a
// training batch and chunks of an evaluation batch alike: segment k's output before
// normalisation with its per-image moments (imageMoments), and the last segment's
// log-probabilities. Each compiles once per batch size (see maxForwardSizes).
type forwardGraphs struct {
	segment [numSegments - 1]*context.Exec
	// normalising are segment's graphs for training steps, which also return their input
	// normalised (segments k > 0) and, on the im2col and Winograd formulations (not native), their
	// conv's im2col rows or transformed input tiles (forward.cols): the backward pass takes both as
	// they are, where it normalised segment k's output twice again (4 full-size passes a
	// normalisation), and pooled, gathered and transformed the conv's input again (4% of a native
	// step; the tiles are 2 MB for 32 images of the notebook's network). An evaluation keeps no
	// such buffer.
	normalising [numSegments - 1]*context.Exec
	logProbs    *context.Exec
	sizes       map[int]bool // the batch sizes they have been used for (Model.forwardFor)
}

// finalize frees the compiled graphs.
func (g *forwardGraphs) finalize() {
	for _, e := range append(append(g.segment[:], g.normalising[:]...), g.logProbs) {
		e.Finalize()
	}
}

// newExec compiles fn on the model's context, panicking on error: the graph builders run under
// recoverError.
func (m *Model) newExec(fn func(ctx *context.Context, in []*Node) []*Node) *context.Exec {
	e, err := context.NewExec(m.backend, m.ctx, fn)
	if err != nil {
		panic(err)
	}
	return e
}

// newForwardGraphs builds forwardGraphs. Segment k > 0 takes the previous output with its
// statistics, and normalises it first.
func (m *Model) newForwardGraphs() *forwardGraphs {
	g := &forwardGraphs{sizes: make(map[int]bool)}
	for k := range numSegments - 1 {
		build := func(normalised bool) *context.Exec {
			return m.newExec(func(ctx *context.Context, in []*Node) []*Node {
				x := in[0]
				if k > 0 {
					x = normalizeWith(x, in[1], in[2])
				}
				f := &forward{native: m.native}
				a := segment(m.cfg, m.graphWeights(x.Graph()), k, x, f)
				sums, m2 := imageMoments(a)
				out := []*Node{a, sums, m2}
				if normalised && k > 0 {
					out = append(out, x)
				}
				if normalised && f.cols[k] != nil {
					out = append(out, f.cols[k])
				}
				return out
			})
		}
		g.segment[k], g.normalising[k] = build(false), build(true)
	}
	k := numSegments - 1
	g.logProbs = m.newExec(func(ctx *context.Context, in []*Node) []*Node {
		x := normalizeWith(in[0], in[1], in[2])
		return []*Node{LogSoftmax(segment(m.cfg, m.graphWeights(x.Graph()), k, x, &forward{native: m.native}), -1)}
	})
	return g
}

// forwardStats runs the forward pass up to the last normalisation over this participant's images
// of a batch of globalBatch, given as chunks in image order (uint8 [n,28,28,1] tensors), each run
// on its own: a shard's images are one chunk; an evaluation batch is cut into several, so that
// its buffers are a chunk's. reduce (Shard.Reduce), once per normalisation, combines what every
// chunk here and every other shard of a team sent, so the statistics are the whole batch's, in
// the fixed order of foldMoments whatever the chunks and the team. It returns each segment's
// input per chunk (inputs[0] are the chunks) and the three normalisations' statistics. With keep false, each
// segment's output is freed once the next one is computed, and only inputs[0] and
// inputs[numSegments-1] come back: what an evaluation needs. With keep true, normalised[k] is
// inputs[k] normalised, per chunk, for 0 < k < numSegments-1: segment k computed it; and cols[k]
// is conv k's im2col rows or Winograd tiles per chunk, unless the conv is native.
func (m *Model) forwardStats(g *forwardGraphs, chunks []*tensors.Tensor, reduce func([]float32, Combine) ([]float32, error),
	globalBatch int, keep bool) (inputs, normalised, cols [numSegments][]*tensors.Tensor, stats [numSegments - 1]batchStats, err error) {
	inputs[0] = chunks
	for k := range numSegments - 1 {
		var sums, m2 []float32 // per image, in image order
		exec := g.segment[k]
		if keep {
			exec = g.normalising[k]
		}
		for _, x := range inputs[k] {
			args := []any{x}
			if k > 0 {
				args = append(args, stats[k-1].mean, stats[k-1].std)
			}
			out, err := m.exec(exec, args...)
			if err != nil {
				return inputs, normalised, cols, stats, err
			}
			inputs[k+1] = append(inputs[k+1], out[0])
			sums, m2 = append(sums, flat(out[1])...), append(m2, flat(out[2])...)
			if rest := out[3:]; keep {
				if k > 0 {
					normalised[k], rest = append(normalised[k], rest[0]), rest[1:]
				}
				if len(rest) > 0 {
					cols[k] = append(cols[k], rest[0])
				}
			}
		}
		if !keep && k > 0 {
			for _, x := range inputs[k] {
				_ = x.FinalizeAll()
			}
			inputs[k] = nil
		}
		dims := inputs[k+1][0].Shape().Dimensions
		c, rows := dims[3], globalBatch*dims[1]*dims[2]
		moments, err := reduce(append(sums, m2...), foldMoments(c, dims[1]*dims[2], rows, m.cfg.Epsilon))
		if err != nil {
			return inputs, normalised, cols, stats, err
		}
		stats[k] = batchStats{mean: tensors.FromFlatDataAndDimensions(moments[:c], c),
			std: tensors.FromFlatDataAndDimensions(moments[c:], c), rows: rows}
	}
	return inputs, normalised, cols, stats, nil
}

// batchStats is one normalisation's statistics over the global batch.
type batchStats struct {
	mean, std *tensors.Tensor // [C]
	rows      int             // global number of rows (images × height × width) averaged over
}

// free gives the statistics' buffers back to the backend once no graph reads them.
func (b batchStats) free() {
	_ = b.mean.FinalizeAll()
	_ = b.std.FinalizeAll()
}

// shardStep runs one training step on this shard's images and labels (its part of a global batch
// of globalBatch images) and applies the combined update. It returns the loss of the whole batch.
// Callers hold m.mu.
func (m *Model) shardStep(s *Shard, images []byte, labels []int32, globalBatch int) (float64, error) {
	g, err := m.shardGraphs(s, globalBatch)
	if err != nil {
		return 0, err
	}
	total, err := m.shardGradients(g, s, images, labels, globalBatch)
	if err != nil {
		return 0, err
	}
	var grads [][]float32
	offset := 0
	for _, p := range m.cfg.Params() {
		grads = append(grads, total[offset:offset+p.Size()])
		offset += p.Size()
	}
	if m.hostAdam {
		err = m.applyGradientsOnHost(grads)
	} else {
		args := make([]any, len(grads))
		for i, p := range m.cfg.Params() {
			args[i] = tensors.FromFlatDataAndDimensions(grads[i], p.Shape...)
		}
		_, err = m.exec(g.apply, args...)
	}
	if err != nil {
		return 0, err
	}
	return float64(total[len(total)-1]), nil
}

// shardGradients computes the gradients of the whole batch's loss, combined over the shards, for
// the parameters in Config.Params order, concatenated, followed by the loss itself.
func (m *Model) shardGradients(g *shardGraphs, s *Shard, images []byte, labels []int32, globalBatch int) ([]float32, error) {
	// Forward: segment by segment, with the batch statistics of each output.
	chunks, normChunks, colChunks, stats, err := m.forwardStats(m.forwardFor(len(labels)), []*tensors.Tensor{imageTensor(images)}, s.Reduce, globalBatch, true)
	if err != nil {
		return nil, err
	}
	var inputs, normalised [numSegments]*tensors.Tensor // each segment's input, and normalised (k > 0)
	for k, c := range chunks {
		inputs[k] = c[0]
		if len(normChunks[k]) > 0 {
			normalised[k] = normChunks[k][0]
		}
	}

	// Backward: the last segment gives the loss; each segment hands the gradient of its normalised
	// input, with its two per-image sums, to the one before, whose batch means the team then
	// exchanges (one exchange for both sums: every exchange is a barrier where the shards wait for
	// the slowest). Meanwhile each shard computes the segment's parameter gradients (backW), which
	// need nothing from the exchange.
	grads := make(map[string]*tensors.Tensor) // per parameter: its gradient of each of this shard's virtual shards
	labelsT := tensors.FromFlatDataAndDimensions(labels, len(labels))
	out, err := m.exec(g.backIn[3], inputs[3], stats[2].mean, stats[2].std, labelsT, float32(globalBatch))
	_ = labelsT.FinalizeAll()
	if err != nil {
		return nil, err
	}
	// out: each image's loss, g = dLoss/dy for the normalised input y, its per-image Σg and Σg·y,
	// y, then what backW[3] takes.
	losses := flat(out[0])
	gOut := out[1]
	normalised[3] = out[4]
	wait := m.startMeans(s, stats[2], out[2], out[3])
	err = m.weightGradients(g, 3, out[5:], grads)
	for _, t := range out[5:] {
		_ = t.FinalizeAll()
	}
	if err != nil {
		return nil, err
	}
	for k := numSegments - 2; k >= 0; k-- {
		means, err := wait()
		if err != nil {
			return nil, err
		}
		c := stats[k].mean.Shape().Dimensions[0]
		x := inputs[0]
		if k > 0 {
			x = normalised[k]
		}
		meanG, meanGY := tensors.FromFlatDataAndDimensions(means[:c], c), tensors.FromFlatDataAndDimensions(means[c:], c)
		out, err = m.exec(g.backIn[k], x, inputs[k+1], normalised[k+1], gOut, stats[k].std, meanG, meanGY)
		// No later segment reads these: their buffers go back to the backend's pools now, where
		// the collector would take them later and the next step would allocate afresh (in a
		// browser's team worker, whose memory limit leaves little room, 2 MB a step that made
		// the collector run several times a step).
		for _, t := range []*tensors.Tensor{inputs[k+1], normalised[k+1], gOut, meanG, meanGY} {
			_ = t.FinalizeAll()
		}
		stats[k].free()
		if err != nil {
			return nil, err
		}
		// out: the gradient of the conv's output before its ReLU, then for k > 0 the gradient of
		// x and its per-image Σ and Σ·x.
		if k > 0 {
			gOut = out[1]
			wait = m.startMeans(s, stats[k-1], out[2], out[3])
		}
		in := []*tensors.Tensor{out[0], x}
		in = append(in, colChunks[k]...)
		err = m.weightGradients(g, k, in, grads)
		for _, t := range append(colChunks[k], out[0]) {
			_ = t.FinalizeAll()
		}
		if err != nil {
			return nil, err
		}
	}

	_ = inputs[0].FinalizeAll() // the images

	// Combine the gradients, each of gradientPieces in turn (a whole pair of virtual shards added
	// here), and the images' losses, in one vector (for the notebook's network, 1.5 MB a piece:
	// written once), kept for the next step.
	params := m.cfg.Params()
	size := m.cfg.NumParams()
	v0, v1 := s.span(globalBatch)
	n := virtualShards(globalBatch)
	pieces := gradientPieces(v0, v1, n)
	if need := len(pieces)*size + len(losses); cap(m.combined) < need {
		m.combined = make([]float32, need)
	}
	all := m.combined[:len(pieces)*size+len(losses)]
	at := 0
	for _, piece := range pieces {
		for _, p := range params {
			dst := all[at : at+p.Size()]
			tensors.MustConstFlatData(grads[p.Name], func(g []float32) { // this shard's virtual shards, from v0
				var srcs [2][]float32
				for v := piece[0]; v < piece[1]; v++ {
					srcs[v-piece[0]] = g[(v-v0)*p.Size() : (v-v0+1)*p.Size()]
				}
				if wholePair(piece, n) {
					kernels.SumVectors32(dst, srcs[:piece[1]-piece[0]], 1)
				} else {
					copy(dst, srcs[0])
				}
			})
			at += p.Size()
		}
	}
	copy(all[at:], losses)
	for _, t := range grads {
		_ = t.FinalizeAll()
	}
	return s.Reduce(all, foldGradients(globalBatch, s.Count, size, &m.folded))
}

// startMeans starts the team's exchange of a normalisation's two per-image sums, sums and
// sumsY [images, C], for the batch's means of the gradient g and of g·y (foldImages), over the
// rows of stats.
func (m *Model) startMeans(s *Shard, stats batchStats, sums, sumsY *tensors.Tensor) func() ([]float32, error) {
	c, rows := stats.mean.Shape().Dimensions[0], stats.rows
	return s.Start(append(flat(sums), flat(sumsY)...), foldImages(2, c, func(sum float64) float32 {
		return float32(sum / float64(rows))
	}))
}

// weightGradients runs backW[k] on in and puts segment k's parameter gradients (its outputs, in
// segmentParams order, each [virtual shards, shape...]) into grads.
func (m *Model) weightGradients(g *shardGraphs, k int, in []*tensors.Tensor, grads map[string]*tensors.Tensor) error {
	args := make([]any, len(in))
	for i, t := range in {
		args[i] = t
	}
	out, err := m.exec(g.backW[k], args...)
	if err != nil {
		return err
	}
	for i, p := range m.cfg.segmentParams(k) {
		grads[p.Name] = out[i]
	}
	return nil
}

// shardGraphs builds the graphs of a sharded step for s's virtual shards of a batch, once.
func (m *Model) shardGraphs(s *Shard, batch int) (*shardGraphs, error) {
	v0, v1 := s.span(batch)
	if m.shards != nil && m.shards.span == [2]int{v0, v1} {
		return m.shards, nil
	}
	// Image bounds of this shard's virtual shards, from its first image.
	bounds := shardBounds(batch)[v0 : v1+1]
	for i := len(bounds) - 1; i >= 0; i-- {
		bounds[i] -= bounds[0]
	}
	g := &shardGraphs{span: [2]int{v0, v1}}
	newExec := m.newExec

	// The last segment: inputs a, mean, std, labels, global batch; outputs each image's loss,
	// then g = dLoss/dy for its normalised input y, its per-image Σg and Σg·y, and y, which
	// segment 2's backward pass takes; then each dense layer's input and the gradient of its
	// output before its activation, from which backW[3] gives the parameters' gradients.
	g.backIn[3] = newExec(func(ctx *context.Context, in []*Node) []*Node {
		w := m.graphWeights(in[0].Graph())
		y := normalizeWith(in[0], in[1], in[2])
		hs, dZ, losses, gy := denseForwardBackward(m.cfg, w, y, in[3], in[4])
		return append(append([]*Node{losses, gy, imageSums32(gy), imageSums32(Mul(gy, y)), y}, hs...), dZ...)
	})
	g.backW[3] = newExec(func(ctx *context.Context, in []*Node) []*Node {
		return denseWeightGradients(in[:len(in)/2], in[len(in)/2:], bounds)
	})
	// Segments 2..0: inputs x (segment 0: the images; else the previous segment's output
	// normalised, as the forward pass computed it), then for its own output: a (from the forward
	// pass), a normalised (y), g, std, and the batch's mean(g) and mean(g·y); outputs the
	// gradient of the conv's output before its ReLU, dPre, then for k > 0 that of x with its
	// per-image Σ and Σ·x. backW[k] takes dPre, x and, unless the conv is native, its im2col rows
	// or Winograd tiles from the forward pass (forwardGraphs.normalising).
	for k := range numSegments - 1 {
		g.backIn[k] = newExec(func(ctx *context.Context, in []*Node) []*Node {
			w := m.graphWeights(in[0].Graph())
			x, a, y, gOut, std, meanG, meanGY := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
			dPre := convPreGradient(a, normalizeGradient(gOut, y, meanG, meanGY, std))
			if k == 0 {
				return []*Node{dPre}
			}
			gx := convInputGradient(m.cfg, w, k, x, convInput(m.cfg, k, x), dPre, a.Shape().Dimensions)
			return []*Node{dPre, gx, imageSums32(gx), imageSums32(Mul(gx, x))}
		})
		g.backW[k] = newExec(func(ctx *context.Context, in []*Node) []*Node {
			dPre, x := in[0], in[1]
			var cols *Node
			if len(in) > 2 {
				cols = in[2]
			}
			return convWeightGradients(m.cfg, k, convInput(m.cfg, k, x), cols, dPre, convOutDims(m.cfg, k, x.Shape().Dimensions[0]), bounds)
		})
	}

	// The update takes the gradients in Config.Params order.
	if !m.hostAdam {
		g.apply = newExec(func(ctx *context.Context, grads []*Node) []*Node {
			m.applyGradients(grads)
			return []*Node{ScalarZero(grads[0].Graph(), grads[0].DType())}
		})
	}
	m.shards = g
	return g, nil
}

// imageMoments returns, for each image of x [B,H,W,C] and each channel, the sum of its positions'
// values and their sum of squares around the image's own mean (M2ᵢ = Σ(x - meanᵢ)², meanᵢ being
// the sum / positions): [B,C] each, in float32. foldMoments combines them over the batch.
// Centring each image on its own mean, known in the same graph, spares a second exchange and a
// second graph, and keeps the squares small where the mean is large beside the spread (as a plain
// Σx² would not).
//
// Each sum runs along the rows, then adds the rows' sums (imageSumsByRows): about H+W roundings
// deep instead of H·W, so a sum of 784 positions (28×28) is off by a few 1e-7 of itself, near the rounding to
// float32 that every exchanged value gets. Adding in float64 did as well, from two float64 copies
// of every normalised activation, which took 14–23% of a step's time in WebAssembly
// (BENCHMARKS.md).
func imageMoments(x *Node) (sums, m2 *Node) {
	d := x.Shape().Dimensions
	sums = imageSumsByRows(x)
	mean := Div(sums, Scalar(x.Graph(), x.DType(), float64(d[1]*d[2])))
	centred := Sub(x, InsertAxes(mean, 1, 1))
	return sums, imageSumsByRows(Square(centred))
}

// imageSumsByRows is the sum of x [B,H,W,C] over each image's positions, per channel: [B,C], in
// float32, along each row and then over the rows' sums.
func imageSumsByRows(x *Node) *Node { return ReduceSum(ReduceSum(x, 2), 1) }

// imageSums32 is the sum of x [B,H,W,C] over each image's positions, per channel: [B,C], in
// float32 in one run over the positions: for the backward sums, over an image's at most 196
// positions, where that loses nothing that matters. (imageSumsByRows' order would serve as well,
// but would change every run's bits.) One reduction over both axes, which the kernel runs as
// one over H·W positions: a reshape to [B,H·W,C] first, of a gradient still in use, copied it.
func imageSums32(x *Node) *Node { return ReduceSum(x, 1, 2) }

// shardProducts is aᵀ·d for each virtual shard: a [R,I] and d [R,O] hold the rows of
// consecutive virtual shards, shard v being rows rows[v] to rows[v+1]-1; the result is [V,I,O].
// Shards of equal size share one batched DotGeneral, whose batch axis is the shard: each
// product's inner loop runs over its own shard's rows in order, so it gives the same bits as
// that shard alone would.
func shardProducts(a, d *Node, rows []int) *Node {
	return perShardGroup(rows, func(lo, hi, n int) *Node {
		ga, gd := shardRows(a, lo, hi, rows[len(rows)-1], n), shardRows(d, lo, hi, rows[len(rows)-1], n)
		return DotGeneral(ga, []int{1}, []int{0}, gd, []int{1}, []int{0})
	})
}

// shardColumnSums is the sum of d [R,O] over each virtual shard's rows (see shardProducts): [V,O].
func shardColumnSums(d *Node, rows []int) *Node {
	return perShardGroup(rows, func(lo, hi, n int) *Node {
		return ReduceSum(shardRows(d, lo, hi, rows[len(rows)-1], n), 1)
	})
}

// perShardGroup calls op on each run of equal-size virtual shards (rows lo to hi-1, n shards) and
// concatenates the results along their first axis.
func perShardGroup(rows []int, op func(lo, hi, n int) *Node) *Node {
	var parts []*Node
	for v := 0; v < len(rows)-1; {
		size, n := rows[v+1]-rows[v], 1
		for v+n < len(rows)-1 && rows[v+n+1]-rows[v+n] == size {
			n++
		}
		parts = append(parts, op(rows[v], rows[v+n], n))
		v += n
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, 0)
}

// shardRows returns rows lo..hi-1 of x [total, W] as [n, (hi-lo)/n, W].
func shardRows(x *Node, lo, hi, total, n int) *Node {
	if lo != 0 || hi != total {
		x = Slice(x, AxisRange(lo, hi))
	}
	return Reshape(x, n, (hi-lo)/n, x.Shape().Dimensions[1])
}

// scaled returns image bounds as row bounds, for rows per image.
func scaled(bounds []int, rows int) []int {
	out := make([]int, len(bounds))
	for i, b := range bounds {
		out[i] = b * rows
	}
	return out
}

// denseBackward computes the last segment (see segment), its max-pools and dense layers, on its
// normalised input y, and differentiates the loss by hand: it returns the gradients of its
// parameters per virtual shard (segmentParams order, each [V, shape...]), each image's loss, and
// the gradient of the loss with respect to y. labels are the images' digits, n the global batch
// size (float32 scalar): the loss is the batch's mean. bounds are the image bounds of the virtual
// shards.
func denseBackward(c Config, w weights, y, labels, n *Node, bounds []int) (grads []*Node, losses, gy *Node) {
	hs, dZ, losses, gy := denseForwardBackward(c, w, y, labels, n)
	return denseWeightGradients(hs, dZ, bounds), losses, gy
}

// denseForwardBackward is denseBackward but for the parameters' gradients: it returns each dense
// layer's input hs[i] and the gradient dZ[i] of its output before its activation, from which
// denseWeightGradients gives them.
func denseForwardBackward(c Config, w weights, y, labels, n *Node) (hs, dZ []*Node, losses, gy *Node) {
	batch := y.Shape().Dimensions[0]
	pooled := y
	var layers []layer // the dense layers
	for _, l := range c.segments()[numSegments-1] {
		if l.kind == poolLayer {
			pooled = maxPool(pooled)
		} else {
			layers = append(layers, l)
		}
	}
	matmul := func(x, k *Node) *Node { return DotGeneral(x, []int{1}, nil, k, []int{0}, nil) }
	// Forward, keeping each layer's input (hs[i]; hs[len(layers)] are the logits).
	hs = []*Node{Reshape(pooled, batch, layers[0].in)}
	for i, l := range layers {
		hs = append(hs, l.act.apply(Add(matmul(hs[i], w[l.name+".kernel"]), InsertAxes(w[l.name+".bias"], 0))))
	}
	if layers[len(layers)-1].act != linear {
		panic("the last dense layer gives the logits: it has no activation")
	}
	logProbs := LogSoftmax(hs[len(layers)], -1)
	oneHot := OneHot(labels, mnist.NumClasses, logProbs.DType())
	losses = Neg(ReduceSum(Mul(oneHot, logProbs), -1))
	// Backwards, layer by layer, from d(mean loss)/d logits = (softmax - one-hot) / n: dZ[i] is the
	// gradient of layer i before its activation, dIn that of its input.
	dZ = make([]*Node, len(layers))
	dZ[len(layers)-1] = Div(Sub(Exp(logProbs), oneHot), n)
	var dIn *Node
	for i := len(layers) - 1; i >= 0; i-- {
		dIn = DotGeneral(dZ[i], []int{1}, nil, w[layers[i].name+".kernel"], []int{1}, nil) // dZ·kernelᵀ
		if i == 0 {
			break
		}
		switch h := hs[i]; layers[i-1].act {
		case reluAct:
			dZ[i-1] = Mul(dIn, reluMask(h))
		case sigmoidAct:
			dZ[i-1] = Mul(dIn, Mul(h, OneMinus(h)))
		default:
			dZ[i-1] = dIn
		}
	}
	// Through the max-pools: their gradient sends each window's gradient to its first maximum.
	gy = Gradient(ReduceAllSum(Mul(pooled, StopGradient(Reshape(dIn, pooled.Shape().Dimensions...)))), y)[0]
	return hs[:len(layers)], dZ, losses, gy
}

// denseWeightGradients returns the dense layers' parameter gradients per virtual shard
// (segmentParams order, each [V, shape...]) from each layer's input hs[i] and the gradient dZ[i]
// of its output before its activation; bounds are the image bounds of the virtual shards.
func denseWeightGradients(hs, dZ []*Node, bounds []int) (grads []*Node) {
	for i := range dZ {
		grads = append(grads, shardProducts(hs[i], dZ[i], bounds), shardColumnSums(dZ[i], bounds))
	}
	return grads
}

// convInput builds conv k's input from its segment's input x (segment 0: the images, which it
// scales to [0,1]; else the normalised output of segment k-1): x through the segment's max-pools.
func convInput(c Config, k int, x *Node) *Node {
	if k == 0 {
		x = unitPixels(x)
	}
	seg := c.segments()[k]
	for range seg[:len(seg)-1] {
		x = maxPool(x)
	}
	return x
}

// convBackward differentiates conv segment k (see segment) by hand, from its input x (segment 0:
// the images; else the normalised output of segment k-1), its output a = ReLU(conv) and the
// gradient dA of the loss with respect to a. It returns the gradients of the conv's kernel and
// bias per virtual shard ([V, shape...]; bounds are the virtual shards' image bounds), then, for
// k > 0, the gradient of x (convWeightGradients, convInputGradient). The forward matrix product
// is not rebuilt, since the ReLU's mask is a > 0 and the conv is linear.
//
// fwd, when set, is the forward pass that computed x and a in the same graph: its conv inputs,
// im2col rows or transformed tiles are used as they are (the same values as those built again).
func convBackward(c Config, w weights, k int, x, a, dA *Node, bounds []int, fwd *forward) []*Node {
	var convIn, cols *Node
	if fwd != nil {
		convIn, cols = fwd.ins[k], fwd.cols[k]
	} else {
		convIn = convInput(c, k, x)
	}
	dPre := convPreGradient(a, dA)
	dims := a.Shape().Dimensions
	grads := convWeightGradients(c, k, convIn, cols, dPre, dims, bounds)
	if k == 0 {
		return grads
	}
	return append(grads, convInputGradient(c, w, k, x, convIn, dPre, dims))
}

// convOutDims are the dimensions of conv k's output for batch images, [B,H,W,F].
func convOutDims(c Config, k, batch int) []int {
	seg := c.segments()[k]
	l := seg[len(seg)-1]
	return []int{batch, l.side, l.side, l.out}
}

// convPreGradient is the gradient of a conv's output before its ReLU, [rows, F], from dA, that of
// its output a = ReLU(conv) [B,H,W,F].
func convPreGradient(a, dA *Node) *Node {
	return Reshape(Mul(dA, StopGradient(reluMask(a))), -1, a.Shape().Dimensions[3])
}

// convWeightGradients returns the gradients of conv k's kernel and bias per virtual shard from
// dPre (convPreGradient) and the conv's input convIn (convInput); dims are the conv's output's.
// cols, when set, are the conv's im2col rows or Winograd tiles of convIn (the forward pass's);
// else they are built from convIn.
func convWeightGradients(c Config, k int, convIn, cols, dPre *Node, dims, bounds []int) []*Node {
	seg := c.segments()[k]
	l := seg[len(seg)-1]
	rows := scaled(bounds, dims[1]*dims[2])
	if useWinograd(l.k, l.stride, false) {
		return []*Node{winogradFilterGradient(convIn, cols, Reshape(dPre, dims...), bounds), shardColumnSums(dPre, rows)}
	}
	if cols == nil {
		cols = convCols(convIn, l.k, l.stride) // [rows, K*K*C]
	}
	kernelDims := []int{l.k, l.k, l.in, l.out}
	return []*Node{Reshape(shardProducts(cols, dPre, rows), append([]int{len(bounds) - 1}, kernelDims...)...), shardColumnSums(dPre, rows)}
}

// convInputGradient returns the gradient of conv segment k's input x (k > 0), through the conv
// and the segment's max-pools, from dPre (convPreGradient); convIn is the conv's input built from
// x (convInput) in the same graph, dims the conv's output's. The gradient goes back through ops
// built here from x, whose values nothing reads (so the graph never computes them).
func convInputGradient(c Config, w weights, k int, x, convIn, dPre *Node, dims []int) *Node {
	seg := c.segments()[k]
	l := seg[len(seg)-1]
	kernel := w[l.name+".kernel"]
	if useWinograd(l.k, l.stride, false) {
		dIn := winogradInputGradient(Reshape(dPre, dims...), kernel)
		if len(seg) == 1 { // the conv's input is x itself
			return dIn
		}
		return Gradient(ReduceAllSum(Mul(convIn, StopGradient(dIn))), x)[0]
	}
	dCols := DotGeneral(dPre, []int{1}, nil, Reshape(kernel, -1, dims[3]), []int{1}, nil)
	return Gradient(ReduceAllSum(Mul(convCols(convIn, l.k, l.stride), StopGradient(dCols))), x)[0]
}

// soloStep runs one training step of a team of one on a whole batch and returns its loss. It
// computes what shardStep computes for a shard holding every virtual shard, the same bits, but
// as one graph: the folds of shard.go's combines (foldMoments, foldImages, foldGradients) are
// graph ops that add in the same order (ReduceSum adds rows one after another from zero, and
// divides and square roots are IEEE's), and nothing is computed twice, so a worker alone pays next to nothing for
// the fixed order. TestSameBitsAnyTeam checks it against teams. Callers hold m.mu.
func (m *Model) soloStep(images []byte, labels []int32) (float64, error) {
	if m.soloExec == nil {
		exec, err := context.NewExec(m.backend, m.ctx, func(ctx *context.Context, images, labels *Node) []*Node {
			return m.soloGraph(images, labels)
		})
		if err != nil {
			return 0, err
		}
		m.soloExec = exec
	}
	imagesT, labelsT := imageTensor(images), tensors.FromFlatDataAndDimensions(labels, len(labels))
	out, err := m.exec(m.soloExec, imagesT, labelsT)
	_, _ = imagesT.FinalizeAll(), labelsT.FinalizeAll() // their buffers back to the backend's pools now
	if err != nil {
		return 0, err
	}
	loss := float64(scalar(out[0]))
	if m.hostAdam {
		// The gradients, read where the graph left them (the backend's buffers are this process's).
		grads := make([][]float32, len(out)-1)
		for i, t := range out[1:] {
			if err := tensors.ConstFlatData(t, func(f []float32) { grads[i] = f }); err != nil {
				return 0, err
			}
		}
		err = m.applyGradientsOnHost(grads)
		for _, t := range out[1:] {
			_ = t.FinalizeAll()
		}
	}
	return loss, err
}

// soloGraph builds soloStep's graph: forward with the batch statistics, backward by hand, the
// gradients added over the virtual shards, and the Adam update unless Model.hostAdam. It returns
// the batch's loss, followed, with hostAdam, by the gradients in Config.Params order.
func (m *Model) soloGraph(images, labels *Node) []*Node {
	gr := images.Graph()
	batch := images.Shape().Dimensions[0]
	bounds := shardBounds(batch)
	w := m.graphWeights(gr)
	f64 := func(v float64) *Node { return Scalar(gr, dtypes.Float64, v) }
	// foldImages: the per-image sums [B,C] added in image order in float64, then finish.
	fold := func(sums *Node, finish func(sum *Node) *Node) *Node {
		return ConvertDType(finish(ReduceSum(ConvertDType(sums, dtypes.Float64), 0)), dtypes.Float32)
	}

	// Forward, keeping each segment's input and output, and each normalisation's statistics.
	var xs, as, means, stds [numSegments]*Node
	fwd := &forward{}
	xs[0] = images
	for k := range numSegments - 1 {
		a := segment(m.cfg, w, k, xs[k], fwd)
		dims := a.Shape().Dimensions
		n, rows := f64(float64(dims[1]*dims[2])), f64(float64(batch*dims[1]*dims[2]))
		// foldMoments: the batch's mean, then M2 = Σᵢ (M2ᵢ + n·(meanᵢ - mean)²) in image order.
		sums, m2 := imageMoments(a)
		sums64 := ConvertDType(sums, dtypes.Float64)
		mean := Div(ReduceSum(sums64, 0), rows)
		d := Sub(Div(sums64, n), InsertAxes(mean, 0))
		sum := ReduceSum(Add(ConvertDType(m2, dtypes.Float64), Mul(n, Square(d))), 0)
		as[k] = a
		means[k] = ConvertDType(mean, dtypes.Float32)
		stds[k] = ConvertDType(Sqrt(Add(Div(sum, rows), f64(m.cfg.Epsilon))), dtypes.Float32)
		xs[k+1] = normalizeWith(a, means[k], stds[k])
	}

	// Backward.
	grads := make(map[string]*Node) // per parameter: [virtual shards, shape...]
	collect := func(k int, out []*Node) []*Node {
		params := m.cfg.segmentParams(k)
		for i, p := range params {
			grads[p.Name] = out[i]
		}
		return out[len(params):]
	}
	dense, losses, g := denseBackward(m.cfg, w, xs[3], labels, Scalar(gr, dtypes.Float32, float64(batch)), bounds)
	collect(3, dense)
	for k := numSegments - 2; k >= 0; k-- {
		a, y := as[k], xs[k+1]
		dims := a.Shape().Dimensions
		rows := f64(float64(batch * dims[1] * dims[2]))
		mean := func(sums *Node) *Node { return fold(sums, func(sum *Node) *Node { return Div(sum, rows) }) }
		meanG, meanGY := mean(imageSums32(g)), mean(imageSums32(Mul(g, y)))
		dA := normalizeGradient(g, y, meanG, meanGY, stds[k])
		rest := collect(k, convBackward(m.cfg, w, k, xs[k], a, dA, bounds, fwd))
		if k > 0 {
			g = rest[0]
		}
	}

	// foldGradients: the virtual shards' gradients added in pairs, then the pairs (each sum from
	// zero, row by row, as SumVectors32 adds), then the update.
	var total []*Node
	for _, p := range m.cfg.Params() {
		g := grads[p.Name]
		n := g.Shape().Dimensions[0]
		if n%2 == 0 { // [pairs, 2, ...]: each pair summed along its own axis, with no copy
			g = ReduceSum(Reshape(g, append([]int{n / 2, 2}, g.Shape().Dimensions[1:]...)...), 1)
		} else {
			var pairs []*Node
			for a := 0; a < n; a += 2 {
				pairs = append(pairs, ReduceSum(SliceAxis(g, 0, AxisRange(a, min(a+2, n))), 0))
			}
			g = Stack(pairs, 0)
		}
		total = append(total, ReduceSum(g, 0))
	}
	loss := fold(losses, func(sum *Node) *Node { return Div(sum, f64(float64(batch))) })
	if m.hostAdam {
		return append([]*Node{loss}, total...)
	}
	m.applyGradients(total)
	return []*Node{loss}
}
