package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mnist-trainer/mnist/model"
)

// parseWithLimit parses args as the command does, with memoryLimit in place of the machine's
// memory (0: the machine's).
func parseWithLimit(tb testing.TB, memoryLimit int64, args ...string) (*Main, error) {
	tb.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	m.MemoryLimit = memoryLimit
	return m, m.ParseFlags(args)
}

// TestTrainPrintsMemoryEstimate: the line after the backend's gives model.MemoryEstimate's peak
// and what drives it, for the run's workers.
func TestTrainPrintsMemoryEstimate(t *testing.T) {
	stdout, err := runMain(t, "-preset", "half-filters", "-train-images", "64", "-batch", "32", "-epochs", "1",
		"-workers", "2", "-loss-images", "32", "-test-images", "50", "-out", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := model.PresetConfig("half-filters")
	cfg.TrainImages, cfg.BatchSize, cfg.Epochs, cfg.LossImages = 64, 32, 1, 32
	want := "Memory: " + cfg.ReplicaMemoryEstimate(2).String()
	lines := strings.SplitN(stdout, "\n", 3)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "Backend ") || lines[1] != want {
		t.Fatalf("the first lines are\n%s\nwant the backend's, then %q", strings.Join(lines[:min(2, len(lines))], "\n"), want)
	}
	if !strings.Contains(want, "at its peak; the largest part is ") {
		t.Errorf("the memory line %q does not say what drives the estimate", want)
	}
}

// TestMemoryRefusedOnlyBeyondTheMachine: natively there is no 4 GB cap, so the example
// (about 5.29 GB, which the page refuses) trains where the machine has the memory, and is refused
// with the estimate and what to change where it has not; a batch of 4096 of it (hundreds of GB)
// is refused against the machine's own memory.
func TestMemoryRefusedOnlyBeyondTheMachine(t *testing.T) {
	// One worker, as the page's figure is: by default a team of one per core, each with its share.
	example := []string{"-filters", "512,512,512", "-kernel", "7", "-stride", "1", "-workers", "1"}
	if _, err := parseWithLimit(t, 8_000_000_000, example...); err != nil {
		t.Errorf("with 8 GB: %v", err)
	}
	_, err := parseWithLimit(t, 4_000_000_000, example...)
	const want = "filters: this network needs about 5.29 GB of memory at its peak, more than the 4 GB allowed here; " +
		"the largest part is conv3's im2col at batch 64 (filters, kernel, stride). Fewer filters, a smaller kernel or a larger stride would need less"
	if err == nil || err.Error() != want {
		t.Errorf("with 4 GB:\n\t%v\nwant:\n\t%s", err, want)
	}
	_, err = parseWithLimit(t, 0, append(example, "-batch", "4096")...)
	if err == nil || !strings.Contains(err.Error(), "of this machine's memory") || !strings.HasPrefix(err.Error(), "batch: ") {
		t.Errorf("batch 4096 against the machine's memory: %v", err)
	}
	// XLA has its own memory planning, on its device: the estimate is not its.
	if _, err := parseWithLimit(t, 4_000_000_000, append(example, "-backend", "xla:cuda")...); err != nil {
		t.Errorf("with XLA: %v", err)
	}
}
