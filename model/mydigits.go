package model

// My digits in training: a student's own digits (TrainOptions.Digits), Config.MixDigits copies of
// each mixed into every epoch, each copy shifted and rotated a little (augment.go).
//
// An epoch's images are numbered: first the training set's, 0..n-1, then the copies, n + c·k + i
// being copy c of digit i (k digits). The seeded shuffler deals that whole range, so the copies
// fall into batches like any other image, and each worker of a team takes its part of every
// batch from the same order, making each copy's pixels itself from the seed, the epoch and the
// copy's number alone: every team computes the same bits.

import (
	"fmt"

	"github.com/mnist-trainer/mnist/mnist"
)

// trainSource is what an epoch trains on: the training set, then the augmented copies of My digits.
type trainSource struct {
	d      *mnist.Dataset
	digits *mnist.Dataset // My digits, or nil when none are mixed in
	copies int
	seed   int64

	// For a batch that mixes both: where each training-set image goes, and its pixels.
	positions []int
	indices   []int32
	pixels    []byte
}

// newTrainSource returns the images of an epoch of cfg on d, with digits mixed in when
// cfg.MixDigits asks for copies and there are some.
func newTrainSource(d, digits *mnist.Dataset, cfg Config) *trainSource {
	s := &trainSource{d: d, seed: cfg.Seed}
	if cfg.MixDigits > 0 && digits.Len() > 0 {
		s.digits, s.copies = digits, cfg.MixDigits
	}
	return s
}

// mixed says whether copies of My digits are mixed in.
func (s *trainSource) mixed() bool { return s.digits != nil }

// Len is the number of images of an epoch.
func (s *trainSource) Len() int { return s.d.Len() + s.copies*s.digits.Len() }

// batch writes the images at indices (of the epoch's numbering) and their labels into images and
// labels, in order.
func (s *trainSource) batch(epoch int, indices []int32, images []byte, labels []int32) error {
	base := s.d.Len()
	if !s.mixed() {
		for i, p := range indices {
			labels[i] = int32(s.d.Labels[p])
		}
		return s.d.Gather(indices, images)
	}
	const pixels = mnist.ImageSize * mnist.ImageSize
	s.positions, s.indices = s.positions[:0], s.indices[:0]
	for i, p := range indices {
		if int(p) < base {
			s.positions, s.indices = append(s.positions, i), append(s.indices, p)
			labels[i] = int32(s.d.Labels[p])
			continue
		}
		copyIndex := int(p) - base
		digit := copyIndex % s.digits.Len()
		labels[i] = int32(s.digits.Labels[digit])
		augment(images[i*pixels:(i+1)*pixels], s.digits.Image(digit), s.seed, epoch, copyIndex)
	}
	if len(s.indices) == 0 {
		return nil
	}
	if need := len(s.indices) * pixels; cap(s.pixels) < need {
		s.pixels = make([]byte, need)
	} else {
		s.pixels = s.pixels[:need]
	}
	if err := s.d.Gather(s.indices, s.pixels); err != nil {
		return err
	}
	for j, i := range s.positions {
		copy(images[i*pixels:(i+1)*pixels], s.pixels[j*pixels:(j+1)*pixels])
	}
	return nil
}

// prefetch tells a remote training set which of its images the next batches take (indices: their
// parts one after another, in the epoch's numbering); batch then gathers them in consecutive pieces.
func (s *trainSource) prefetch(indices []int32) {
	if !s.mixed() {
		s.d.Prefetch(indices)
		return
	}
	base := int32(s.d.Len())
	var mine []int32
	for _, p := range indices {
		if p < base {
			mine = append(mine, p)
		}
	}
	s.d.Prefetch(mine)
}

// CheckDigits refuses a set of My digits that training or an evaluation cannot take: images of
// another size, or a label outside 0..NumClasses-1. what names the set in the message.
func CheckDigits(d *mnist.Dataset, what string) error {
	if d == nil || d.Len() == 0 {
		return fmt.Errorf("%s: no digits", what)
	}
	if d.Rows != mnist.ImageSize || d.Cols != mnist.ImageSize || len(d.Images) != d.Len()*mnist.ImageSize*mnist.ImageSize || len(d.Labels) != d.Len() {
		return fmt.Errorf("%s: %d bytes of pixels and %d labels are not %dx%d images with a label each",
			what, len(d.Images), len(d.Labels), mnist.ImageSize, mnist.ImageSize)
	}
	for i, l := range d.Labels {
		if l >= mnist.NumClasses {
			return fmt.Errorf("%s: label %d of digit %d is out of range 0..%d", what, l, i, mnist.NumClasses-1)
		}
	}
	return nil
}
