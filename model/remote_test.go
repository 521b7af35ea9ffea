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
// keeps: it records what it was asked for, and fails from the failAt-th call of Images on.
type sourceOf struct {
	d          *mnist.Dataset
	calls      int
	failAt     int
	prefetched [][]int32
	asked      [][]int32
}

func (s *sourceOf) Images(indices []int32, dst []byte) error {
	s.calls++
	if s.failAt > 0 && s.calls >= s.failAt {
		return errors.New("the page went away")
	}
	s.asked = append(s.asked, slices.Clone(indices))
	return s.d.Gather(indices, dst)
}

func (s *sourceOf) Prefetch(indices []int32) {
	s.prefetched = append(s.prefetched, slices.Clone(indices))
}

// TestRemoteDatasetSameBits trains and evaluates on a RemoteDataset of the training images, in
// slices as TrainImages and LossImages cut it: the weights, losses and evaluation are the bits of
// the same run on the Dataset itself. Every batch was announced by a Prefetch before it was asked
// for, except each epoch's first (and each evaluation's). A failing source stops the run with its
// error.
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
	if want := 2 * (16 + 3); len(src.asked) != want {
		t.Fatalf("the source was asked %d times, want %d", len(src.asked), want)
	}
	unannounced := 0
	for _, a := range src.asked {
		if !slices.ContainsFunc(src.prefetched, func(p []int32) bool { return slices.Equal(p, a) }) {
			unannounced++
		}
	}
	if unannounced != 4 { // each epoch's first step and first loss batch
		t.Fatalf("%d of %d requests were not prefetched first, want 4", unannounced, len(src.asked))
	}

	failing := &sourceOf{d: train, failAt: 3}
	_, err = newTestModel(t, cfg).Train(context.Background(), mnist.RemoteDataset(train.Labels, failing), TrainOptions{})
	if err == nil || err.Error() != "the page went away" {
		t.Fatalf("a failing source: got %v", err)
	}
}
