// Command bench measures the native training and inference speed of the model on the pure-Go
// backend and prints one JSON line per figure, for BENCHMARKS.md:
//
//	go run ./cmd/bench              # what `make bench` runs
//	go run ./cmd/bench -steps 30    # more steps for steadier numbers
//	go run ./cmd/bench -batches 64 -cpuprofile cpu.prof && go tool pprof -top cpu.prof
//
// Each training figure is the steady state: the first step, which compiles the graph, is timed
// separately as first_step_seconds.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnist-trainer/mnist/internal/benchfig"
	"github.com/mnist-trainer/mnist/internal/mnistdir"
	"github.com/mnist-trainer/mnist/mnist"
	"github.com/mnist-trainer/mnist/model"
)

func main() {
	steps := flag.Int("steps", 15, "timed training steps per batch size")
	batches := flag.String("batches", "64,256", "training batch sizes to measure")
	workers := flag.Int("workers", 2, "also measure batch 64 with this many replicas (model.TrainReplicas); 1 to skip")
	inferBatch := flag.Int("infer-batch", 1000, "inference batch size")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -cpuprofile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*steps, *batches, *workers, *inferBatch); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(steps int, batches string, workers, inferBatch int) error {
	dir, err := mnistdir.Find()
	if err != nil {
		return err
	}
	train, test, err := mnistdir.Open(dir)
	if err != nil {
		return err
	}
	backend, err := model.GoBackend()
	if err != nil {
		return err
	}
	emit := benchfig.Writer{W: os.Stdout, Backend: backend.Name()}.Emit
	for _, b := range strings.Split(batches, ",") {
		batch, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil {
			return fmt.Errorf("-batches: %q is not a number", b)
		}
		first, perSec, err := trainSpeed(backend, train, batch, 1, steps)
		if err != nil {
			return err
		}
		if batch == model.DefaultConfig().BatchSize {
			emit("native_first_step_seconds", first.Seconds(), "s", batch, 1)
		}
		emit("native_train_images_per_sec", perSec, "images/s", batch, 1)
	}
	if workers > 1 {
		batch := model.DefaultConfig().BatchSize
		_, perSec, err := trainSpeed(backend, train, batch, workers, steps)
		if err != nil {
			return err
		}
		emit("native_train_images_per_sec", perSec, "images/s", batch, workers)
	}
	perSec, err := inferSpeed(backend, test, inferBatch)
	if err != nil {
		return err
	}
	emit("native_infer_images_per_sec", perSec, "images/s", inferBatch, 0)
	emit("native_peak_rss_mb", peakRSSMB(), "MB", 0, 0)
	return nil
}

// trainSpeed times one compile step and then steps steady-state steps at the given batch size,
// with workers replicas sharing each batch.
func trainSpeed(backend backends.Backend, train *mnist.Dataset, batch, workers, steps int) (first time.Duration, perSec float64, err error) {
	cfg := model.DefaultConfig()
	cfg.BatchSize, cfg.Epochs, cfg.TrainImages, cfg.LossImages = batch, 1, batch*(steps+1), batch
	if workers > 1 {
		if backend, err = model.GoBackendPerCore(); err != nil {
			return 0, 0, err
		}
	}
	replicas := make([]*model.Model, workers)
	for i := range replicas {
		if replicas[i], err = model.New(backend, cfg); err != nil {
			return 0, 0, err
		}
	}
	start := time.Now()
	var firstDone time.Time
	_, err = model.TrainReplicas(context.Background(), replicas, train, model.TrainOptions{OnProgress: func(p model.Progress) {
		if p.Step == 1 {
			firstDone = time.Now()
		}
		if p.Step == p.Steps {
			perSec = float64((p.Steps-1)*batch) / time.Since(firstDone).Seconds()
		}
	}})
	return firstDone.Sub(start), perSec, err
}

// inferSpeed times predictions on batch test images, after one warm-up (compiling) call.
func inferSpeed(backend backends.Backend, test *mnist.Dataset, batch int) (float64, error) {
	m, err := model.New(backend, model.DefaultConfig())
	if err != nil {
		return 0, err
	}
	images := test.Slice(0, batch).Images
	if _, err := m.Predict(images); err != nil {
		return 0, err
	}
	const runs = 3
	start := time.Now()
	for range runs {
		if _, err := m.Predict(images); err != nil {
			return 0, err
		}
	}
	return float64(runs*test.Slice(0, batch).Len()) / time.Since(start).Seconds(), nil
}

// peakRSSMB reads the process's peak resident memory (VmHWM) from /proc; 0 where there is none.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
