package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/model"
)

// runMain runs the command in-process with args and returns its stdout.
func runMain(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	defer m.Close()
	if err := m.ParseFlags(args); err != nil {
		return stdout.String(), err
	}
	err := m.Run(context.Background())
	return stdout.String(), err
}

func TestTrainPrintsReportAndSavesWeights(t *testing.T) {
	out := filepath.Join(t.TempDir(), "w.safetensors")
	stdout, err := runMain(t, "-preset", "half-filters", "-train-images", "128", "-batch", "32", "-epochs", "2", "-workers", "2",
		"-loss-images", "64", "-test-images", "200", "-out", out)
	if err != nil {
		t.Fatal(err)
	}
	// make builds with the SIMD kernels (MNIST_EXPECT_SIMD=1), and the first line says so.
	if first, _, _ := strings.Cut(stdout, "\n"); os.Getenv("MNIST_EXPECT_SIMD") != "" && !strings.Contains(first, "kernels SIMD ×") {
		t.Errorf("first line does not name the SIMD kernels: %q", first)
	}
	for _, want := range []string{
		"2 worker(s)", "Epoch 1: training loss", "Epoch 2: training loss", "(on 64 images)",
		"              precision    recall  f1-score   support", "    accuracy ", "weighted avg",
		"Saved weights to " + out,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := model.GoBackend()
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.Load(backend, data)
	if err != nil {
		t.Fatalf("the saved file does not load: %v", err)
	}
	if got := net.Config().Filters; got != [3]int{16, 32, 64} {
		t.Fatalf("saved config has filters %v, want the half-filters preset", got)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-epochs", "ten"}, `"ten" is not an integer`},
		{[]string{"-filters", "0,64,128"}, "conv1 has 0 filters"},
		{[]string{"-kernel", "9"}, "kernel: size 9 is outside 1..7"},
		{[]string{"-preset", "huge"}, `unknown preset "huge"`},
		{[]string{"-train-images", "10", "-batch", "64"}, "larger than the 10 training images"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-backend", "tpu"}, `-backend "tpu"`},
		{[]string{"-workers", "5"}, "-workers 5: must be 1..4"},
		{[]string{"-workers", "-1"}, "-workers -1: must be 1..4"},
		{[]string{"-data", "/nonexistent", "-epochs", "1"}, "/nonexistent"},
	} {
		_, err := runMain(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestDefaultWorkers: without -workers, a run on the pure-Go backend trains one replica per core,
// up to 4 (one at least), and a run on XLA one.
func TestDefaultWorkers(t *testing.T) {
	for _, tc := range []struct {
		backend    string
		cpus, want int
	}{{"go", 1, 1}, {"go", 2, 2}, {"go", 3, 3}, {"go", 16, 4}, {"go", 0, 1}, {"xla:cuda", 16, 1}, {"xla:cpu", 2, 1}} {
		if got := defaultWorkers(tc.backend, tc.cpus); got != tc.want {
			t.Errorf("defaultWorkers(%q, %d) = %d, want %d", tc.backend, tc.cpus, got, tc.want)
		}
	}
	m := NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"-epochs", "1"}); err != nil {
		t.Fatal(err)
	}
	if want := defaultWorkers("go", runtime.NumCPU()); m.Workers != want {
		t.Errorf("no -workers on %d cores: %d workers, want %d", runtime.NumCPU(), m.Workers, want)
	}
}

func TestPresetAppliesBeforeFlags(t *testing.T) {
	m := NewMain()
	m.Stderr = &bytes.Buffer{}
	if err := m.ParseFlags([]string{"-kernel", "5", "-preset", "half-filters"}); err != nil {
		t.Fatal(err)
	}
	if m.Config.KernelSize != 5 || m.Config.Filters != [3]int{16, 32, 64} {
		t.Fatalf("config %s: want kernel 5 on top of half-filters", m.Config)
	}
}
