package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/mnist-trainer/mnist/mnist"
)

// Progress is reported after every training step.
type Progress struct {
	// Step counts steps from 1 over the whole run; Steps is the run's total.
	Step, Steps int
	// Epoch counts epochs from 1; Epochs is the run's total.
	Epoch, Epochs int
	// Loss is this step's batch loss; SmoothLoss an exponential moving average of it.
	Loss, SmoothLoss float64
	// ImagesPerSec is the training speed since the second step (the first one compiles the graph).
	ImagesPerSec float64
	// Elapsed is the time since training started; ETA an estimate of the time left, including
	// the end-of-epoch evaluations.
	Elapsed, ETA time.Duration
}

// EpochResult is reported after every epoch.
type EpochResult struct {
	// Epoch counts from 1.
	Epoch int
	// TrainLoss is the mean loss over LossImages training images, measured after the epoch, as the
	// notebook prints it.
	TrainLoss  float64
	LossImages int
	// Test is the evaluation on the test set, when TrainOptions.Test is set.
	Test *Evaluation
	// Digits is the evaluation on My digits, when TrainOptions.Digits holds some.
	Digits *Evaluation
	// Duration is the epoch's wall time, evaluations included.
	Duration time.Duration
}

// EvalSet names an end-of-epoch evaluation (EvalProgress.What). Its values are the page's words
// for them (the evaluating event's what), so they pass through unchanged.
type EvalSet string

// The end-of-epoch evaluations, in the order they run.
const (
	// EvalLoss is the training loss, on the first LossImages training images.
	EvalLoss EvalSet = "loss"
	// EvalTest is the evaluation of TrainOptions.Test.
	EvalTest EvalSet = "test"
	// EvalDigits is the evaluation of TrainOptions.Digits, a student's own digits.
	EvalDigits EvalSet = "digits"
)

// EvalProgress is reported after each batch of an end-of-epoch evaluation. It says which
// evaluation it is and counts the images of the whole team, so that whoever shows it needs to
// know neither the order of the evaluations nor how shards share them.
type EvalProgress struct {
	// What is the evaluation under way.
	What EvalSet
	// Done is how many of its Total images are evaluated. Alone, that is exact. A shard evaluates
	// every Count-th batch of EvalBatchBounds(Total), and the shards keep about the same pace, so
	// after its k-th batch (from 1) it counts the first k*Count batches as done, as every shard
	// does after its k-th. Shard 0 evaluates the most batches and ends at Total; another
	// ends one batch short of it when the batches do not divide evenly among the shards.
	Done, Total int
	// Epoch counts epochs from 1; Epochs is the run's total.
	Epoch, Epochs int
}

// TrainOptions are the inputs of a training run besides the Config.
type TrainOptions struct {
	// Test, when set, is evaluated after each epoch.
	Test *mnist.Dataset
	// Digits, when set, are a student's own digits ("My digits"): evaluated after each epoch
	// (EpochResult.Digits), and mixed into training when Config.MixDigits asks for copies
	// (mydigits.go). Every replica of a team must get the same digits.
	Digits *mnist.Dataset
	// Control, when set, pauses and resumes the run.
	Control *Control
	// OnProgress is called after every step. It runs on the training goroutine: keep it cheap,
	// and throttle there what is expensive to show.
	OnProgress func(Progress)
	// OnEpoch is called after every epoch.
	OnEpoch func(EpochResult)
	// OnEvaluating is called after each batch of the end-of-epoch evaluations (the training loss,
	// then the test set), on the training goroutine like OnProgress.
	OnEvaluating func(EvalProgress)
	// Shard, when set, makes this model one of several replicas that each train on their part of
	// every batch (see Shard); the run computes what one model training alone computes, bit for
	// bit. A team has 1 to VirtualShards shards.
	// Every replica reports the same progress and results.
	Shard *Shard
}

// ErrDiverged is returned (wrapped) when the loss becomes NaN, infinite or larger than divergedLoss.
var ErrDiverged = errors.New("training diverged")

// divergedLoss is the batch loss above which training counts as diverged. An untrained 10-way
// classifier scores ln(10) = 2.3, and healthy runs stay below about 5 even on their worst batch.
// With too high a learning rate the loss does not always reach NaN: at lr 10 it climbs to
// hundreds, finite but meaningless, and the weights never recover. 50 means the network puts
// e^-50 on the right digit, which no useful run does.
const divergedLoss = 50

// prefetchSteps is how many steps' images one prefetch asks a remote training set for. In the
// browser each request and its answer are two messages through the page's main thread, which
// every message wakes: WebKit's spent 4.1% of a core during training with one request a step
// for each worker, where issue 16 allows 3%. Eight steps of a worker's part of a batch of 64 are
// 200 KB of pixels waiting in the worker.
const prefetchSteps = 8

// partsOf returns this model's part [lo, hi) of each batch of perm from step first to step end-1,
// one after another: what those steps will gather, in order.
func partsOf(perm []int32, first, end, batch, lo, hi int) []int32 {
	idx := make([]int32, 0, (end-first)*(hi-lo))
	for s := first; s < end; s++ {
		idx = append(idx, perm[s*batch+lo:s*batch+hi]...)
	}
	return idx
}

// Train trains the model on d for cfg.Epochs epochs of shuffled mini-batches. Each epoch covers
// every image except the len%BatchSize left over after the last full batch (a different few each
// epoch): one fixed batch shape means one compiled graph.
//
// With TrainOptions.Digits and Config.MixDigits, every epoch also takes that many copies of each
// of the student's digits, augmented (mydigits.go).
//
// It returns ctx.Err() when ctx is cancelled (between steps or evaluation batches), and an
// ErrDiverged error, naming the likely cause, as soon as a loss is not finite or above
// divergedLoss. Weights keep the last finished step.
func (m *Model) Train(ctx context.Context, d *mnist.Dataset, opts TrainOptions) ([]EpochResult, error) {
	cfg := m.cfg
	if cfg.TrainImages > 0 {
		if d.Len() < cfg.TrainImages {
			return nil, fmt.Errorf("train-images: %d requested, the dataset has %d", cfg.TrainImages, d.Len())
		}
		d = d.Slice(0, cfg.TrainImages)
	}
	if opts.Digits.Len() > 0 {
		if err := CheckDigits(opts.Digits, "my digits"); err != nil {
			return nil, err
		}
	}
	src := newTrainSource(d, opts.Digits, cfg) // the training images, then copies of My digits
	n, batch := src.Len(), cfg.BatchSize
	if batch > n {
		return nil, fmt.Errorf("batch: size %d is larger than the %d training images", batch, n)
	}
	shard := opts.Shard
	if shard == nil {
		// Alone, the model still takes the batch's virtual shards one after another, so that it
		// computes the same bits as any team (shard.go).
		shard = soloShard()
	}
	if err := shard.validate(batch); err != nil {
		return nil, err
	}
	lo, hi := shard.part(batch) // this model's part of each batch
	lossSet := d
	if cfg.LossImages > 0 && cfg.LossImages < d.Len() {
		lossSet = d.Slice(0, cfg.LossImages)
	}

	stepsPerEpoch := n / batch
	totalSteps := stepsPerEpoch * cfg.Epochs
	order := newShuffler(cfg.Seed, n)
	images := make([]byte, (hi-lo)*mnist.ImageSize*mnist.ImageSize)
	labels := make([]int32, hi-lo)
	var onDevice *deviceSet
	if m.batchesOnDevice && opts.Shard == nil && !src.mixed() {
		onDevice = newDeviceSet(d)
		defer onDevice.free()
	}

	var (
		results    []EpochResult
		start      = time.Now()
		firstDone  time.Time // end of step 1, which includes compilation
		smooth     float64
		evalTime   time.Duration // duration of the last end-of-epoch evaluation
		step       int
		epochStart time.Time
	)
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		epochStart = time.Now()
		perm := order.next()
		announced := 1 // the steps of this epoch whose images a prefetch has asked for (the first asks itself)
		for s := range stepsPerEpoch {
			if err := opts.Control.wait(ctx); err != nil {
				return results, err
			}
			var loss float64
			var err error
			if onDevice != nil {
				loss, err = m.lockedDeviceStep(onDevice, perm[s*batch:(s+1)*batch])
			} else {
				if err := src.batch(epoch, perm[s*batch+lo:s*batch+hi], images, labels); err != nil {
					return results, err
				}
				if s+1 == announced && announced < stepsPerEpoch {
					end := min(announced+prefetchSteps, stepsPerEpoch)
					src.prefetch(partsOf(perm, announced, end, batch, lo, hi))
					announced = end
				}
				loss, err = m.lockedTrainStep(shard, images, labels, batch)
			}
			if err != nil {
				return results, err
			}
			step++
			if !(loss < divergedLoss) { // also catches NaN
				return results, fmt.Errorf("%w at step %d (loss %.4g): the learning rate %g is probably too high; try 0.005",
					ErrDiverged, step, loss, cfg.LearningRate)
			}
			const alpha = 0.05
			smooth = (1-alpha)*smooth + alpha*loss
			now := time.Now()
			p := Progress{
				Step: step, Steps: totalSteps, Epoch: epoch, Epochs: cfg.Epochs,
				Loss: loss, SmoothLoss: smooth / (1 - math.Pow(1-alpha, float64(step))),
				Elapsed: now.Sub(start),
			}
			if step == 1 {
				firstDone = now
				p.ImagesPerSec = float64(batch) / now.Sub(start).Seconds()
			} else {
				p.ImagesPerSec = float64((step-1)*batch) / now.Sub(firstDone).Seconds()
			}
			p.ETA = time.Duration(float64(totalSteps-step)*float64(batch)/p.ImagesPerSec*float64(time.Second)) +
				time.Duration(cfg.Epochs-epoch+1)*evalTime
			if opts.OnProgress != nil {
				opts.OnProgress(p)
			}
		}

		evalStart := time.Now()
		res := EpochResult{Epoch: epoch, LossImages: lossSet.Len()}
		// Between evaluation batches, report, and honour a pause or a stop as between steps.
		between := func(what EvalSet) func(done, total int) error {
			return func(done, total int) error {
				if opts.OnEvaluating != nil {
					opts.OnEvaluating(EvalProgress{What: what, Done: done, Total: total, Epoch: epoch, Epochs: cfg.Epochs})
				}
				return opts.Control.wait(ctx)
			}
		}
		ev, err := m.evaluate(ctx, lossSet, opts.Shard, between(EvalLoss))
		if err != nil {
			return results, err
		}
		res.TrainLoss = ev.Loss
		if opts.Test != nil {
			tev, err := m.evaluate(ctx, opts.Test, opts.Shard, between(EvalTest))
			if err != nil {
				return results, err
			}
			res.Test = &tev
		}
		if opts.Digits.Len() > 0 {
			dev, err := m.evaluate(ctx, opts.Digits, opts.Shard, between(EvalDigits))
			if err != nil {
				return results, err
			}
			res.Digits = &dev
		}
		evalTime = time.Since(evalStart)
		res.Duration = time.Since(epochStart)
		results = append(results, res)
		if opts.OnEpoch != nil {
			opts.OnEpoch(res)
		}
		if err := ctx.Err(); err != nil {
			return results, err
		}
	}
	return results, nil
}

// TrainReplicas trains replicas (models built from the same Config) together, one goroutine and
// one shard of every batch each: what replicas[0].Train would compute alone, bit for bit, using
// more cores. There may be 1 to VirtualShards replicas.
// Progress and results are reported once, from replicas[0]; a failure or cancellation in any
// replica stops them all.
func TrainReplicas(ctx context.Context, replicas []*Model, d *mnist.Dataset, opts TrainOptions) ([]EpochResult, error) {
	if len(replicas) == 1 {
		return replicas[0].Train(ctx, d, opts) // the whole-batch graph: no statistics to exchange
	}
	for _, r := range replicas[1:] {
		if r.cfg != replicas[0].cfg {
			return nil, fmt.Errorf("replicas: configurations differ")
		}
	}
	shards, abort := LocalShards(len(replicas))
	results := make([][]EpochResult, len(replicas))
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error // the cause: the other replicas only fail because of it
	)
	for i, r := range replicas {
		o := opts
		o.Shard = &shards[i]
		if i > 0 {
			o.OnProgress, o.OnEpoch = nil, nil
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if results[i], err = r.Train(ctx, d, o); err != nil {
				once.Do(func() {
					firstErr = err
					abort(fmt.Errorf("replica %d stopped: %w", i, err))
				})
			}
		}()
	}
	wg.Wait()
	return results[0], firstErr
}

// shuffler deals each epoch's order of the training images. It depends on the seed and the
// number of images alone: every replica of a team deals the same order, and takes its part of
// each batch from it.
type shuffler struct {
	rng  *rand.Rand
	perm []int32
}

func newShuffler(seed int64, n int) *shuffler {
	s := &shuffler{rng: rand.New(rand.NewPCG(uint64(seed), 0x73687566666c65)), perm: make([]int32, n)} // "shuffle"
	for i := range s.perm {
		s.perm[i] = int32(i)
	}
	return s
}

// next shuffles the order again and returns it: the next epoch's. It is valid until the next call.
func (s *shuffler) next() []int32 {
	s.rng.Shuffle(len(s.perm), func(i, j int) { s.perm[i], s.perm[j] = s.perm[j], s.perm[i] })
	return s.perm
}

// deviceSet is a training set uploaded once, as the inputs of the on-device training step.
type deviceSet struct{ images, labels *tensors.Tensor }

func newDeviceSet(d *mnist.Dataset) *deviceSet {
	labels := make([]int32, d.Len())
	for i, l := range d.Labels[:d.Len()] {
		labels[i] = int32(l)
	}
	return &deviceSet{images: imageTensor(d.Images), labels: tensors.FromFlatDataAndDimensions(labels, len(labels))}
}

func (s *deviceSet) free() {
	_ = s.images.FinalizeAll()
	_ = s.labels.FinalizeAll()
}

// lockedDeviceStep runs one step on the images of s at indices.
func (m *Model) lockedDeviceStep(s *deviceSet, indices []int32) (loss float64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverError(&err, "training step")
	return m.trainStepOnDevice(s.images, s.labels, tensors.FromFlatDataAndDimensions(indices, len(indices)))
}

// lockedTrainStep runs one step on MNIST bytes and int32 labels: this shard's part of a batch of
// globalBatch images, or, with no shard, the whole batch alone.
func (m *Model) lockedTrainStep(s *Shard, images []byte, labels []int32, globalBatch int) (loss float64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverError(&err, "training step")
	if s == nil || s.Count == 1 {
		return m.soloStep(images, labels)
	}
	return m.shardStep(s, images, labels, globalBatch)
}

// Control pauses and resumes a training run from another goroutine. The zero value is running;
// a nil *Control never pauses.
type Control struct {
	mu     sync.Mutex
	paused bool
	resume chan struct{} // closed by Resume
}

// Pause makes the run stop before its next step until Resume. Pausing twice is harmless.
func (c *Control) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.paused {
		c.paused = true
		c.resume = make(chan struct{})
	}
}

// Resume lets a paused run continue. Resuming a running one is harmless.
func (c *Control) Resume() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		c.paused = false
		close(c.resume)
	}
}

// Paused reports whether the run is paused.
func (c *Control) Paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused
}

// wait blocks while paused, and returns ctx.Err() if ctx is cancelled meanwhile or before.
func (c *Control) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c == nil {
		return nil
	}
	c.mu.Lock()
	paused, resume := c.paused, c.resume
	c.mu.Unlock()
	if !paused {
		return nil
	}
	select {
	case <-resume:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
