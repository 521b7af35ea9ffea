package session

import (
	"bytes"
	"slices"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// TestWeightsRoundTrip: a trained model's weights, exported and imported into another session,
// give the same configuration, kernels, predictions and feature maps; inspect loads the same file
// beside the current model, once per key.
func TestWeightsRoundTrip(t *testing.T) {
	a := loaded(t, small+"&train-images=320&epochs=1")
	if _, err := a.Train(TrainOptions{TestImages: 10, Run: 1}, nil); err != nil {
		t.Fatal(err)
	}
	data, err := a.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	b := loaded(t, "")
	untrained, err := b.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Evaluate(50); err != nil { // an evaluation of the model the import replaces
		t.Fatal(err)
	}
	res, err := b.ImportWeights(data, map[string]string{"filters": "8,16,16", "epochs": "7"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Values["filters"] != "8,16,16" || res.Values["dense"] != "32,32" || b.cfg.Filters != [3]int{8, 16, 16} {
		t.Errorf("imported: values %v", res.Values)
	}
	if _, err := b.CellDigits(1, 1, 1); err == nil {
		t.Error("the evaluation of the model the import replaced is still there")
	}
	again, err := b.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("exporting the imported model gives another file")
	}

	_, test := mnisttest.Sets(t)
	digit := Drawing{Pixels: test.Image(0), Width: mnist.ImageSize, Height: mnist.ImageSize}
	pa, err := a.Predict(digit)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Predict(digit)
	if err != nil {
		t.Fatal(err)
	}
	if pa.Probabilities != pb.Probabilities || !slices.Equal(pa.Input, pb.Input) {
		t.Errorf("predictions differ: %v and %v", pa.Probabilities, pb.Probabilities)
	}
	fa, err := a.FeatureMaps(Input{Index: 7})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := b.FeatureMaps(Input{Index: 7})
	if err != nil {
		t.Fatal(err)
	}
	if fa.Index != 7 || fa.Label != int(test.Labels[7]) || len(fa.Layers) != 3 || !slices.Equal(fa.Layers[2].Maps[0], fb.Layers[2].Maps[0]) {
		t.Errorf("feature maps of test image 7: %d layers, index %d, label %d", len(fa.Layers), fa.Index, fa.Label)
	}
	if _, err := a.FeatureMaps(Input{Index: 10_000}); err == nil {
		t.Error("feature maps of test image 10000: no error")
	}

	// Inspect: the file beside b's current model, which it leaves alone.
	c := loaded(t, "")
	st, err := c.LoadStored("run-1", func() ([]byte, error) { return data, nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadStored("run-1", func() ([]byte, error) { t.Error("a loaded key's weights are read again"); return nil, nil }); err != nil {
		t.Fatal(err)
	}
	in, err := c.Inspect(st, Input{Drawing: &digit})
	if err != nil {
		t.Fatal(err)
	}
	ka, err := a.Kernels()
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Kernels) != 3 || in.Kernels[0].Out != 8 || !slices.Equal(in.Kernels[0].Images[5], ka[0].Images[5]) || in.Features.Index != -1 {
		t.Errorf("inspect: %d kernel layers, the first of %d filters", len(in.Kernels), in.Kernels[0].Out)
	}
	if current, _ := c.ExportWeights(); bytes.Equal(current, data) || !bytes.Equal(current, untrained) {
		t.Error("inspect replaced the current model")
	}
	_, err = c.LoadStored("run-2", func() ([]byte, error) { return nil, nil })
	wantCode(t, "inspect of a key not loaded, without weights", err, CodeNoModel, "")
}

// TestImportRefuses: a bad or locked-out weights file changes nothing.
func TestImportRefuses(t *testing.T) {
	s := loaded(t, small)
	before, err := s.ExportWeights()
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ImportWeights([]byte("not safetensors"), nil)
	wantCode(t, "a file that is not weights", err, CodeInvalidWeights, "")
	_, err = s.ImportWeights(before[:len(before)/2], nil)
	wantCode(t, "half a weights file", err, CodeInvalidWeights, "")
	_, err = s.ImportWeights(before, map[string]string{"filters": "16,32,64"})
	wantCode(t, "a file whose network the course did not lock", err, CodeLocked, "filters")
	wantCode(t, "a file too large", CheckWeightsSize(model.MaxWeightsFileSize()+1), CodeInvalidWeights, "")
	if err := CheckWeightsSize(model.MaxWeightsFileSize()); err != nil {
		t.Errorf("the largest weights file: %v", err)
	}
	if s.cfg.Filters != [3]int{8, 16, 16} {
		t.Errorf("a refused file changed the configuration: filters %v", s.cfg.Filters)
	}
	if after, _ := s.ExportWeights(); !bytes.Equal(after, before) {
		t.Error("a refused file changed the current model")
	}
}

// TestInspectKeepsFour: the last four keys used stay loaded.
func TestInspectKeepsFour(t *testing.T) {
	var c inspectCache
	models := make([]*model.Model, 5)
	for i := range models {
		models[i] = new(model.Model)
		if i == 4 {
			c.get("a") // a is used again: b is now the least recently used
		}
		c.put(string(rune('a'+i)), models[i])
	}
	for key, want := range map[string]*model.Model{"a": models[0], "b": nil, "c": models[2], "e": models[4]} {
		if got := c.get(key); got != want {
			t.Errorf("key %s: %p, want %p", key, got, want)
		}
	}
}
