package model

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// TestAdamIsTF1 applies five steps of fixed gradients, some tiny (where TF 1.x's ε, added to √v
// before bias correction, matters most), and compares every parameter with TF 1.x
// AdamOptimizer's update written out in float64.
func TestAdamIsTF1(t *testing.T) {
	cfg := smallConfig(64)
	m := newTestModel(t, cfg)
	params := cfg.Params()
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = make([]float32, p.Size())
		for j := range grads[i] {
			// Magnitudes from 1e-9 (below ε) to 1, both signs.
			grads[i][j] = float32(math.Pow(10, -float64((i+j)%10)) * float64(1-2*(j%2)))
		}
	}
	exec, err := mlctx.NewExec(m.backend, m.ctx, func(ctx *mlctx.Context, in []*Node) *Node {
		m.applyGradients(in)
		return ScalarZero(in[0].Graph(), in[0].DType())
	})
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]float64, len(params))
	mom := make([][]float64, len(params))
	vel := make([][]float64, len(params))
	for i, p := range params {
		for _, v := range flatValue(t, m, p.Name) {
			want[i] = append(want[i], float64(v))
		}
		mom[i], vel[i] = make([]float64, p.Size()), make([]float64, p.Size())
	}
	lr := cfg.LearningRate
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	// TF keeps β₁ᵗ and β₂ᵗ in float32 variables and computes 1 − β₂ᵗ in float32, which loses
	// about 1e-5 of it at t = 1 (0.999 is not a float32): the formula below does the same.
	b1p, b2p := float32(beta1), float32(beta2)
	for step := 1; step <= 5; step++ {
		args := make([]any, len(params))
		for i, p := range params {
			args[i] = tensors.FromFlatDataAndDimensions(grads[i], p.Shape...)
		}
		if _, err := exec.Exec(args...); err != nil {
			t.Fatal(err)
		}
		lrT := lr * math.Sqrt(float64(1-b2p)) / float64(1-b1p)
		b1p, b2p = b1p*beta1, b2p*beta2
		for i := range params {
			for j, g := range grads[i] {
				mom[i][j] = beta1*mom[i][j] + (1-beta1)*float64(g)
				vel[i][j] = beta2*vel[i][j] + (1-beta2)*float64(g)*float64(g)
				want[i][j] -= lrT * mom[i][j] / (math.Sqrt(vel[i][j]) + eps)
			}
		}
		for i, p := range params {
			got := flatValue(t, m, p.Name)
			for j := range got {
				// float32 arithmetic: steps are at most lr ≈ 5e-3, each good to ~1e-6 of itself.
				if d := math.Abs(float64(got[j]) - want[i][j]); d > 1e-6*math.Abs(want[i][j])+1e-8 {
					t.Fatalf("step %d: %s[%d] = %.9g, TF 1.x Adam gives %.9g (gradient %g)", step, p.Name, j, got[j], want[i][j], grads[i][j])
				}
			}
		}
	}
}
