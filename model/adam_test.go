package model

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"
)

// adamGrads returns fixed gradients for cfg's parameters, of magnitudes from 1e-9 (below ε) to
// 1, both signs.
func adamGrads(cfg Config) [][]float32 {
	params := cfg.Params()
	grads := make([][]float32, len(params))
	for i, p := range params {
		grads[i] = make([]float32, p.Size())
		for j := range grads[i] {
			grads[i][j] = float32(math.Pow(10, -float64((i+j)%10)) * float64(1-2*(j%2)))
		}
	}
	return grads
}

// adamStepper returns a function that applies one Adam step of the given gradients to m: in a
// graph (adamState.update), or in this process (adamState.applyOnHost).
func adamStepper(t *testing.T, m *Model, onHost bool) func(grads [][]float32) {
	params := m.cfg.Params()
	if onHost {
		return func(grads [][]float32) {
			if err := m.applyGradientsOnHost(grads); err != nil {
				t.Fatal(err)
			}
		}
	}
	exec, err := mlctx.NewExec(m.backend, m.ctx, func(ctx *mlctx.Context, in []*Node) *Node {
		m.applyGradients(in)
		return ScalarZero(in[0].Graph(), in[0].DType())
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(grads [][]float32) {
		args := make([]any, len(params))
		for i, p := range params {
			args[i] = tensors.FromFlatDataAndDimensions(grads[i], p.Shape...)
		}
		if _, err := exec.Exec(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAdamOnHostIsTheGraph applies eight steps of the same gradients in a graph and in this
// process, on two models, and requires the same bits of every parameter after each: the step's
// graphs and the model's weights files must not tell which one trained.
func TestAdamOnHostIsTheGraph(t *testing.T) {
	cfg := smallConfig(64)
	inGraph, onHost := newTestModel(t, cfg), newTestModel(t, cfg)
	graphStep, hostStep := adamStepper(t, inGraph, false), adamStepper(t, onHost, true)
	grads := adamGrads(cfg)
	for step := 1; step <= 8; step++ {
		graphStep(grads)
		hostStep(grads)
		for _, p := range cfg.Params() {
			want, got := flatValue(t, inGraph, p.Name), flatValue(t, onHost, p.Name)
			for j := range want {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("step %d: %s[%d] = %.9g on the host, %.9g in the graph", step, p.Name, j, got[j], want[j])
				}
			}
		}
	}
	if !onHost.hostAdam {
		t.Fatal("simplego's models do not apply Adam on the host")
	}
}

// TestAdamIsTF1 applies five steps of fixed gradients, some tiny (where TF 1.x's ε, added to √v
// before bias correction, matters most), in a graph and in this process, and compares every
// parameter with TF 1.x AdamOptimizer's update written out in float64.
func TestAdamIsTF1(t *testing.T) {
	for _, onHost := range []bool{false, true} {
		testAdamIsTF1(t, onHost)
	}
}

func testAdamIsTF1(t *testing.T, onHost bool) {
	cfg := smallConfig(64)
	m := newTestModel(t, cfg)
	params := cfg.Params()
	grads := adamGrads(cfg)
	apply := adamStepper(t, m, onHost)
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
		apply(grads)
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
					t.Fatalf("on the host %v, step %d: %s[%d] = %.9g, TF 1.x Adam gives %.9g (gradient %g)", onHost, step, p.Name, j, got[j], want[i][j], grads[i][j])
				}
			}
		}
	}
}
