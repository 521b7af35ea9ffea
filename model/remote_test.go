package model

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
)

// sourceOf is an ImageSource over a local Dataset, as the page is over the training images it
// keeps: it keeps the prefetches not yet taken as the page's worker does (wasm/trainset_js.go),
// counts the requests a page would get, and fails from the failAt-th call of Images on.
type sourceOf struct {
	d           *mnist.Dataset
	calls       int
	failAt      int
	asked       int       // Images calls
	prefetches  int       // Prefetch calls
	unannounced int       // Images calls that were not the next piece of a prefetch
	pending     [][]int32 // what prefetches announced and Images has not taken yet, oldest first
}

func (s *sourceOf) Images(indices []int32, dst []byte) error {
	s.calls++
	if s.failAt > 0 && s.calls >= s.failAt {
		return errors.New("the page went away")
	}
	s.asked++
	for len(s.pending) > 0 && !(len(s.pending[0]) >= len(indices) && slices.Equal(s.pending[0][:len(indices)], indices)) {
		s.pending = s.pending[1:] // announced, never asked for: dropped
	}
	if len(s.pending) == 0 {
		s.unannounced++
	} else if s.pending[0] = s.pending[0][len(indices):]; len(s.pending[0]) == 0 {
		s.pending = s.pending[1:]
	}
	return s.d.Gather(indices, dst)
}

func (s *sourceOf) Prefetch(indices []int32) {
	s.prefetches++
	s.pending = append(s.pending, slices.Clone(indices))
}

// TestRemoteDatasetSameBits trains and evaluates on a RemoteDataset of the training images, in
// slices as TrainImages and LossImages cut it: the weights, losses and evaluation are the bits of
// the same run on the Dataset itself. Every batch was announced by a Prefetch before it was asked
// for, except each epoch's first (and each evaluation's), and one Prefetch announced up to
// prefetchSteps training steps. A failing source stops the run with its error.
func TestRemoteDatasetSameBits(t *testing.T) {
	train, test := mnisttest.Sets(t)
	cfg := smallConfig(16 * 32)
	cfg.Epochs, cfg.LossImages = 2, 2*EvalBatch+10 // 3 evaluation batches of the training loss
	local := newTestModel(t, cfg)
	want, err := local.Train(context.Background(), train, TrainOptions{Test: test.Slice(0, 100)})
	if err != nil {
		t.Fatal(err)
	}
	src := &sourceOf{d: train}
	remote := newTestModel(t, cfg)
	got, err := remote.Train(context.Background(), mnist.RemoteDataset(train.Labels, src), TrainOptions{Test: test.Slice(0, 100)})
	if err != nil {
		t.Fatal(err)
	}
	for e := range want {
		if got[e].TrainLoss != want[e].TrainLoss || !slices.Equal(got[e].Test.Predictions, want[e].Test.Predictions) {
			t.Fatalf("epoch %d: remote loss %v, local %v; or the predictions differ", e+1, got[e].TrainLoss, want[e].TrainLoss)
		}
	}
	for _, p := range cfg.Params() {
		if !slices.Equal(flatValue(t, remote, p.Name), flatValue(t, local, p.Name)) {
			t.Fatalf("%s differs after training on a RemoteDataset", p.Name)
		}
	}
	// 16 steps and 3 loss batches an epoch, each asked once.
	if want := 2 * (16 + 3); src.asked != want {
		t.Fatalf("the source was asked %d times, want %d", src.asked, want)
	}
	if src.unannounced != 4 { // each epoch's first step and first loss batch
		t.Fatalf("%d of %d requests were not prefetched first, want 4", src.unannounced, src.asked)
	}
	// An epoch: steps 2 to 9 in one prefetch and 10 to 16 in another, then the loss's batches 2 and 3.
	if want := 2 * (2 + 2); src.prefetches != want {
		t.Fatalf("%d prefetches, want %d", src.prefetches, want)
	}

	// With My digits mixed in, a prefetch announces only the training set's images of its steps,
	// and each step takes its own from them: the same bits again, every step announced but the first.
	digits := myDigits(t, 16)
	mixed := cfg
	mixed.Epochs, mixed.MixDigits = 1, 4
	lossesOf := func(d *mnist.Dataset) []float64 {
		var losses []float64
		_, err := newTestModel(t, mixed).Train(context.Background(), d, TrainOptions{Digits: digits,
			OnProgress: func(p Progress) { losses = append(losses, p.Loss) }})
		if err != nil {
			t.Fatal(err)
		}
		return losses
	}
	src = &sourceOf{d: train}
	if l, r := lossesOf(train), lossesOf(mnist.RemoteDataset(train.Labels, src)); !slices.Equal(l, r) {
		t.Fatalf("with My digits mixed in: remote losses %v, local %v", r, l)
	}
	if src.unannounced != 2 { // the first step and the first loss batch
		t.Fatalf("with My digits mixed in, %d of %d requests were not prefetched first, want 2", src.unannounced, src.asked)
	}

	failing := &sourceOf{d: train, failAt: 3}
	_, err = newTestModel(t, cfg).Train(context.Background(), mnist.RemoteDataset(train.Labels, failing), TrainOptions{})
	if err == nil || err.Error() != "the page went away" {
		t.Fatalf("a failing source: got %v", err)
	}
}
