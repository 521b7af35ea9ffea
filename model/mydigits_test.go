package model

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
)

// myDigits stands in for a student's own digits: n test images, which training never sees.
func myDigits(tb testing.TB, n int) *mnist.Dataset {
	tb.Helper()
	_, test := mnisttest.Sets(tb)
	return test.Slice(5000, 5000+n)
}

// TestTrainSourceBatch checks the images and labels of a batch that mixes training images and
// copies of My digits: the training images as they are, each copy its digit augmented.
func TestTrainSourceBatch(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	d := train.Slice(0, 100)
	digits := myDigits(t, 7)
	cfg := DefaultConfig()
	cfg.MixDigits, cfg.Seed = 3, 5
	src := newTrainSource(d, digits, cfg)
	if src.Len() != 100+3*7 {
		t.Fatalf("an epoch has %d images, want 100 + 3 copies of 7 digits", src.Len())
	}
	indices := []int32{104, 3, 120, 99, 100, 0}
	images := make([]byte, len(indices)*mnist.ImageSize*mnist.ImageSize)
	labels := make([]int32, len(indices))
	if err := src.batch(2, indices, images, labels); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, mnist.ImageSize*mnist.ImageSize)
	for i, p := range indices {
		got := images[i*mnist.ImageSize*mnist.ImageSize : (i+1)*mnist.ImageSize*mnist.ImageSize]
		var label byte
		if p < 100 {
			copy(want, d.Image(int(p)))
			label = d.Labels[p]
		} else {
			c := int(p) - 100
			augment(want, digits.Image(c%7), 5, 2, c)
			label = digits.Labels[c%7]
		}
		if !bytes.Equal(got, want) || labels[i] != int32(label) {
			t.Errorf("image %d of the epoch: wrong pixels or label %d (want %d)", p, labels[i], label)
		}
	}

	// Without copies asked for, or without digits, an epoch is the training set alone.
	for _, c := range []struct {
		copies int
		digits *mnist.Dataset
	}{{0, digits}, {3, nil}, {3, digits.Slice(0, 0)}} {
		cfg.MixDigits = c.copies
		if s := newTrainSource(d, c.digits, cfg); s.mixed() || s.Len() != 100 {
			t.Errorf("%d copies of %d digits: mixed %v, %d images", c.copies, c.digits.Len(), s.mixed(), s.Len())
		}
	}
}

// TestMixDigitsSameBitsAnyTeam is TestSameBitsAnyTeam with My digits mixed in, and evaluated after
// the epoch: every team computes the same losses, weights, and predictions on the digits.
func TestMixDigitsSameBitsAnyTeam(t *testing.T) {
	train, test := mnisttest.Sets(t)
	digits := myDigits(t, 24)
	cfg := smallConfig(12 * 32)
	cfg.Filters = [3]int{8, 16, 16} // keeps the test short; the order does not depend on it
	cfg.MixDigits, cfg.LossImages = 4, 64
	teams := []int{1, 2, 3}
	if runtime.GOOS == "js" {
		teams = []int{1, 2}
	}
	opts := TrainOptions{Test: test.Slice(0, 100), Digits: digits}
	var want teamRun
	for _, n := range teams {
		got := trainTeamWith(t, cfg, train, opts, n)
		if t.Failed() {
			return
		}
		if steps := (12*32 + 4*24) / 32; len(got.losses) != steps {
			t.Fatalf("%d workers: %d steps, want %d: the copies of My digits are part of the epoch", n, len(got.losses), steps)
		}
		if got.result.Digits == nil || len(got.result.Digits.Predictions) != 24 {
			t.Fatalf("%d workers: no evaluation of the 24 digits after the epoch: %+v", n, got.result.Digits)
		}
		if n == teams[0] {
			want = got
			t.Logf("losses %.4f; accuracy on the digits %.3f", got.losses, got.result.Digits.Report.Accuracy)
			continue
		}
		if !slices.Equal(got.losses, want.losses) {
			t.Errorf("%d workers: losses %v, 1 worker %v", n, got.losses, want.losses)
		}
		if got.result.Digits.Loss != want.result.Digits.Loss || !slices.Equal(got.result.Digits.Predictions, want.result.Digits.Predictions) {
			t.Errorf("%d workers: digits loss %v, predictions %v; 1 worker %v, %v", n,
				got.result.Digits.Loss, got.result.Digits.Predictions, want.result.Digits.Loss, want.result.Digits.Predictions)
		}
		for name, w := range want.weights {
			if i := firstDifference(got.weights[name], w); i >= 0 {
				t.Errorf("%d workers: %s[%d] = %v, 1 worker %v", n, name, i, got.weights[name][i], w[i])
			}
		}
	}
}

// TestMixDigitsChangesTraining: copies mixed in change what a run learns; asked for without
// digits, they change nothing. And the evaluation after the last epoch is the trained model's.
func TestMixDigitsChangesTraining(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	digits := myDigits(t, 16)
	cfg := smallConfig(8 * 32)
	cfg.Filters, cfg.LossImages = [3]int{8, 16, 16}, 32
	run := func(copies int, digits *mnist.Dataset) ([]float64, *Model, EpochResult) {
		c := cfg
		c.MixDigits = copies
		m := newTestModel(t, c)
		var losses []float64
		res, err := m.Train(context.Background(), train, TrainOptions{Digits: digits,
			OnProgress: func(p Progress) { losses = append(losses, p.Loss) }})
		if err != nil {
			t.Fatal(err)
		}
		return losses, m, res[len(res)-1]
	}
	plain, _, _ := run(0, nil)
	noDigits, _, _ := run(5, nil)
	unmixed, _, res0 := run(0, digits)
	mixed, m, res := run(5, digits)
	if !slices.Equal(plain, noDigits) || !slices.Equal(plain, unmixed) {
		t.Errorf("without copies mixed in, the losses changed: %v, %v, %v", plain, noDigits, unmixed)
	}
	if res0.Digits == nil || res0.Digits.Report.Total != 16 {
		t.Errorf("digits given but not mixed in are still evaluated after each epoch: %+v", res0.Digits)
	}
	if len(mixed) != (8*32+5*16)/32 || slices.Equal(mixed[:len(plain)], plain) {
		t.Errorf("with 5 copies of 16 digits: %d steps (want %d), losses %v", len(mixed), (8*32+5*16)/32, mixed)
	}
	again, err := m.Evaluate(digits)
	if err != nil {
		t.Fatal(err)
	}
	if again.Loss != res.Digits.Loss || !slices.Equal(again.Predictions, res.Digits.Predictions) {
		t.Errorf("the last epoch's evaluation of the digits (loss %v) is not the trained model's (loss %v)", res.Digits.Loss, again.Loss)
	}
}

func TestMixDigitsSetting(t *testing.T) {
	for _, c := range []struct {
		value string
		want  string
	}{
		{"101", "mix-digits: 101 is outside 0..100"},
		{"-1", "mix-digits: -1 is outside 0..100"},
		{"two", `mix-digits: "two" is not an integer`},
	} {
		_, err := FromQuery(url.Values{"mix-digits": {c.value}})
		var fe *FieldError
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || !errors.As(err, &fe) || fe.Key != "mix-digits" {
			t.Errorf("mix-digits=%s: %v, want a FieldError of mix-digits, %q", c.value, err, c.want)
		}
	}
	cfg, err := FromQuery(url.Values{"mix-digits": {"3"}})
	if err != nil || cfg.MixDigits != 3 || !strings.Contains(cfg.String(), "mix-digits=3") {
		t.Errorf("mix-digits=3: %v, %s", err, cfg)
	}
}

func TestCheckDigits(t *testing.T) {
	digits := myDigits(t, 3)
	bad := *digits
	bad.Labels = []byte{1, 12, 3}
	short := *digits
	short.Images = short.Images[:784*2]
	for _, c := range []struct {
		d    *mnist.Dataset
		want string
	}{
		{nil, "my digits: no digits"},
		{&bad, "my digits: label 12 of digit 1 is out of range 0..9"},
		{&short, "are not 28x28 images with a label each"},
	} {
		if err := CheckDigits(c.d, "my digits"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
	if err := CheckDigits(digits, "my digits"); err != nil {
		t.Error(err)
	}
}
