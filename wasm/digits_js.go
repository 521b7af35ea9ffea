//go:build js && wasm

package main

// This file holds the calls of My digits, a student's own digits (web/mydigits.js): testing the
// current model on them, and their files both ways. The page keeps the digits (IndexedDB) and
// sends them with each call: the worker holds none between calls, and a training run gets them
// in train's options (digitsOption), the same on every worker.

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"

	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
	"github.com/mnist-trainer/mnist/report"
)

// digitsResult is an evaluation of My digits, as the page shows it: the accuracy beside MNIST's,
// their own confusion matrix, and each digit's prediction for the gallery.
type digitsResult struct {
	Images      int                    `json:"images"`
	Correct     int                    `json:"correct"`
	Accuracy    float64                `json:"accuracy"`
	Loss        float64                `json:"loss"`
	Confusion   report.ConfusionMatrix `json:"confusion"`
	Predictions []int                  `json:"predictions"` // in the order the digits were sent
}

func newDigitsResult(ev *model.Evaluation) *digitsResult {
	if ev == nil {
		return nil
	}
	r := &digitsResult{Images: len(ev.Predictions), Accuracy: ev.Report.Accuracy, Loss: ev.Loss,
		Confusion: ev.Confusion, Predictions: ev.Predictions}
	for i := range ev.Confusion {
		r.Correct += ev.Confusion[i][i]
	}
	return r
}

// digitsFrom reads a set of My digits, {images: Uint8Array (784 bytes each), labels: Uint8Array},
// and checks it as training would (model.CheckDigits).
func digitsFrom(v safejs.Value, what string) (*mnist.Dataset, error) {
	if v.Type() != safejs.TypeObject {
		return nil, coded(codeInvalidDigits, "", fmt.Errorf("%s: expected {images, labels}", what))
	}
	field := func(key string) ([]byte, error) {
		f, err := v.Get(key)
		if err != nil {
			return nil, err
		}
		return bytesFromJS(f, what+"."+key)
	}
	images, err := field("images")
	if err != nil {
		return nil, coded(codeInvalidDigits, "", err)
	}
	labels, err := field("labels")
	if err != nil {
		return nil, coded(codeInvalidDigits, "", err)
	}
	d := &mnist.Dataset{Images: images, Labels: labels, Rows: mnist.ImageSize, Cols: mnist.ImageSize}
	if err := model.CheckDigits(d, what); err != nil {
		return nil, coded(codeInvalidDigits, "", err)
	}
	return d, nil
}

// digitsOption reads train's digits option: My digits to evaluate after each epoch, and to mix in
// as the configuration's mix-digits says. None (nil) when the page has none.
func digitsOption(opts safejs.Value) (*mnist.Dataset, error) {
	if !hasField(opts, "digits") {
		return nil, nil
	}
	v, _ := opts.Get("digits")
	if v.IsNull() {
		return nil, nil
	}
	return digitsFrom(v, "digits")
}

// jsEvaluateDigits tests the current model on My digits, {images, labels}: one evaluation, as
// after an epoch, yielding between its batches. It works during a run too, with the weights of
// that moment, as predictions do.
func (t *trainer) jsEvaluateDigits(args []safejs.Value) (any, error) {
	d, err := digitsFrom(arg(args, 0), "evaluateDigits")
	if err != nil {
		return nil, err
	}
	ev, err := t.model().EvaluateEach(d, func(int, int) error {
		t.yield()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newDigitsResult(&ev), nil
}

// jsExportDigits writes My digits, {images, labels}, as the two gzipped IDX files MNIST comes in:
// {files: [{name, data: Uint8Array}, …]}, the images first.
func (t *trainer) jsExportDigits(args []safejs.Value) (any, error) {
	d, err := digitsFrom(arg(args, 0), "exportDigits")
	if err != nil {
		return nil, err
	}
	var images, labels bytes.Buffer
	if err := mnist.WriteImages(&images, d.Images); err != nil {
		return nil, err
	}
	if err := mnist.WriteLabels(&labels, d.Labels); err != nil {
		return nil, err
	}
	files, err := safejs.ValueOf([]any{})
	if err != nil {
		return nil, err
	}
	for i, f := range []mnist.IDXFile{{Name: mnist.MyDigitsImagesFile, Data: images.Bytes()}, {Name: mnist.MyDigitsLabelsFile, Data: labels.Bytes()}} {
		data, err := bytesToJS(f.Data)
		if err != nil {
			return nil, err
		}
		file, err := plainObject(map[string]any{"name": f.Name, "data": data})
		if err == nil {
			err = files.SetIndex(i, file)
		}
		if err != nil {
			return nil, err
		}
	}
	return plainObject(map[string]any{"files": files})
}

// jsImportDigits reads the two files of a set of digits, [{name, data: Uint8Array}, …] (the
// images file and its labels file, in either order), as mnist.LoadIDXPair does: a bad pair fails
// with its message, which names the file at fault. It answers {images, labels, count}.
func (t *trainer) jsImportDigits(args []safejs.Value) (any, error) {
	list := arg(args, 0)
	n, err := list.Length()
	if err != nil {
		return nil, coded(codeInvalidDigits, "", errors.New("importDigits: expected a list of files"))
	}
	if n != 2 {
		return nil, coded(codeInvalidDigits, "", fmt.Errorf("choose two files, the images (%s) and their labels (%s); you chose %d",
			mnist.MyDigitsImagesFile, mnist.MyDigitsLabelsFile, n))
	}
	var files [2]mnist.IDXFile
	for i := range files {
		f, err := list.Index(i)
		if err != nil {
			return nil, err
		}
		name, _ := f.Get("name")
		if files[i].Name, err = name.String(); err != nil {
			return nil, errors.New("importDigits: each file needs its name")
		}
		data, _ := f.Get("data")
		if files[i].Data, err = bytesFromJS(data, files[i].Name); err != nil {
			return nil, err
		}
	}
	d, err := mnist.LoadIDXPair(files[0], files[1])
	if err != nil {
		return nil, coded(codeInvalidDigits, "", err)
	}
	images, err := bytesToJS(d.Images)
	if err != nil {
		return nil, err
	}
	labels, err := bytesToJS(d.Labels)
	if err != nil {
		return nil, err
	}
	return plainObject(map[string]any{"images": images, "labels": labels, "count": d.Len()})
}

// plainObject makes a plain JS object of fields whose values may be JS values: Uint8Arrays stay
// Uint8Arrays, which toJS's JSON would turn into text.
func plainObject(fields map[string]any) (safejs.Value, error) {
	obj, err := safejs.ValueOf(map[string]any{})
	if err != nil {
		return safejs.Value{}, err
	}
	for k, v := range fields {
		if err := obj.Set(k, v); err != nil {
			return safejs.Value{}, err
		}
	}
	return obj, nil
}
