package kernels_test

import (
	"os"
	"testing"

	_ "github.com/gomlx/gomlx/backends/simplego"
	"github.com/mnist-trainer/mnist/kernels"
)

// TestKernelsInUse fails when the build was meant to have the kernels (make sets
// MNIST_EXPECT_SIMD=1) but simplego runs without them: GOEXPERIMENT=simd missing, or vendor/
// made without kernels/_simplego (scripts/simd-vendor.sh). Whether they really run is checked
// per family by the call counters in simplego_test.go and by the model's tests.
func TestKernelsInUse(t *testing.T) {
	active := kernels.Active()
	t.Logf("kernels: %s, %v", kernels.Summary(), active)
	if os.Getenv("MNIST_EXPECT_SIMD") == "" {
		t.Skip("MNIST_EXPECT_SIMD is not set: this build may run simplego as shipped")
	}
	if len(active) == 0 {
		t.Fatal("no SIMD kernel registered with simplego: build with GOEXPERIMENT=simd after scripts/simd-vendor.sh (make does both)")
	}
	if kernels.Lanes() < 4 {
		t.Fatalf("%d float32 lanes: simd is emulated or missing", kernels.Lanes())
	}
}
