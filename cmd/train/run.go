package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/kernels"
	"github.com/mnist-trainer/mnist/model"
)

// errHelp is returned by ParseFlags when -h was asked for and usage was printed.
var errHelp = flag.ErrHelp

// Main is the train command, separated from main() so tests can run it in-process.
type Main struct {
	// Config is the network and training configuration.
	Config model.Config
	// DataDir holds the four MNIST files; empty means the GoMNIST module's copy.
	DataDir string
	// Backend is "go" (simplego) or "xla:cpu", "xla:cuda", "xla:/abs/path/plugin.so".
	Backend string
	// Out is where the weights are saved; empty means do not save.
	Out string
	// TestImages limits the evaluation to the first N test images; 0 means all 10,000.
	TestImages int
	// Workers is the number of model replicas training on shards of each batch, in parallel, 1 to
	// model.VirtualShards; the result is the same as one's, bit for bit (see model.TrainReplicas).
	// 0 means defaultWorkers.
	Workers int
	// MyDigits names a student's own digits, or a class set (mnistdir.OpenMyDigits): evaluated
	// after each epoch and at the end, and mixed into training when Config.MixDigits asks for copies.
	MyDigits string
	// MemoryLimit is the most memory, in bytes, a run on the pure-Go backend may need by
	// model.Config.MemoryEstimate; 0 means the machine's physical memory.
	MemoryLimit int64
	// Stdout gets the results, Stderr the progress bar.
	Stdout, Stderr io.Writer

	backend backends.Backend
}

// NewMain returns a Main with the notebook's defaults, writing to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Config: model.DefaultConfig(), Backend: "go", Out: "mnist.safetensors",
		Stdout: os.Stdout, Stderr: os.Stderr}
}

// ParseFlags sets m from command-line arguments. Each model.Config field is a flag; -preset applies
// first wherever it appears, so "-preset half-filters -epochs 1" and "-epochs 1 -preset half-filters" agree.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	preset := fs.String("preset", "notebook", "start from a preset: notebook, half-filters or kernel-4")
	fs.StringVar(&m.DataDir, "data", m.DataDir, "folder with the four MNIST .gz files (default: the GoMNIST module's copy)")
	fs.StringVar(&m.Backend, "backend", m.Backend, `"go" (pure Go), or "xla:cpu", "xla:cuda", "xla:/path/to/pjrt_plugin.so" in a binary built with -tags xla`)
	fs.StringVar(&m.Out, "out", m.Out, `file to save the weights to ("" to skip)`)
	fs.IntVar(&m.TestImages, "test-images", 0, "evaluate on the first N test images (0 = all 10,000)")
	fs.StringVar(&m.MyDigits, "my-digits", m.MyDigits, myDigitsUsage)
	fs.IntVar(&m.Workers, "workers", m.Workers, "replicas training on shards of each batch in parallel, 1 to 4, the same weights as 1, bit for bit (default: one per core, up to 4, on the pure-Go backend; 1 on XLA)")
	type setting struct{ key, value string }
	var settings []setting
	def := model.DefaultConfig()
	for _, f := range model.Fields() {
		fs.Func(f.Key, fmt.Sprintf("%s (default %s)", f.Usage, f.Get(&def)), func(v string) error {
			// Parse now to report a bad value against its flag; apply after the preset.
			var probe model.Config
			if err := f.Set(&probe, v); err != nil {
				var fe *model.FieldError
				if errors.As(err, &fe) {
					return fe.Err // the flag package names the flag itself
				}
				return err
			}
			settings = append(settings, setting{f.Key, v})
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	cfg, err := model.PresetConfig(*preset)
	if err != nil {
		return err
	}
	for _, s := range settings {
		if err := cfg.Set(s.key, s.value); err != nil {
			return err
		}
	}
	if m.Workers == 0 {
		m.Workers = defaultWorkers(m.Backend, runtime.NumCPU())
	}
	if m.Workers < 1 || m.Workers > model.VirtualShards {
		// Every batch is cut into VirtualShards virtual shards, one at least per worker.
		return fmt.Errorf("-workers %d: must be 1..%d", m.Workers, model.VirtualShards)
	}
	if m.TestImages < 0 {
		return fmt.Errorf("-test-images %d: must be 0 (all) or more", m.TestImages)
	}
	m.Config = cfg
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := m.checkMyDigits(); err != nil {
		return err
	}
	return m.checkMemory()
}

// Run loads MNIST, trains, prints the per-epoch loss and the classification report, and saves the weights.
func (m *Main) Run(ctx context.Context) error {
	dir := m.DataDir
	if dir == "" {
		var err error
		if dir, err = mnistdir.Find(); err != nil {
			return err
		}
	}
	train, test, err := mnistdir.Open(dir)
	if err != nil {
		return err
	}
	if m.TestImages > 0 {
		test = test.Slice(0, m.TestImages)
	}
	digits, err := m.openMyDigits()
	if err != nil {
		return err
	}
	if m.backend, err = newBackend(m.Backend, m.Workers); err != nil {
		return err
	}
	replicas := make([]*model.Model, m.Workers)
	for i := range replicas {
		if replicas[i], err = model.New(m.backend, m.Config); err != nil {
			return err
		}
	}
	net := replicas[0]
	cfg := m.Config
	images := train.Len()
	if cfg.TrainImages > 0 {
		images = min(images, cfg.TrainImages)
	}
	fmt.Fprintf(m.Stdout, "Backend %s · kernels %s · %d parameters · %d training images · batch %d · %d epoch(s) · lr %g · %d worker(s)\n",
		m.backend.Name(), kernelsLabel(m.backend), net.NumParams(), images, cfg.BatchSize, cfg.Epochs, cfg.LearningRate, m.Workers)
	fmt.Fprintln(m.Stdout, m.memoryLine())
	if digits != nil {
		fmt.Fprintln(m.Stdout, m.myDigitsLine(digits))
	}

	bar := newProgressBar(m.Stderr)
	start := time.Now()
	_, err = model.TrainReplicas(ctx, replicas, train, model.TrainOptions{
		Digits:     digits,
		OnProgress: bar.update,
		OnEpoch: func(r model.EpochResult) {
			bar.clear()
			fmt.Fprintf(m.Stdout, "Epoch %d: training loss %.4f (on %d images)%s, %s\n",
				r.Epoch, r.TrainLoss, r.LossImages, digitsLine(r.Digits), r.Duration.Round(time.Second))
		},
	})
	bar.clear()
	if err != nil {
		return err
	}
	trainTime := time.Since(start)

	ev, err := net.Evaluate(test)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nClassification report on %d test images:\n\n%s\n", test.Len(), ev.Report)
	fmt.Fprintf(m.Stdout, "Test accuracy %.4f · training time %s (loss evaluations included) · total %s\n",
		ev.Report.Accuracy, trainTime.Round(time.Second), time.Since(start).Round(time.Second))
	if digits != nil {
		dev, err := net.Evaluate(digits)
		if err != nil {
			return err
		}
		printDigitsReport(m.Stdout, dev)
	}

	if m.Out != "" {
		if err := saveWeights(net, m.Out); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Saved weights to %s (load them in the browser with Import)\n", m.Out)
	}
	return nil
}

// Close releases the backend.
func (m *Main) Close() error {
	if m.backend != nil {
		m.backend.Finalize()
		m.backend = nil
	}
	return nil
}

// saveWeights writes the file atomically: a failed save never leaves a half-written weights file.
func saveWeights(net *model.Model, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".weights-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := net.Save(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// kernelsLabel says which compute kernels backend runs: for the pure-Go backend "SIMD ×N" (our
// kernels, N float32 lanes) or "generic" (simplego as shipped); XLA brings its own.
func kernelsLabel(backend backends.Backend) string {
	if _, ok := backend.(*simplego.Backend); !ok {
		return "XLA"
	}
	return kernels.Summary()
}

// defaultWorkers is the team a run on backend gets unless -workers says otherwise, on a machine of
// cpus cores. On the pure-Go backend, one replica per core, up to model.VirtualShards: one replica
// spreads its matrix products and large element-wise ops over every core, but its many small ops
// run on one, so on the 2-core reference machine two replicas trained an epoch at 1,584 images/s
// where one trained at 1,190 (BENCHMARKS.md). XLA runs each op on every core itself, so it keeps
// one.
func defaultWorkers(backend string, cpus int) int {
	if backend != "go" {
		return 1
	}
	return min(max(cpus, 1), model.VirtualShards)
}
