package session

// This file holds My digits, a student's own digits (web/mydigits.js): testing the current model
// on them, and their files both ways. The page keeps the digits and sends them with each call: the
// session holds none between calls, and a training run gets them in its options
// (TrainOptions.Digits), the same on every worker.

import (
	"bytes"
	"fmt"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
	"github.com/mnist-trainer/mnist/report"
)

// DigitsResult is an evaluation of My digits, as the page shows it: the accuracy beside MNIST's,
// their own confusion matrix, and each digit's prediction for the gallery.
type DigitsResult struct {
	Images      int                    `json:"images"`
	Correct     int                    `json:"correct"`
	Accuracy    float64                `json:"accuracy"`
	Loss        float64                `json:"loss"`
	Confusion   report.ConfusionMatrix `json:"confusion"`
	Predictions []int                  `json:"predictions"` // in the order the digits were sent
}

func newDigitsResult(ev *model.Evaluation) *DigitsResult {
	if ev == nil {
		return nil
	}
	r := &DigitsResult{Images: len(ev.Predictions), Accuracy: ev.Report.Accuracy, Loss: ev.Loss,
		Confusion: ev.Confusion, Predictions: ev.Predictions}
	for i := range ev.Confusion {
		r.Correct += ev.Confusion[i][i]
	}
	return r
}

// Digits makes a set of My digits of images (784 bytes each) and their labels, checked as
// training checks them (model.CheckDigits); what names the set in errors, whose code is
// "invalid-digits".
func Digits(images, labels []byte, what string) (*mnist.Dataset, error) {
	d := &mnist.Dataset{Images: images, Labels: labels, Rows: mnist.ImageSize, Cols: mnist.ImageSize}
	if err := model.CheckDigits(d, what); err != nil {
		return nil, Coded(CodeInvalidDigits, "", err)
	}
	return d, nil
}

// EvaluateDigits tests the current model on My digits, d: one evaluation, as after an epoch,
// yielding between its batches. It works during a run too, with the weights of that moment, as
// predictions do.
func (s *Session) EvaluateDigits(d *mnist.Dataset) (*DigitsResult, error) {
	ev, err := s.model().EvaluateEach(d, func(int, int) error {
		s.yield()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newDigitsResult(&ev), nil
}

// ExportDigits writes My digits as the two gzipped IDX files MNIST comes in, the images first.
func ExportDigits(d *mnist.Dataset) ([]mnist.IDXFile, error) {
	var images, labels bytes.Buffer
	if err := mnist.WriteImages(&images, d.Images); err != nil {
		return nil, err
	}
	if err := mnist.WriteLabels(&labels, d.Labels); err != nil {
		return nil, err
	}
	return []mnist.IDXFile{{Name: mnist.MyDigitsImagesFile, Data: images.Bytes()}, {Name: mnist.MyDigitsLabelsFile, Data: labels.Bytes()}}, nil
}

// CheckDigitFiles refuses a choice of n files that cannot be a set of digits: it takes two.
func CheckDigitFiles(n int) error {
	if n != 2 {
		return Coded(CodeInvalidDigits, "", fmt.Errorf("choose two files, the images (%s) and their labels (%s); you chose %d",
			mnist.MyDigitsImagesFile, mnist.MyDigitsLabelsFile, n))
	}
	return nil
}

// ImportDigits reads the two files of a set of digits (the images file and its labels file, in
// either order), as mnist.LoadIDXPair does: a bad pair fails with its message, which names the
// file at fault.
func ImportDigits(files []mnist.IDXFile) (*mnist.Dataset, error) {
	if err := CheckDigitFiles(len(files)); err != nil {
		return nil, err
	}
	d, err := mnist.LoadIDXPair(files[0], files[1])
	if err != nil {
		return nil, Coded(CodeInvalidDigits, "", err)
	}
	return d, nil
}
