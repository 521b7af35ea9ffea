// Package mnisttest gives tests the real MNIST files, found the one way the project finds them
// (mnistdir.Find: $MNIST_DIR, else the GoMNIST module's data folder). Tests of package model and
// of package mnist use it; under js/wasm they cannot run the go command, so MNIST_DIR must be
// set (go_js_wasm_exec passes the environment through to the test binary; make test sets it from
// cmd/mnistdir).
package mnisttest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/mnist"
)

// Dir returns the folder holding the four MNIST files, or fails tb.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := mnistdir.Find()
	if err != nil {
		tb.Fatalf("MNIST files not found: %v", err)
	}
	return dir
}

// ReadFile returns the bytes of the MNIST file called name (such as mnist.TrainImagesFile).
func ReadFile(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(tb), name))
	if err != nil {
		tb.Fatalf("reading MNIST data: %v", err)
	}
	return data
}

// Gunzip returns the decompressed content of data, a gzipped MNIST file, or fails tb.
func Gunzip(tb testing.TB, data []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

var sets struct {
	once        sync.Once
	train, test *mnist.Dataset
	err         error
}

// Sets returns the real MNIST train and test sets (mnistdir.Open), read once per test binary
// since decoding 60,000 images takes a noticeable time (more so under wasm). Callers must not
// modify the returned data; take Slices.
func Sets(tb testing.TB) (train, test *mnist.Dataset) {
	tb.Helper()
	dir := Dir(tb)
	sets.once.Do(func() { sets.train, sets.test, sets.err = mnistdir.Open(dir) })
	if sets.err != nil {
		tb.Fatalf("loading MNIST from %s: %v", dir, sets.err)
	}
	return sets.train, sets.test
}
