package model

import (
	"context"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/mnist-trainer/mnist/internal/mnisttest"
	"github.com/mnist-trainer/mnist/kernels"
)

// withKernels runs fn with the SIMD kernels switched on or off (simplego's own executors),
// skipping the test in a build without them.
func withKernels(tb testing.TB, on bool, fn func()) {
	tb.Helper()
	if len(kernels.Active()) == 0 {
		tb.Skip("built without the SIMD kernels (GOEXPERIMENT=simd and scripts/simd-vendor.sh)")
	}
	kernels.SetEnabled(on)
	defer kernels.SetEnabled(true)
	fn()
}

// TestKernelsMatchGenericGradients computes the whole-batch gradients of every parameter with the
// kernels and with simplego's own executors. They differ by float rounding only: the matrix
// kernel sums in another order, with fused multiply-adds; everything else rounds the same.
func TestKernelsMatchGenericGradients(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	cfg := smallConfig(64)
	const batch = 37 // no multiple of any tile
	images, labels := testBatch(train, batch)
	exec := gradientExec(t, newTestModel(t, cfg))
	grads := func(on bool) (out [][]float32) {
		withKernels(t, on, func() {
			before := kernels.Calls("DotGeneral/f32")
			res, err := exec.Exec(imageTensor(images), tensors.FromFlatDataAndDimensions(labels, batch))
			if err != nil {
				t.Fatal(err)
			}
			if ran := kernels.Calls("DotGeneral/f32") > before; ran != on {
				t.Fatalf("kernels switched on=%v, but the matrix kernel ran=%v", on, ran)
			}
			for _, r := range res {
				out = append(out, flat(r))
			}
		})
		return out
	}
	got, want := grads(true), grads(false)
	if d := math.Abs(float64(got[len(got)-1][0] - want[len(want)-1][0])); d > 1e-6 {
		t.Errorf("loss %g with the kernels, %g without", got[len(got)-1][0], want[len(want)-1][0])
	}
	worst := 0.0
	for i, p := range cfg.Params() {
		var diff, norm float64
		for j := range want[i] {
			diff += math.Pow(float64(got[i][j]-want[i][j]), 2)
			norm += math.Pow(float64(want[i][j]), 2)
		}
		rel := math.Sqrt(diff / norm)
		worst = max(worst, rel)
		if rel > 5e-5 { // measured: 6e-6 at most
			t.Errorf("gradient of %s differs by %.2g (relative L2) with the kernels", p.Name, rel)
		}
	}
	t.Logf("largest relative L2 difference of a gradient: %.2g", worst)
}

// TestKernelsMatchGenericTraining trains the same model for a few steps with and without the
// kernels, and compares the step losses.
func TestKernelsMatchGenericTraining(t *testing.T) {
	train, _ := mnisttest.Sets(t)
	cfg := smallConfig(8 * 32)
	cfg.BatchSize = 32
	run := func(on bool) (losses []float64) {
		withKernels(t, on, func() {
			if _, err := newTestModel(t, cfg).Train(context.Background(), train, TrainOptions{
				OnProgress: func(p Progress) { losses = append(losses, p.Loss) }}); err != nil {
				t.Fatal(err)
			}
		})
		return losses
	}
	got, want := run(true), run(false)
	worst := 0.0
	for step := range want {
		d := math.Abs(got[step]-want[step]) / want[step]
		worst = max(worst, d)
		// Adam's first steps amplify rounding: by step 8, measured 1.2e-4 natively, and in
		// WebAssembly 3.3e-4 before the normalisation multiplied by reciprocals, 9.7e-4 after,
		// 1.3e-3 with Winograd's separable transforms (model/winograd.go). A kernel that computed
		// something else would be off by far more from the first step, and
		// TestKernelsMatchGenericGradients checks one step's gradients to 5e-5.
		if d > 3e-3 {
			t.Errorf("step %d: loss %.6f with the kernels, %.6f without", step+1, got[step], want[step])
		}
	}
	t.Logf("step losses with the kernels %.5f, without %.5f; largest relative difference %.2g", got, want, worst)
}
