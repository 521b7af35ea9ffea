package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// TestData: the three files a worker parses are checked, the training images unpacked for the
// page, and new data closes the images of the data it replaces.
func TestData(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	files := map[string][]byte{}
	for _, f := range mnist.KnownFiles {
		if f.Name != mnist.TrainImagesFile {
			files[f.Name] = mnisttest.ReadFile(t, f.Name)
		}
	}
	if _, err := ParseData(files, 59_999); err == nil || !strings.Contains(err.Error(), "59999 training images") {
		t.Errorf("a count that is not the labels': %v", err)
	}
	bad := map[string][]byte{}
	for k, v := range files {
		bad[k] = v
	}
	bad[mnist.TestLabelsFile] = append(bytes.Clone(files[mnist.TestLabelsFile]), 0)
	if _, err := ParseData(bad, 60_000); err == nil || !strings.Contains(err.Error(), mnist.TestLabelsFile) {
		t.Errorf("a damaged file: %v, which should name it", err)
	}
	delete(bad, mnist.TestLabelsFile)
	if _, err := ParseData(bad, 60_000); err == nil || err.Error() != mnist.TestLabelsFile+" is missing" {
		t.Errorf("a missing file: %v", err)
	}

	file := mnisttest.ReadFile(t, mnist.TrainImagesFile)
	runs, err := UnpackImages(file)
	if err != nil {
		t.Fatal(err)
	}
	if want, _, _ := mnist.ParseImageRuns(bytes.NewReader(file)); len(want) < 1e6 || !bytes.Equal(runs, want) {
		t.Errorf("unpacked %d bytes, not the training images' %d bytes of runs", len(runs), len(want))
	}
	if _, err := UnpackImages(mnisttest.ReadFile(t, mnist.TestImagesFile)); err == nil {
		t.Error("the test images unpacked as the training images")
	}

	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Train(TrainOptions{}, nil)
	wantCode(t, "train before the data", err, CodeNotLoaded, "")
	_, err = s.Evaluate(0)
	wantCode(t, "evaluate before the data", err, CodeNotLoaded, "")
	_, err = s.FeatureMaps(Input{Index: 0})
	wantCode(t, "feature maps of a test image before the data", err, CodeNotLoaded, "")
	d, err := ParseData(files, 60_000)
	if err != nil {
		t.Fatal(err)
	}
	first, second := &localImages{d: train}, &localImages{d: train}
	s.SetData(d, first)
	s.SetData(d, second)
	if !first.closed || second.closed {
		t.Errorf("closed: the replaced images %v, the new ones %v", first.closed, second.closed)
	}
	_, err = s.Evaluate(10_001)
	wantCode(t, "test-images out of range", err, CodeInvalidSetting, "test-images")
	r, err := s.Evaluate(200)
	if err != nil {
		t.Fatal(err)
	}
	if r.Images != 200 || r.Report.Accuracy != r.Accuracy {
		t.Errorf("evaluate: %d images, accuracy %v", r.Images, r.Accuracy)
	}
}

// TestDigits: My digits are checked, written as IDX files and read back in either order, and
// evaluated, with their own confusion matrix.
func TestDigits(t *testing.T) {
	_, test := mnisttest.Sets(t)
	mine := test.Slice(100, 130)
	d, err := Digits(mine.Images, mine.Labels, "my digits")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Digits(mine.Images[:100], mine.Labels, "my digits")
	wantCode(t, "images that are not whole digits", err, CodeInvalidDigits, "")
	bad := bytes.Clone(mine.Labels)
	bad[3] = 10
	_, err = Digits(mine.Images, bad, "my digits")
	wantCode(t, "a label that is no digit", err, CodeInvalidDigits, "")

	files, err := ExportDigits(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != mnist.MyDigitsImagesFile || files[1].Name != mnist.MyDigitsLabelsFile {
		t.Fatalf("exported %v", files)
	}
	back, err := ImportDigits([]mnist.IDXFile{files[1], files[0]})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Images, d.Images) || !bytes.Equal(back.Labels, d.Labels) {
		t.Error("My digits came back changed")
	}
	_, err = ImportDigits(files[:1])
	wantCode(t, "one file", err, CodeInvalidDigits, "")
	_, err = ImportDigits([]mnist.IDXFile{files[0], files[0]})
	wantCode(t, "two images files", err, CodeInvalidDigits, "")

	s := loaded(t, small+"&train-images=320&epochs=1&mix-digits=2")
	var epoch *EpochEvent
	if _, err := s.Train(TrainOptions{TestImages: 10, Run: 1, Digits: d}, func(e Event) {
		if e, ok := e.(EpochEvent); ok {
			epoch = &e
		}
	}); err != nil {
		t.Fatal(err)
	}
	if epoch == nil || epoch.Digits == nil || epoch.Digits.Images != 30 || len(epoch.Digits.Predictions) != 30 {
		t.Fatalf("the epoch's evaluation of My digits: %+v", epoch)
	}
	r, err := s.EvaluateDigits(d)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range r.Predictions {
		if p == int(d.Labels[i]) {
			correct++
		}
	}
	if r.Images != 30 || r.Correct != correct || r.Accuracy != float64(correct)/30 {
		t.Errorf("evaluateDigits: %d images, %d correct (the predictions say %d), accuracy %v", r.Images, r.Correct, correct, r.Accuracy)
	}
	if fmt.Sprint(r.Predictions) != fmt.Sprint(epoch.Digits.Predictions) {
		t.Errorf("the current model predicts %v, the run's last epoch said %v", r.Predictions, epoch.Digits.Predictions)
	}
}

// TestErrorCodes: the codes and keys of model's typed errors, and those the session gives its own.
func TestErrorCodes(t *testing.T) {
	tooLarge := model.DefaultConfig()
	tooLarge.Filters, tooLarge.KernelSize, tooLarge.Stride = [3]int{512, 512, 512}, 7, 1
	for _, c := range []struct {
		name      string
		err       error
		code, key string
	}{
		{"a setting refused", &model.FieldError{Key: "epochs", Err: errors.New("no")}, CodeInvalidSetting, "epochs"},
		{"a network too large", tooLarge.CheckMemory(model.BrowserMemoryLimit, BrowserRoom), CodeMemory, "filters"},
		{"a diverged run, wrapped", fmt.Errorf("%w. The model is back to the one from before this run", model.ErrDiverged), CodeDiverged, "lr"},
		{"an unknown preset", fmt.Errorf("preset: %w", model.ErrUnknownPreset), CodeInvalidSetting, "preset"},
		{"coded, wrapped", fmt.Errorf("train: %w", Coded(CodeBusy, "", errors.New("busy"))), CodeBusy, ""},
		{"anything else", errors.New("join: worker 3 of 2 does not exist"), CodeFailed, ""},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		wantCode(t, c.name, c.err, c.code, c.key)
	}
	if err := Coded(CodeLocked, "kernel", errors.New("kernel: fixed")); err.Error() != "kernel: fixed" {
		t.Errorf("a coded error's message: %q", err)
	}
}

// TestPixelsJSON: grey levels travel as numbers, not base64.
func TestPixelsJSON(t *testing.T) {
	b, err := json.Marshal(CellDigits{Count: 1, Indices: []int{4}, Images: []Pixels{{0, 7, 255}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"count":1,"indices":[4],"images":[[0,7,255]]}` {
		t.Errorf("JSON %s", b)
	}
}
