// Package model is the course notebook's MNIST network in GoMLX: its training loop, sharding
// across workers, evaluation, memory estimate, visualisation data and weight files. It trains
// and evaluates on an mnist.Dataset, scores with package report, and writes its weights in the
// safetensors format (package safetensors).
//
// It builds unchanged for GOOS=js GOARCH=wasm and natively, so it imports only the pure-Go
// backend (simplego) and never XLA, and it reads data as bytes or io.Reader, never from paths.
// Callers pick the backend: GoBackend for simplego, or any backends.Backend (the native command
// links XLA behind a build tag).
//
// Errors are returned, never panicked: graph building panics inside GoMLX, and every exported
// method recovers at its boundary.
package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/report"
)

// EvalBatch is the largest batch of an evaluation. 200 divides both MNIST sets and keeps an
// evaluation batch's buffers near 80 MB: at 500, a browser worker's memory grew to 700 MB.
//
// Normalisation always uses the statistics of the current batch, so a batch of a few images is
// judged on those few images alone, and scores far worse (measured: 0.807 accuracy in batches of
// 200, 0.665 in batches of 1). So an evaluation of n images is not cut into full batches and a
// remainder: it is ceil(n/EvalBatch) batches whose sizes differ by at most one, the larger first
// (EvalBatchBounds). 201 images are batches of 101 and 100; more than EvalBatch images never make a
// batch of fewer than EvalBatch/2. Predict and Probabilities are one batch of what they are given:
// a drawing is judged on its own statistics, as the notebook's inference is.
const EvalBatch = 200

// EvalBatchBounds returns how an evaluation of n images is cut into batches (see EvalBatch):
// batch b is images bounds[b] to bounds[b+1]-1, so there are len(bounds)-1 batches. Every
// evaluation, alone or shared among shards, and every count of images done, follows it.
func EvalBatchBounds(n int) (bounds []int) {
	if n <= 0 {
		return []int{0}
	}
	return splitEven(n, (n+EvalBatch-1)/EvalBatch)
}

// splitEven cuts n items into parts runs whose sizes differ by one at most, the larger first:
// run i is items bounds[i] to bounds[i+1]-1. Evaluation batches, their chunks and the virtual
// shards of a training batch are all cut this way.
func splitEven(n, parts int) (bounds []int) {
	size, larger := n/parts, n%parts // the first `larger` runs have one item more
	bounds = make([]int, parts+1)
	for i := range parts {
		bounds[i+1] = bounds[i] + size
		if i < larger {
			bounds[i+1]++
		}
	}
	return bounds
}

// evalChunk is the most images an evaluation runs through the network at once. A batch (up to
// EvalBatch) is run in chunks of at most evalChunk, segment by segment (forwardStats), and its
// normalisations use the statistics of the whole batch: the result is the batch's, the same bits
// whatever the chunks, since the statistics are per-image sums added in image order. Only the
// buffers are a chunk's: a batch of 200 at once allocated 240 MB in a browser worker and kept
// about 65 MB live.
const evalChunk = 50

// maxForwardSizes is how many batch sizes a model's forward graphs (forwardGraphs) are compiled
// for before they are built afresh. Shapes are static, so every size compiles graphs of its own,
// and GoMLX's Exec keeps each one it compiles until 32, then refuses every new size for good. A
// session uses a few: a training shard, an evaluation's chunks (at most two sizes: splitEven), a
// drawing; Predict, whose callers pick the size, can use many, and then costs a compile each
// (about 50 ms on simplego), never unbounded memory.
const maxForwardSizes = 8

// releaseBuffers hands the buffers simplego keeps for reuse back to Go's heap, at a change
// between training and evaluation, whose buffers have other sizes: simplego keeps each buffer it
// frees in a sync.Pool per size, and a collection empties a pool in two steps. Without this, the
// heap holds one phase's pooled buffers while the other allocates its own, and a browser worker's
// memory, which never shrinks, keeps that sum for good. Two collections of a heap that is mostly
// pixels and tensors, which hold no pointers, take a few milliseconds.
func releaseBuffers() {
	runtime.GC()
	runtime.GC()
}

// GoBackend returns GoMLX's pure-Go backend, the one that runs in the browser. Its default
// parallel executor deadlocks on this graph (a DotGeneral waits for a worker from inside a worker),
// so ops run sequentially; DotGeneral still uses every core.
func GoBackend() (backends.Backend, error) {
	return simplego.New("ops_sequential")
}

// GoBackendPerCore returns the pure-Go backend running every op, matrix multiplications
// included, on the goroutine that executes the graph: for replicas that each own a core
// (TrainReplicas), where GoBackend's parallel matmuls would only compete with each other.
func GoBackendPerCore() (backends.Backend, error) {
	return simplego.New("ops_sequential,parallelism=0")
}

// Model is the network with its weights on a backend. It is safe for concurrent use: training
// steps, predictions and exports are serialised, so the page can predict between training steps.
type Model struct {
	mu      sync.Mutex
	cfg     Config
	backend backends.Backend
	ctx     *mlctx.Context
	vars    map[string]*mlctx.Variable // by ParamSpec.Name
	adam    *adamState                 // the optimiser's moments (adam.go)

	featureExec *mlctx.Exec
	forward     *forwardGraphs // the forward pass by segments, for shards and evaluations (forwardFor)
	shards      *shardGraphs   // built on the first sharded step
	soloExec    *mlctx.Exec    // a team of one's step (soloStep)
	native      bool           // see nativeOps
	// combined is a sharded step's vector for Shard.Reduce (its gradients and losses), reused from
	// step to step: allocated afresh, its megabytes were zeroed and faulted in every step.
	combined []float32
	// folded is the team's sum of a step's gradients and its loss (foldGradients), reused too.
	folded []float32
	// hostAdam applies Adam in this process, on the tensors themselves (adamState.applyOnHost),
	// after the step's graphs, where the backend's buffers are this process's memory and the
	// network is the im2col one (simplego); else in the step's graph (adamState.update).
	hostAdam bool
	// batchesOnDevice keeps the training set on the device and gathers each batch there: on a GPU,
	// building batches on the host and copying them each step was the bottleneck (DESIGN.md).
	// On simplego, whose "device" is this process's memory, it would only double the dataset.
	batchesOnDevice bool
	deviceExec      *mlctx.Exec
}

// New returns a model with freshly initialised weights: Glorot-uniform from cfg.Seed, drawn on
// the host so that every backend starts from identical values.
func New(backend backends.Backend, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6e697374)) // second word: "mnist"
	values := make(map[string][]float32)
	for _, p := range cfg.Params() {
		limit := math.Sqrt(6 / float64(p.FanIn+p.FanOut))
		v := make([]float32, p.Size())
		for i := range v {
			v[i] = float32((rng.Float64()*2 - 1) * limit)
		}
		values[p.Name] = v
	}
	return newWithValues(backend, cfg, values)
}

// newWithValues builds a model whose parameters take the given values, which must match cfg.Params().
func newWithValues(backend backends.Backend, cfg Config, values map[string][]float32) (m *Model, err error) {
	if backend == nil {
		return nil, fmt.Errorf("model: no backend")
	}
	if !backend.Capabilities().Operations[backends.OpTypeSelectAndScatterMax] {
		// GoMLX's simplego as shipped: this project's files add the op (maxPool).
		return nil, fmt.Errorf("model: backend %s cannot differentiate MaxPool (no SelectAndScatterMax): "+
			"build with make, whose scripts/simd-vendor.sh adds it to simplego", backend.Name())
	}
	defer recoverError(&err, "creating the model")
	m = &Model{cfg: cfg, backend: backend, ctx: mlctx.New(), vars: make(map[string]*mlctx.Variable),
		native: nativeOps(backend)}
	m.batchesOnDevice = m.native
	m.hostAdam = !m.native && backend.HasSharedBuffers()
	scope := m.ctx.In("model")
	for _, p := range cfg.Params() {
		v, ok := values[p.Name]
		if !ok || len(v) != p.Size() {
			return nil, fmt.Errorf("model: parameter %s: got %d values, want %d", p.Name, len(v), p.Size())
		}
		t := tensors.FromFlatDataAndDimensions(v, p.Shape...) // a copy: v stays the caller's (Load's may be a view of a file)
		m.vars[p.Name] = scope.In(p.Name).VariableWithValue("value", t)
	}
	m.adam = newAdamState(m.ctx, cfg)
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// NumParams returns the number of trainable values.
func (m *Model) NumParams() int { return m.cfg.NumParams() }

// graphWeights returns the current weights as nodes of g.
func (m *Model) graphWeights(g *Graph) weights {
	w := make(weights, len(m.vars))
	for name, v := range m.vars {
		w[name] = v.ValueGraph(g)
	}
	return w
}

// stepGraph builds one optimisation step on a batch of images and labels and returns its loss:
// the gradients of every parameter, then TF 1.x's Adam (adam.go).
func (m *Model) stepGraph(images, labels *Node) *Node {
	w := m.graphWeights(images.Graph())
	loss := crossEntropy(buildForward(m.cfg, w, images, m.native).logits, labels)
	m.applyGradients(Gradient(loss, m.paramNodes(w)...))
	return loss
}

// paramNodes returns the weights in Config.Params order.
func (m *Model) paramNodes(w weights) []*Node {
	var nodes []*Node
	for _, p := range m.cfg.Params() {
		nodes = append(nodes, w[p.Name])
	}
	return nodes
}

// applyGradients adds the Adam step for grads, in Config.Params order, to their graph.
func (m *Model) applyGradients(grads []*Node) {
	m.adam.update(m.vars, m.cfg.Params(), grads, m.cfg.LearningRate)
}

// applyGradientsOnHost applies the Adam step for grads, in Config.Params order, in this process
// (Model.hostAdam).
func (m *Model) applyGradientsOnHost(grads [][]float32) error {
	return m.adam.applyOnHost(m.backend, m.vars, m.cfg.Params(), grads, m.cfg.LearningRate)
}

// trainStepOnDevice runs one optimisation step on the images and labels at indices [B] of the
// training set, which stays on the device between steps. Callers hold m.mu.
func (m *Model) trainStepOnDevice(images, labels, indices *tensors.Tensor) (float64, error) {
	if m.deviceExec == nil {
		exec, err := mlctx.NewExec(m.backend, m.ctx, func(ctx *mlctx.Context, images, labels, indices *Node) *Node {
			idx := InsertAxes(indices, -1) // [B,1]: Gather rejects indices of higher rank than the operand's + 1
			return m.stepGraph(Gather(images, idx), Gather(labels, idx))
		})
		if err != nil {
			return 0, err
		}
		m.deviceExec = exec
	}
	out, err := m.exec(m.deviceExec, images, labels, indices)
	if err != nil {
		return 0, err
	}
	return float64(scalar(out[0])), nil
}

// logProbs returns the log-probabilities [N,10] of images (N*784 bytes), one batch whose
// normalisations use the statistics of all N images, run in chunks of at most evalChunk.
// Callers hold m.mu.
func (m *Model) logProbs(images []byte) ([]float32, error) {
	return m.logProbsInChunks(images, evalChunk)
}

// logProbsInChunks is logProbs in chunks of at most chunk images.
func (m *Model) logProbsInChunks(images []byte, chunk int) ([]float32, error) {
	pixels := mnist.ImageSize * mnist.ImageSize
	n := len(images) / pixels
	bounds := splitEven(n, (n+chunk-1)/chunk)
	chunks := make([]*tensors.Tensor, len(bounds)-1)
	for i := range chunks {
		chunks[i] = imageTensor(images[bounds[i]*pixels : bounds[i+1]*pixels])
	}
	g := m.forwardFor(bounds[1]-bounds[0], bounds[len(bounds)-1]-bounds[len(bounds)-2])
	inputs, _, _, stats, err := m.forwardStats(g, chunks, soloShard().Reduce, n, false)
	for _, c := range chunks {
		_ = c.FinalizeAll()
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, st := range stats {
			st.free()
		}
	}()
	lp := make([]float32, 0, n*mnist.NumClasses)
	for _, a := range inputs[numSegments-1] {
		out, err := m.exec(g.logProbs, a, stats[numSegments-2].mean, stats[numSegments-2].std)
		_ = a.FinalizeAll()
		if err != nil {
			return nil, err
		}
		lp = append(lp, flat(out[0])...)
	}
	return lp, nil
}

// forwardFor returns the model's forward graphs, for batches (of a shard, or chunks of an
// evaluation) of these sizes: built once, and again from scratch when a size would be the
// maxForwardSizes+1-th they are used for.
func (m *Model) forwardFor(sizes ...int) *forwardGraphs {
	if m.forward != nil {
		fresh := 0
		for _, size := range sizes {
			if !m.forward.sizes[size] {
				fresh++
			}
		}
		if len(m.forward.sizes)+fresh > maxForwardSizes {
			m.forward.finalize()
			m.forward = nil
		}
	}
	if m.forward == nil {
		m.forward = m.newForwardGraphs()
	}
	for _, size := range sizes {
		m.forward.sizes[size] = true
	}
	return m.forward
}

// Probabilities returns the class probabilities of one 28x28 image (784 bytes, 0 = background,
// 255 = ink, as in MNIST): what the draw-a-digit panel shows.
//
// The image is a batch of its own, so normalisation uses that image's statistics alone.
func (m *Model) Probabilities(image []byte) (probs [mnist.NumClasses]float32, err error) {
	if len(image) != mnist.ImageSize*mnist.ImageSize {
		return probs, fmt.Errorf("an image has %d pixels, got %d", mnist.ImageSize*mnist.ImageSize, len(image))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverError(&err, "predicting")
	lp, err := m.logProbs(image)
	if err != nil {
		return probs, err
	}
	for i := range probs {
		probs[i] = float32(math.Exp(float64(lp[i])))
	}
	return probs, nil
}

// Predict returns the predicted digit of each image in images (N*784 bytes), run as one batch of
// N: the caller picks the batch size, and with it the normalisation statistics and the memory used.
func (m *Model) Predict(images []byte) ([]int, error) {
	if len(images) == 0 || len(images)%(mnist.ImageSize*mnist.ImageSize) != 0 {
		return nil, fmt.Errorf("predict: %d bytes is not a whole number of %dx%d images", len(images), mnist.ImageSize, mnist.ImageSize)
	}
	lp, err := m.lockedLogProbs(images)
	if err != nil {
		return nil, err
	}
	pred := make([]int, len(lp)/mnist.NumClasses)
	for i := range pred {
		pred[i] = argMax(lp[i*mnist.NumClasses : (i+1)*mnist.NumClasses])
	}
	return pred, nil
}

// Evaluation is the result of running the network over a dataset.
type Evaluation struct {
	// Predictions holds the predicted digit of each image.
	Predictions []int `json:"predictions"`
	// Loss is the mean cross-entropy.
	Loss float64 `json:"loss"`
	// Confusion is the 10x10 confusion matrix, rows true digits, columns predictions.
	Confusion report.ConfusionMatrix `json:"confusion"`
	// Report is the sklearn-style classification report.
	Report report.Report `json:"report"`
}

// Evaluate runs the network over d in batches of at most EvalBatch, cut as EvalBatch says.
func (m *Model) Evaluate(d *mnist.Dataset) (Evaluation, error) {
	return m.evaluate(context.Background(), d, nil, nil)
}

// EvaluateEach is Evaluate calling between after each batch with the images done and the total:
// between may block (a pause, or giving a browser's event loop a turn) or return an error, which
// stops the evaluation and is returned.
func (m *Model) EvaluateEach(d *mnist.Dataset, between func(done, total int) error) (Evaluation, error) {
	return m.evaluate(context.Background(), d, nil, between)
}

// evaluate is Evaluate shared among shards: shard i runs every Count-th batch of
// EvalBatchBounds, and one Reduce gathers the predictions and each batch's loss. Batches stay
// whole, and their losses are added in batch order, so the result is the same bits as one model
// evaluating everything. After each of its batches it calls
// between (if set) with the images the team has done (see EvalProgress.Done), which may block (a
// pause) or return an error (a stop): a full training-set loss takes minutes in a browser.
func (m *Model) evaluate(ctx context.Context, d *mnist.Dataset, s *Shard, between func(done, total int) error) (Evaluation, error) {
	releaseBuffers()
	defer releaseBuffers()
	var ev Evaluation
	n := d.Len()
	if n == 0 {
		return ev, fmt.Errorf("evaluate: no images")
	}
	ev.Predictions = make([]int, n)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = int(d.Labels[i])
	}
	pixels := mnist.ImageSize * mnist.ImageSize
	bounds := EvalBatchBounds(n)
	batches := len(bounds) - 1
	mine := func(b int) bool { return s == nil || b%s.Count == s.Index }
	images := make([]byte, (bounds[1]-bounds[0])*pixels) // the largest batch: the first
	// Each batch's loss, summed over its images in float64, rounded to float32 for the exchange.
	batchLoss := make([]float32, batches)
	own := 0 // batches this model has evaluated
	for b := range batches {
		if !mine(b) {
			continue
		}
		own++
		if err := ctx.Err(); err != nil {
			return ev, err
		}
		start, end := bounds[b], bounds[b+1]
		batch := images[:(end-start)*pixels]
		if err := d.Gather(indexRange(start, end), batch); err != nil {
			return ev, err
		}
		for next := b + 1; next < batches; next++ {
			if mine(next) {
				d.Prefetch(indexRange(bounds[next], bounds[next+1]))
				break
			}
		}
		lp, err := m.lockedLogProbs(batch)
		if err != nil {
			return ev, err
		}
		if between != nil {
			done := end
			if s != nil { // the shards keep about the same pace: own batches of Count each
				done = bounds[min(own*s.Count, batches)]
			}
			if err := between(done, n); err != nil {
				return ev, err
			}
		}
		var sum float64
		for i := start; i < end; i++ {
			row := lp[(i-start)*mnist.NumClasses : (i-start+1)*mnist.NumClasses]
			ev.Predictions[i] = argMax(row)
			sum -= float64(row[labels[i]])
		}
		batchLoss[b] = float32(sum)
	}
	if s != nil {
		// Each shard sends its predictions + 1 where it evaluated and 0 elsewhere, then the losses
		// of its batches and 0 for the others'.
		v := make([]float32, n+batches)
		for b := s.Index; b < batches; b += s.Count {
			for i := bounds[b]; i < bounds[b+1]; i++ {
				v[i] = float32(ev.Predictions[i] + 1)
			}
		}
		copy(v[n:], batchLoss)
		total, err := s.Reduce(v, addDisjoint)
		if err != nil {
			return ev, err
		}
		for i := range ev.Predictions {
			ev.Predictions[i] = int(total[i]) - 1
		}
		batchLoss = total[n:]
	}
	var lossSum float64
	for _, l := range batchLoss {
		lossSum += float64(l)
	}
	ev.Loss = lossSum / float64(n)
	var err error
	if ev.Confusion, err = report.NewConfusionMatrix(mnist.NumClasses, labels, ev.Predictions); err != nil {
		return ev, err
	}
	ev.Report = ev.Confusion.Report()
	return ev, nil
}

// indexRange returns the indices start..end-1.
func indexRange(start, end int) []int32 {
	idx := make([]int32, end-start)
	for i := range idx {
		idx[i] = int32(start + i)
	}
	return idx
}

// lockedLogProbs is logProbs for callers that do not hold m.mu: each batch takes the lock on its
// own, so a long evaluation lets predictions in between.
func (m *Model) lockedLogProbs(images []byte) (lp []float32, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverError(&err, "evaluating")
	return m.logProbs(images)
}

// imageTensor wraps N*784 MNIST bytes as a uint8 [N,28,28,1] tensor; the graph converts to float.
func imageTensor(images []byte) *tensors.Tensor {
	n := len(images) / (mnist.ImageSize * mnist.ImageSize)
	return tensors.FromFlatDataAndDimensions(images[:n*mnist.ImageSize*mnist.ImageSize], n, mnist.ImageSize, mnist.ImageSize, 1)
}

// exec runs e on args, each tensor among them placed on the model's device first, as Exec would
// place it (a shared buffer where the backend has them). Exec first asks each tensor for its
// device, and one that has none answers with an error that records the stack (pkg/errors): about
// 20 µs in wasm, a dozen times a training step (1% of a worker's step in Chromium and WebKit). A
// tensor already there costs a lock; a failure is left for Exec to report.
func (m *Model) exec(e *mlctx.Exec, args ...any) ([]*tensors.Tensor, error) {
	for _, a := range args {
		if t, ok := a.(*tensors.Tensor); ok {
			_ = t.MaterializeOnDevice(m.backend, true, 0)
		}
	}
	return e.Exec(args...)
}

// scalar reads a float32 scalar tensor and frees its buffer.
func scalar(t *tensors.Tensor) float32 {
	v := tensors.ToScalar[float32](t)
	_ = t.FinalizeAll()
	return v
}

// flat copies a float32 tensor's values and frees its buffer (on XLA it lives on the device).
func flat(t *tensors.Tensor) []float32 {
	v := tensors.MustCopyFlatData[float32](t)
	_ = t.FinalizeAll()
	return v
}

func argMax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// recoverError turns a panic (GoMLX reports graph errors by panicking) into an error, keeping
// the stack, which is what makes such errors debuggable.
func recoverError(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %v\n%s", what, r, debug.Stack())
	}
}
