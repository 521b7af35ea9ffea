package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

// drawnDigits is a set of My digits drawn on the page's pad in the browser tests (TestBrowserMyDigits
// exports it here with -save-digits): 3 of each digit, as the page exports them.
const drawnDigits = "testdata/my-digits"

// drawn returns the drawn digits of drawnDigits.
func drawn(tb testing.TB) *mnist.Dataset {
	tb.Helper()
	digits, err := mnistdir.OpenMyDigits(drawnDigits)
	if err != nil {
		tb.Fatal(err)
	}
	return digits
}

// TestTrainEvaluatesMyDigits trains with the drawn digits passed by flag, mixed in, and checks
// that each epoch and the end report the accuracy on them, with their report and confusion matrix.
func TestTrainEvaluatesMyDigits(t *testing.T) {
	digits := drawn(t)
	stdout, err := runMain(t, "-preset", "half-filters", "-train-images", "256", "-batch", "32", "-epochs", "2",
		"-loss-images", "64", "-test-images", "200", "-out", "", "-my-digits", drawnDigits, "-mix-digits", "2")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stdout)
	n := digits.Len()
	for _, want := range []string{
		fmt.Sprintf("My digits: %d from %s (per digit 0-9: [", n, drawnDigits),
		"evaluated, and 2 copies of each mixed into every epoch",
		fmt.Sprintf("Classification report on %d of My digits:", n),
		"My digits accuracy ",
		"   0   1   2   3   4   5   6   7   8   9\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	epochs := regexp.MustCompile(fmt.Sprintf(`Epoch \d: training loss [0-9.]+ \(on 64 images\), My digits: accuracy [0-9.]+ \(\d+ of %d\)`, n)).FindAllString(stdout, -1)
	if len(epochs) != 2 {
		t.Errorf("%d epoch lines with the accuracy on My digits, want 2", len(epochs))
	}
	// The confusion matrix's rows add up to each digit's count.
	rows := regexp.MustCompile(`(?m)^ {3}(\d)((?: +\d+){10})$`).FindAllStringSubmatch(stdout, -1)
	if len(rows) != 10 {
		t.Fatalf("%d rows of the confusion matrix, want 10", len(rows))
	}
	for _, r := range rows {
		sum := 0
		for _, f := range strings.Fields(r[2]) {
			var v int
			fmt.Sscan(f, &v)
			sum += v
		}
		label := int(r[1][0] - '0')
		if want := bytes.Count(digits.Labels, []byte{byte(label)}); sum != want {
			t.Errorf("row %d adds up to %d, want the %d drawn %ds", label, sum, want, label)
		}
	}
}

// TestMyDigitsFlagErrors: a bad set stops the command before training, with the file at fault named.
func TestMyDigitsFlagErrors(t *testing.T) {
	dir := t.TempDir()
	images := filepath.Join(drawnDigits, mnist.MyDigitsImagesFile)
	bad := filepath.Join(dir, "labels-idx1") // one label short
	d := drawn(t)
	var buf bytes.Buffer
	if err := mnist.WriteLabels(&buf, d.Labels[:d.Len()-1]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-mix-digits", "2"}, "mix-digits: 2 copies of My digits per epoch, but no -my-digits files to take them from"},
		{[]string{"-my-digits", images}, "want a folder holding my-digits-images-idx3-ubyte.gz and my-digits-labels-idx1-ubyte.gz, or an images file and its labels file"},
		{[]string{"-my-digits", dir}, "my digits: open " + filepath.Join(dir, mnist.MyDigitsImagesFile)},
		{[]string{"-my-digits", images + "," + images}, "are both images files"},
		{[]string{"-my-digits", bad + "," + images}, fmt.Sprintf("holds %d images but %s holds %d labels", d.Len(), bad, d.Len()-1)},
	} {
		_, err := runMain(t, append([]string{"-train-images", "64", "-batch", "32", "-out", ""}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}

// TestMyDigitsFigures measures what mixing My digits in does, for the README: one epoch on all of
// MNIST, without the drawn digits and with copies of the first 20 of them (two of each digit)
// mixed in, each model then tested on MNIST's test images, on those 20 and on the other 10
// (one of each digit), which the second run never saw. Minutes natively, so only on request:
//
//	MNIST_FIGURES=1 go test -run TestMyDigitsFigures -v ./cmd/train
func TestMyDigitsFigures(t *testing.T) {
	if os.Getenv("MNIST_FIGURES") == "" {
		t.Skip("minutes of training: MNIST_FIGURES=1 go test -run TestMyDigitsFigures -v ./cmd/train")
	}
	train, test := mnisttest.Sets(t)
	digits := drawn(t)
	seen, unseen := digits.Slice(0, 20), digits.Slice(20, 30)
	backend, err := model.GoBackend()
	if err != nil {
		t.Fatal(err)
	}
	for _, mix := range []int{0, 20} {
		cfg := model.DefaultConfig()
		cfg.Epochs, cfg.MixDigits = 1, mix
		net, err := model.New(backend, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := net.Train(t.Context(), train, model.TrainOptions{Digits: seen}); err != nil {
			t.Fatal(err)
		}
		acc := func(d *mnist.Dataset) string {
			ev, err := net.Evaluate(d)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%.4f (%d of %d)", ev.Report.Accuracy, correct(&ev), d.Len())
		}
		t.Logf("mix-digits %d (copies of the first 20): MNIST test %s; the 20 %s; the other 10 %s",
			mix, acc(test), acc(seen), acc(unseen))
	}
}
