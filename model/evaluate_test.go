package model

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
)

// TestManyBatchSizes predicts on 40 different batch sizes in a row, then evaluates: GoMLX's exec
// caches at most 32 compiled graphs, and once full it refused every new size, evaluations included.
// The sizes evicted along the way compile again and give the same predictions as before.
func TestManyBatchSizes(t *testing.T) {
	_, test := mnisttest.Sets(t)
	m := newTestModel(t, fastConfig()) // compiling, not computing, is what this test is about
	first := make(map[int][]int)
	for n := 1; n <= 40; n++ {
		pred, err := m.Predict(test.Slice(0, n).Images)
		if err != nil {
			t.Fatalf("predicting a batch of %d images, after %d other sizes: %v", n, n-1, err)
		}
		first[n] = pred
	}
	ev, err := m.Evaluate(test.Slice(0, 2*EvalBatch+1))
	if err != nil {
		t.Fatalf("evaluating after 40 batch sizes: %v", err)
	}
	if len(ev.Predictions) != 2*EvalBatch+1 {
		t.Fatalf("evaluation of %d images has %d predictions", 2*EvalBatch+1, len(ev.Predictions))
	}
	for _, n := range []int{1, 17, 40} {
		pred, err := m.Predict(test.Slice(0, n).Images)
		if err != nil || !slices.Equal(pred, first[n]) {
			t.Fatalf("batch of %d again: %v (error %v), the first time %v", n, pred, err, first[n])
		}
	}
	if got := len(m.forward.sizes); got > maxForwardSizes {
		t.Fatalf("forward graphs compiled for %d batch sizes, want at most %d", got, maxForwardSizes)
	}
}

// TestChunksGiveTheBatchsBits: an evaluation batch run in chunks, segment by segment, gives the
// same bits as the batch in one piece, whatever the chunks (evalChunk), and normalises with the
// whole batch's statistics: a chunk alone gives other log-probabilities.
func TestChunksGiveTheBatchsBits(t *testing.T) {
	_, test := mnisttest.Sets(t)
	m := newTestModel(t, smallConfig(64))
	images := test.Slice(0, EvalBatch).Images
	whole, err := m.logProbsInChunks(images, EvalBatch)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{evalChunk, 37, 1} {
		got, err := m.logProbsInChunks(images, chunk)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, whole) {
			t.Fatalf("chunks of %d: log-probabilities differ from the batch in one piece", chunk)
		}
	}
	alone, err := m.logProbsInChunks(images[:evalChunk*mnist.ImageSize*mnist.ImageSize], evalChunk)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(alone, whole[:evalChunk*mnist.NumClasses]) {
		t.Fatal("the first chunk alone gives the batch's log-probabilities: the statistics are not the batch's")
	}
}

// fastConfig is an untrained network small enough that evaluating a few hundred images is quick:
// for the tests of how evaluations are cut, where the predictions only need to be reproducible.
func fastConfig() Config {
	cfg := smallConfig(64)
	cfg.Filters = [3]int{8, 16, 16}
	return cfg
}

// evalBatchSizes returns the sizes of the batches EvaluateEach runs over the first n test images,
// read off its callbacks.
func evalBatchSizes(tb testing.TB, m *Model, d *mnist.Dataset) []int {
	tb.Helper()
	var sizes []int
	last := 0
	if _, err := m.EvaluateEach(d, func(done, total int) error {
		sizes = append(sizes, done-last)
		last = done
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return sizes
}

// TestEvaluationBatchesNearEqual: an evaluation is cut into ceil(n/EvalBatch) batches whose sizes
// differ by at most one, so no batch is normalised on the statistics of a handful of images.
func TestEvaluationBatchesNearEqual(t *testing.T) {
	_, test := mnisttest.Sets(t)
	m := newTestModel(t, fastConfig())
	for _, c := range []struct {
		n    int
		want []int
	}{
		{1, []int{1}},
		{EvalBatch, []int{EvalBatch}},
		{EvalBatch + 1, []int{101, 100}},
		{2*EvalBatch + 50, []int{150, 150, 150}},
		{3*EvalBatch - 1, []int{200, 200, 199}},
	} {
		if got := evalBatchSizes(t, m, test.Slice(0, c.n)); !slices.Equal(got, c.want) {
			t.Errorf("%d images: batches %v, want %v", c.n, got, c.want)
		}
	}
}

// TestEvalBatchBounds checks the rule on every count up to 20 evaluation batches.
func TestEvalBatchBounds(t *testing.T) {
	for n := 1; n <= 20*EvalBatch; n++ {
		b := EvalBatchBounds(n)
		if len(b) != (n+EvalBatch-1)/EvalBatch+1 || b[0] != 0 || b[len(b)-1] != n {
			t.Fatalf("%d images: bounds %v, want ceil(n/EvalBatch) batches from 0 to n", n, b)
		}
		lo, hi := n, 0
		for i := 1; i < len(b); i++ {
			lo, hi = min(lo, b[i]-b[i-1]), max(hi, b[i]-b[i-1])
		}
		if hi-lo > 1 || hi > EvalBatch || lo < 1 {
			t.Fatalf("%d images: batch sizes from %d to %d, want at most EvalBatch and differing by at most 1", n, lo, hi)
		}
		if n > EvalBatch && lo < EvalBatch/2 {
			t.Fatalf("%d images: a batch of %d, less than half of EvalBatch", n, lo)
		}
	}
	if b := EvalBatchBounds(0); !slices.Equal(b, []int{0}) {
		t.Fatalf("no images: bounds %v, want [0]", b)
	}
}

// TestEvaluationOfOneMore: with a trained model, evaluating one image more than EvalBatch scores
// about what EvalBatch images do, since the last image is no longer a batch of its own; and a single
// image is still judged on its own statistics, as one drawing is.
func TestEvaluationOfOneMore(t *testing.T) {
	train, test := mnisttest.Sets(t)
	m := newTestModel(t, smallConfig(512))
	if _, err := m.Train(context.Background(), train, TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	full, err := m.Evaluate(test.Slice(0, EvalBatch))
	if err != nil {
		t.Fatal(err)
	}
	more, err := m.Evaluate(test.Slice(0, EvalBatch+1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accuracy %.4f on %d images, %.4f on %d; loss %.4f, %.4f",
		full.Report.Accuracy, EvalBatch, more.Report.Accuracy, EvalBatch+1, full.Loss, more.Loss)
	if math.Abs(more.Report.Accuracy-full.Report.Accuracy) > 0.03 || math.Abs(more.Loss-full.Loss) > 0.1*full.Loss {
		t.Errorf("%d images: accuracy %.4f and loss %.4f; %d images: %.4f and %.4f",
			EvalBatch+1, more.Report.Accuracy, more.Loss, EvalBatch, full.Report.Accuracy, full.Loss)
	}

	one, err := m.Evaluate(test.Slice(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	probs, err := m.Probabilities(test.Image(0))
	if err != nil {
		t.Fatal(err)
	}
	if want := -math.Log(float64(probs[test.Labels[0]])); math.Abs(one.Loss-want) > 1e-5*want {
		t.Errorf("one image: evaluation loss %v, from Probabilities %v: not the same one-image batch", one.Loss, want)
	}
}

// TestShardedEvaluationUnevenBatches shares evaluations whose batches are not all EvalBatch among
// shards, each taking every Count-th batch, and checks they compute what one model alone does.
func TestShardedEvaluationUnevenBatches(t *testing.T) {
	_, test := mnisttest.Sets(t)
	m := newTestModel(t, fastConfig())
	for _, n := range []int{EvalBatch + 1, 3*EvalBatch + 7} {
		d := test.Slice(0, n)
		want, err := m.Evaluate(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, count := range []int{2, 3} {
			shards, _ := LocalShards(count)
			got := make([]Evaluation, count)
			errs := make([]error, count)
			var wg sync.WaitGroup
			for i := range shards {
				wg.Go(func() { got[i], errs[i] = m.evaluate(context.Background(), d, &shards[i], nil) })
			}
			wg.Wait()
			for i := range got {
				if errs[i] != nil {
					t.Fatalf("%d images, shard %d of %d: %v", n, i, count, errs[i])
				}
				if math.Abs(got[i].Loss-want.Loss) > 1e-6*want.Loss || !slices.Equal(got[i].Predictions, want.Predictions) {
					t.Errorf("%d images, shard %d of %d: loss %v, alone %v (or the predictions differ)",
						n, i, count, got[i].Loss, want.Loss)
				}
			}
		}
	}
}
