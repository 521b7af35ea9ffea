package model

// An estimate of the memory a configuration needs on the pure-Go backend (simplego), which runs a
// graph's ops one after another and gives each buffer back after its last use. So the memory of a
// graph at any moment is the buffers still to be used, and the peak is the largest such moment.
// The estimate walks the moments of network.go's graph where that sum is largest, layer by layer:
//
//   - conv: its im2col Gather [rows, k*k*C], with its input rows or its output beside it;
//   - the normalisation after it: the activation, its centred copy and its squares;
//   - max-pool: its input beside its output (it reads each window where it lies); going back,
//     its input beside its gradient, of the same size;
//   - training keeps, until the backward pass reaches each layer, the conv's im2col (for its
//     kernel's gradient), the ReLU's mask and the normalisation's two centred copies (three
//     activations), and each max-pool's output; going back, a conv's im2col gets a gradient of
//     the same size (dCols), and every weight a gradient;
//   - Adam's update: the gradients and new values of the weights and of both moments.
//
// It counts 4 bytes per value (float32 and the graphs' int32 index tables) and leaves out what is
// small: biases, scalars, the dense layers' activations beside a conv's. These moments were found
// by counting simplego's live buffers op by op; against the heap in use (runtime.MemStats,
// memory_test.go) the estimate was 1.08x to 1.17x on the three configurations measured (1.08x
// on the largest), and the test holds it within 0.5x to 2x.
//
// A sharded step (shard.go) runs the same layers on a shard's part of the batch, one segment
// graph at a time, so a shard needs no more than a whole-batch step at its own batch size: the
// estimate at BatchSize is an upper bound for every worker of a team. XLA, with its own
// convolutions and memory planning, differs.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mnist-trainer/mnist/mnist"
)

// BrowserMemoryLimit is the largest MemoryEstimate.Peak the browser trainer accepts. A Web
// Worker's WebAssembly memory stops at 4 GB and never shrinks, and Go's heap grows to about twice
// what is live before its collector runs (GOGC=100): 1.5 GB live leaves room for that doubling,
// for the MNIST images each worker holds (55 MB) and for the runtime, within 4 GB.
const BrowserMemoryLimit = 1_500_000_000

// bytesPerTrainedParam is what the estimate counts for each weight at least: its value, Adam's
// two moments, its gradient, and the new value of all three in Adam's update, and its gradient of
// each virtual shard (one at least), 4 bytes each.
const bytesPerTrainedParam = 4 * (3 + 4 + 1)

// maxTrainableParams bounds the parameters of every configuration within BrowserMemoryLimit,
// since its estimate counts bytesPerTrainedParam bytes for each.
const maxTrainableParams = BrowserMemoryLimit / bytesPerTrainedParam

// evalGraphsCounted is how many compiled evaluation graphs of evalChunk images the estimate
// counts the index tables of: an evaluation's chunks have at most two sizes (splitEven), and a
// page's training loss, test images and Evaluate button rarely more between them.
const evalGraphsCounted = 2

// MemoryEstimate is how many bytes training and evaluating a configuration holds at once on the
// pure-Go backend, by part. It is an estimate of live memory: Go's heap grows to about twice that
// before the collector runs.
type MemoryEstimate struct {
	// Params is the weights, float32.
	Params int64 `json:"params"`
	// Adam is the optimiser's state: a first and a second moment per weight.
	Adam int64 `json:"adam"`
	// Constants is the compiled graphs' index tables (the im2col and Winograd gathers): the training
	// step's and two evaluation graphs'.
	Constants int64 `json:"constants"`
	// Train is a training step's buffers at their peak, at BatchSize images: activations kept
	// for the backward pass, im2col, each virtual shard's gradients and Adam's update.
	Train int64 `json:"train"`
	// Eval is an evaluation batch's buffers at their peak: a chunk's (evalChunk images) beside the
	// activations of the whole batch (EvalBatch) between two segments.
	Eval int64 `json:"eval"`
	// Peak is Params + Adam + Constants + the larger of Train and Eval: what is live at the worst
	// moment of a run.
	Peak int64 `json:"peak"`
	// Driver is the largest part of Peak in words, with the settings it grows with, e.g.
	// "conv3's im2col at the evaluation chunk of 50 (filters, kernel)".
	Driver string `json:"driver"`
	// Keys are those settings (Field keys), those changed from the notebook's first: what to
	// change to need less.
	Keys []string `json:"keys"`
}

// memPart is one group of buffers live at a moment: 4-byte values, and the settings its size
// grows with.
type memPart struct {
	what  string
	units int64
	keys  []string
}

// moment is what is live at one point of a graph's run, beyond the weights and Adam's moments.
type moment []memPart

func (m moment) units() int64 {
	var n int64
	for _, p := range m {
		n += p.units
	}
	return n
}

// Names of the parts, so that the same buffers in different moments add up.
const (
	partWeights = "the weights and Adam's state"
	partDense   = "the dense layers' activations"
	partImages  = "the images"
)

// MemoryEstimate estimates the memory of training and evaluating c on the pure-Go backend (see
// the comment at the top of memory.go for what it counts).
func (c Config) MemoryEstimate() MemoryEstimate { return c.ReplicaMemoryEstimate(1) }

// CombineBytes is what the first of a team of n replicas holds beyond its own share of a step to
// combine the step's gradients (Shard's last exchange), where it alone combines, as worker 0 of
// a browser team does (wasm/peers_js.go): the other replicas' vectors of gradients
// (gradientPieces), as they arrive, the sums of the pairs of virtual shards that two replicas sent
// halves of, and the total. 3 MB for the notebook's network in a team of two; 0 alone.
func (c Config) CombineBytes(n int) int64 {
	if n < 2 {
		return 0
	}
	shards := virtualShards(c.BatchSize)
	vectors := 1 // the total
	for i := range n {
		s := Shard{Index: i, Count: n}
		v0, v1 := s.span(c.BatchSize)
		for _, piece := range gradientPieces(v0, v1, shards) {
			if i > 0 {
				vectors++
			}
			if !wholePair(piece, shards) && piece[0]%2 == 0 { // a pair's first half: its sum too
				vectors++
			}
		}
	}
	return 4 * int64(c.NumParams()) * int64(vectors)
}

// ReplicaMemoryEstimate estimates the memory of n replicas of c's model in one process, as
// TrainReplicas runs them (the native command's -workers): each holds its own weights and Adam's
// state, trains on its share of every batch (its virtual shards, see Shard) and evaluates batches
// of its own, all at the same time. The parts are the sums over the replicas.
func (c Config) ReplicaMemoryEstimate(n int) MemoryEstimate {
	n = max(n, 1)
	var batch, shards int64 // the largest share of a batch, in images and in virtual shards
	for i := range n {
		s := Shard{Index: i, Count: n}
		lo, hi := s.part(c.BatchSize)
		v0, v1 := s.span(c.BatchSize)
		batch, shards = max(batch, int64(hi-lo)), max(shards, int64(v1-v0))
	}
	reps := int64(n)
	p := int64(c.NumParams())
	e := MemoryEstimate{
		Params:    reps * 4 * p,
		Adam:      reps * 8 * p,
		Constants: reps * 4 * (c.indexUnits(batch) + evalGraphsCounted*c.indexUnits(evalChunk)),
	}
	train, eval := c.trainMoments(batch), c.evalMoments(evalChunk)
	worstTrain, worstEval := worst(train), worst(eval)
	e.Train, e.Eval = reps*4*worstTrain.units(), reps*4*(worstEval.units()+c.segmentOutputs(EvalBatch))
	// Each virtual shard's gradients, added up at the end of a step (1.5 MB each for the notebook's
	// network): small beside the activations, but counted.
	e.Train += reps * 4 * shards * p
	e.Peak = e.Params + e.Adam + e.Constants + max(e.Train, e.Eval)

	// The driver: the largest part of the worst moment, the weights and Adam's moments included.
	at := fmt.Sprintf("at batch %d", c.BatchSize)
	if n > 1 {
		at = fmt.Sprintf("at batch %d (%d images in each of %d replicas)", c.BatchSize, batch, n)
	}
	peak := worstTrain
	if e.Eval > e.Train {
		at, peak = fmt.Sprintf("at the evaluation chunk of %d", evalChunk), worstEval
	}
	parts := map[string]memPart{partWeights: {partWeights, 3 * p, keysWeights}}
	for _, part := range peak {
		part.units += parts[part.what].units
		parts[part.what] = part
	}
	var top memPart
	for _, q := range parts { // the largest, and of equal ones the first by name: deterministic
		if q.units > top.units || q.units == top.units && q.what < top.what {
			top = q
		}
	}
	e.Keys = c.blame(top.keys)
	if top.what == partWeights {
		e.Driver = fmt.Sprintf("%s (%s parameters; %s)", partWeights, thousands(p), strings.Join(e.Keys, ", "))
	} else {
		e.Driver = fmt.Sprintf("%s %s (%s)", top.what, at, strings.Join(e.Keys, ", "))
	}
	return e
}

// worst returns the moment with the most units.
func worst(moments []moment) moment {
	var w moment
	for _, m := range moments {
		if m.units() > w.units() {
			w = m
		}
	}
	return w
}

// layerSize is the size, in values, of one layer's big tensors for a batch.
type layerSize struct {
	cols     int64 // conv: its im2col, or Winograd's tiles and products
	winograd bool  // conv: whether it is Winograd's
	out      int64 // its output: a conv's activations, a max-pool's pooled output
}

// sizes are the sizes of the big tensors of a batch of b images, for each of layers.
type sizes struct {
	in     int64 // the images as float32
	layers []layerSize
	dense  int64 // the dense layers' inputs and outputs, all of them
}

func (c Config) sizes(b int64) sizes {
	s := sizes{in: b * mnist.ImageSize * mnist.ImageSize}
	denseIn := true
	for _, l := range c.layers() {
		var z layerSize
		rows := b * int64(l.side*l.side) // output positions
		switch l.kind {
		case convLayer:
			z.cols, z.out = rows*int64(l.k*l.k*l.in), rows*int64(l.out)
			// A Winograd conv (winograd.go) has no im2col; its largest moment holds the transformed
			// input tiles [n², tiles, C] and the products [n², tiles, F] (measured natively with
			// F(2×2, 3×3) forced on: without this, the notebook's estimate was 0.59x of the heap,
			// its evaluation peak 99 MB).
			if useWinograd(l.k, l.stride, false) {
				nt := int64(winograd.tiles(l.side))
				z.cols, z.winograd = int64(winograd.positions())*b*nt*nt*int64(l.in+l.out), true
			}
		case poolLayer:
			z.out = rows * int64(l.out)
		case denseLayer:
			if denseIn {
				s.dense, denseIn = b*int64(l.in), false
			}
			s.dense += b * int64(l.out)
		}
		s.layers = append(s.layers, z)
	}
	return s
}

// Settings that the parts grow with: the batch (in training), the filters, the kernel, the
// stride (conv1's, which sets every layer's side) and the dense widths.
var (
	keysCols1   = []string{"kernel", "stride"}
	keysCols    = []string{"filters", "kernel", "stride"}
	keysAct     = []string{"filters", "stride"}
	keysDense   = []string{"dense", "filters", "stride"}
	keysWeights = []string{"filters", "kernel", "dense", "stride"}
)

// parts names the big tensors of the layers' moments; batch adds "batch" to their settings in
// training.
type parts struct {
	layers []layer
	s      sizes
	batch  bool
}

func (c Config) parts(b int64, training bool) parts {
	return parts{layers: c.layers(), s: c.sizes(b), batch: training}
}

func (p parts) keys(k []string) []string {
	if p.batch {
		return append([]string{"batch"}, k...)
	}
	return k
}

// cols is n units of the im2col (or Winograd's tiles) of conv layer i.
func (p parts) cols(i int, n int64) memPart {
	k := keysCols
	if i == 0 { // the images': its size does not grow with the filters
		k = keysCols1
	}
	return memPart{p.layers[i].name + colsName(p.s.layers[i]), n * p.s.layers[i].cols, p.keys(k)}
}

// colsName names a conv's largest input-side part: its im2col, or its Winograd tiles.
func colsName(s layerSize) string {
	if s.winograd {
		return "'s Winograd tiles"
	}
	return "'s im2col"
}

// out is n units of layer i's output: a conv's activations, a max-pool's output.
func (p parts) out(i int, n int64) memPart {
	what := "'s activations"
	if p.layers[i].kind == poolLayer {
		what = "'s output"
	}
	return memPart{p.layers[i].name + what, n * p.s.layers[i].out, p.keys(keysAct)}
}

// inGrad is the gradient of max-pool layer i's input, whose size is in's.
func (p parts) inGrad(i int, in memPart) memPart {
	return memPart{p.layers[i].name + "'s input gradient", in.units, in.keys}
}

func (p parts) images() memPart { return memPart{partImages, 2 * p.s.in, nil} }

func (p parts) dense() memPart { return memPart{partDense, 2 * p.s.dense, p.keys(keysDense)} }

// evalMoments lists the moments of a forward pass of b images where the most is live, layer by
// layer:
//
//   - a conv: its im2col beside its input (the images as float32 and as padded rows, or the layer
//     before's output), then beside its output; the ReLU (output and mask) and the normalisation
//     (the activation, its centred copy, its squares);
//   - a max-pool: its input beside its output;
//   - the dense layers, all together.
func (c Config) evalMoments(b int64) []moment {
	p := c.parts(b, false)
	var ms []moment
	in := p.images() // the input of layer i
	for i, l := range p.layers {
		switch l.kind {
		case convLayer:
			ms = append(ms, moment{p.cols(i, 1), in}, moment{p.cols(i, 1), p.out(i, 1)}, moment{p.out(i, 3)})
		case poolLayer:
			ms = append(ms, moment{in, p.out(i, 1)})
		case denseLayer:
			return append(ms, moment{p.dense()})
		}
		in = p.out(i, 1)
	}
	return ms
}

// segmentOutputs is what an evaluation of b images, run in chunks (forwardStats), keeps between
// the segments at most: the input of the segment under way and its output, for every chunk.
func (c Config) segmentOutputs(b int64) int64 {
	p := c.parts(b, false)
	var most, prev int64 // prev: the last conv's output so far
	for i, l := range p.layers {
		if l.kind == convLayer {
			if a := p.s.layers[i].out; prev == 0 {
				prev = a
			} else {
				most, prev = max(most, prev+a), a
			}
		}
	}
	return most
}

// trainMoments lists the moments of a training step of b images where the most is live: the
// forward pass on top of what the backward pass keeps, the backward pass through each layer, and
// Adam's update.
//
// The forward pass keeps, for the backward pass, each conv's im2col and three of its activations
// (the ReLU's mask and the normalisation's two centred copies), and the output of each max-pool
// before a conv. Its moments are evalMoments' on top of that; a normalisation also keeps the
// ReLU's mask and its first centred copy, five activations. Going back, a conv's im2col gets a
// gradient of the same size (dCols), except the first conv's, and a max-pool before a conv sends
// its gradient to its input, beside it; the max-pools before the dense layers are differentiated
// within the dense layers' moment. Every weight has a gradient from the dense layers' backward pass on.
func (c Config) trainMoments(b int64) []moment {
	p := c.parts(b, true)
	grads := memPart{partWeights, int64(c.NumParams()), keysWeights}
	var forward, backward []moment
	var kept moment   // what the forward pass has kept so far
	var beside moment // a max-pool's output beside the conv it feeds
	in := p.images()  // the input of layer i
	for i, l := range p.layers {
		on := func(m ...memPart) moment { return append(slices.Clone(kept), m...) }
		switch l.kind {
		case convLayer:
			forward = append(forward, on(p.cols(i, 1), in),
				on(append(slices.Clone(beside), p.cols(i, 1), p.out(i, 2))...),
				on(append(slices.Clone(beside), p.cols(i, 1), p.out(i, 5))...))
			kept = append(append(kept, beside...), p.cols(i, 1), p.out(i, 3))
			back := on(p.out(i, 2), grads)
			if in.what != partImages {
				back = on(p.cols(i, 1), p.out(i, 2), grads)
			}
			backward = append([]moment{back}, backward...)
			in, beside = p.out(i, 1), nil
		case poolLayer:
			forward = append(forward, on(in, p.out(i, 1)))
			if p.layers[i+1].kind == convLayer {
				backward = append([]moment{on(p.out(i, 1), in, p.inGrad(i, in), grads)}, backward...)
			}
			in, beside = p.out(i, 1), moment{p.out(i, 1)}
		case denseLayer:
			forward = append(forward, on(append(slices.Clone(beside), p.dense())...))
			return append(append(forward, backward...), moment{{partWeights, 4 * int64(c.NumParams()), keysWeights}})
		}
	}
	panic("the network has no dense layer")
}

// indexUnits is the int32 index tables of a graph of b images: the im2col gathers' indices
// (patchIndices), counted for every conv.
func (c Config) indexUnits(b int64) int64 {
	var units int64
	for _, l := range c.layers() {
		if l.kind == convLayer {
			units += b * int64(l.side*l.side) * int64(l.k*l.k)
		}
	}
	return units
}

// blame orders keys for a student: those whose value differs from the notebook's, in keys'
// order; if none does, all of them.
func (c Config) blame(keys []string) []string {
	def := DefaultConfig()
	var changed []string
	for _, k := range keys {
		if c.value(k) != def.value(k) {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return slices.Clone(keys)
	}
	return changed
}

// value returns the setting key of c as text.
func (c Config) value(key string) string {
	if f, ok := fieldOf(key); ok {
		return f.Get(&c)
	}
	return ""
}

// String says the estimate in a line: "about 97 MB at its peak; the largest part is ...".
func (e MemoryEstimate) String() string {
	return fmt.Sprintf("about %s at its peak; the largest part is %s", FormatBytes(e.Peak), e.Driver)
}

// Check refuses an estimate above limit with a *FieldError naming the setting to change (Keys[0])
// around a *MemoryError, whose message names the estimate, what drives it and the limit; room
// says whose limit it is, as in "more than the 1.5 GB <a browser tab can give it>".
func (e MemoryEstimate) Check(limit int64, room string) error {
	if e.Peak <= limit {
		return nil
	}
	key := "filters"
	if len(e.Keys) > 0 {
		key = e.Keys[0]
	}
	return &FieldError{Key: key, Err: &MemoryError{Estimate: e, Limit: limit, Room: room}}
}

// MemoryError is why a network is refused for its memory: Estimate's peak is above Limit, which
// Room says is whose ("a browser tab can give it"). Check returns it inside a FieldError, so that
// a caller tells a network too large (errors.As) from a value out of range.
type MemoryError struct {
	Estimate MemoryEstimate
	Limit    int64
	Room     string
}

// Error says how much memory the network needs, more than whose limit, what drives it and which
// way needs less.
func (e *MemoryError) Error() string {
	return fmt.Sprintf("this network needs about %s of memory at its peak, more than the %s %s; the largest part is %s. %s",
		FormatBytes(e.Estimate.Peak), FormatBytes(e.Limit), e.Room, e.Estimate.Driver, strings.TrimSuffix(e.Estimate.Advice(), "."))
}

// Advice says which way the settings of Keys need less memory: "Fewer filters or a smaller
// kernel would need less."
func (e MemoryEstimate) Advice() string {
	var fixes []string
	for _, k := range e.Keys {
		fixes = append(fixes, lessOf[k])
	}
	return capitalize(orList(fixes)) + " would need less."
}

// CheckMemory is MemoryEstimate().Check(limit, room): the page refuses with it what a browser tab
// cannot hold (BrowserMemoryLimit), the native command what the machine cannot.
func (c Config) CheckMemory(limit int64, room string) error {
	return c.MemoryEstimate().Check(limit, room)
}

// lessOf says, for each setting a part grows with, which way needs less memory.
var lessOf = map[string]string{
	"batch":   "a smaller batch",
	"filters": "fewer filters",
	"kernel":  "a smaller kernel",
	"stride":  "a larger stride",
	"dense":   "narrower dense layers",
}

// orList joins "a", "b" and "c" as "a, b or c".
func orList(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// FormatBytes writes n bytes with three significant digits at most, in decimal units as a
// browser's or an operating system's memory readout does: "97 MB", "1.26 GB", "1.5 GB".
func FormatBytes(n int64) string {
	v, unit := float64(n), "bytes"
	for _, u := range []struct {
		size float64
		name string
	}{{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
		if v >= u.size {
			v, unit = v/u.size, u.name
			break
		}
	}
	decimals := 0
	switch {
	case unit == "bytes":
	case v < 10:
		decimals = 2
	case v < 100:
		decimals = 1
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + " " + unit
}

// thousands writes n with commas: 372,746.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
