package model

// The notebook's optimiser is TF 1.x's tf.compat.v1.train.AdamOptimizer(0.005), whose update
// differs from GoMLX's Adam (and from the paper's "ε after bias correction" form): TF adds ε to
// √v before correcting for bias, and folds both corrections into the step size. For parameters
// whose gradients are tiny, √v is of the order of ε, and the two forms' steps differ severalfold.
//
//	lr_t = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ)
//	m    = β₁·m + (1 − β₁)·g
//	v    = β₂·v + (1 − β₂)·g²
//	θ    = θ − lr_t · m / (√v + ε)
//
// with β₁ = 0.9, β₂ = 0.999, ε = 1e-8, and t counting steps from 1 (TF keeps β₁ᵗ and β₂ᵗ as
// variables, multiplied by β after each step; so do we).

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	mlctx "github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnist-trainer/mnist/kernels"
)

// TF 1.x AdamOptimizer's defaults.
const (
	adamBeta1   = 0.9
	adamBeta2   = 0.999
	adamEpsilon = 1e-8
)

// adamState is the optimiser's state: a first and second moment per parameter, and β₁ᵗ, β₂ᵗ.
// It lives in the model's context, so every training graph (whole-batch, on-device, sharded)
// updates the same variables.
type adamState struct {
	m, v                   map[string]*mlctx.Variable // by ParamSpec.Name
	beta1Power, beta2Power *mlctx.Variable            // β₁ᵗ and β₂ᵗ for the next step
}

// newAdamState creates zero moments for cfg's parameters in ctx's "adam" scope.
func newAdamState(ctx *mlctx.Context, cfg Config) *adamState {
	scope := ctx.In("adam")
	s := &adamState{m: make(map[string]*mlctx.Variable), v: make(map[string]*mlctx.Variable)}
	for _, p := range cfg.Params() {
		zeros := func() *tensors.Tensor { return tensors.FromShape(shapes.Make(dtypes.Float32, p.Shape...)) }
		s.m[p.Name] = scope.In(p.Name).VariableWithValue("m", zeros()).SetTrainable(false)
		s.v[p.Name] = scope.In(p.Name).VariableWithValue("v", zeros()).SetTrainable(false)
	}
	s.beta1Power = scope.VariableWithValue("beta1_power", float32(adamBeta1)).SetTrainable(false)
	s.beta2Power = scope.VariableWithValue("beta2_power", float32(adamBeta2)).SetTrainable(false)
	return s
}

// update adds to the graph of grads one Adam step of the model's parameters, given the
// gradient of each (grads[i] is that of specs[i]), at learning rate lr.
func (s *adamState) update(params map[string]*mlctx.Variable, specs []ParamSpec, grads []*Node, lr float64) {
	g := grads[0].Graph()
	b1p, b2p := s.beta1Power.ValueGraph(g), s.beta2Power.ValueGraph(g)
	one := ScalarOne(g, dtypes.Float32)
	lrT := MulScalar(Div(Sqrt(Sub(one, b2p)), Sub(one, b1p)), lr)
	for i, grad := range grads {
		name := specs[i].Name
		m := Add(MulScalar(s.m[name].ValueGraph(g), adamBeta1), MulScalar(grad, 1-adamBeta1))
		v := Add(MulScalar(s.v[name].ValueGraph(g), adamBeta2), MulScalar(Square(grad), 1-adamBeta2))
		theta := params[name].ValueGraph(g)
		step := Mul(lrT, Div(m, AddScalar(Sqrt(v), adamEpsilon)))
		s.m[name].SetValueGraph(m)
		s.v[name].SetValueGraph(v)
		params[name].SetValueGraph(Sub(theta, step))
	}
	s.beta1Power.SetValueGraph(MulScalar(b1p, adamBeta1))
	s.beta2Power.SetValueGraph(MulScalar(b2p, adamBeta2))
}

// applyOnHost is update done by this process on the tensors themselves, for backends whose
// buffers are this process's memory (simplego: HasSharedBuffers), and the same bits: one pass of
// kernels.AdamStep32 over each parameter, its moments and its gradient (grads[i] is that of
// specs[i]), where update's graph makes twelve full passes (11% of a native step, 7% of one in
// WebAssembly, by the per-op probe). The state is the same variables update uses, made shared
// with the backend (hostFlat) so that the step's graphs read what this writes, without copies.
// A model keeps to one of the two: a graph that updates a variable donates its buffer, which a
// shared one cannot be.
func (s *adamState) applyOnHost(backend backends.Backend, params map[string]*mlctx.Variable, specs []ParamSpec, grads [][]float32, lr float64) error {
	b1p, err := hostFlat(backend, s.beta1Power)
	if err != nil {
		return err
	}
	b2p, err := hostFlat(backend, s.beta2Power)
	if err != nil {
		return err
	}
	// lr_t as update's graph computes it, in float32: MulScalar(Div(Sqrt(1 − β₂ᵗ), 1 − β₁ᵗ), lr).
	lrT := float32(float32(float32(math.Sqrt(float64(float32(1-b2p[0]))))/float32(1-b1p[0])) * float32(lr))
	// The constants as update's graph gets them: MulScalar and AddScalar take a float64, which
	// the graph rounds to float32.
	c := kernels.AdamCoefficients{B1: float32(float64(adamBeta1)), C1: float32(float64(1 - adamBeta1)),
		B2: float32(float64(adamBeta2)), C2: float32(float64(1 - adamBeta2)), LR: lrT, Eps: float32(float64(adamEpsilon))}
	for i, p := range specs {
		if len(grads[i]) != p.Size() {
			return fmt.Errorf("adam: %s: gradient of %d values, want %d", p.Name, len(grads[i]), p.Size())
		}
		theta, err := hostFlat(backend, params[p.Name])
		if err != nil {
			return err
		}
		m, err := hostFlat(backend, s.m[p.Name])
		if err != nil {
			return err
		}
		v, err := hostFlat(backend, s.v[p.Name])
		if err != nil {
			return err
		}
		kernels.AdamStep32(theta, m, v, grads[i], c)
	}
	b1p[0] *= c.B1
	b2p[0] *= c.B2
	return nil
}

// hostFlat returns v's float32 values for this process to change in place, where the backend's
// graphs read them: v's tensor, made shared with backend first (a copy, once) if it is not.
func hostFlat(backend backends.Backend, v *mlctx.Variable) ([]float32, error) {
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	if !t.IsShared() {
		var shared *tensors.Tensor // FromFlatDataAndDimensions copies f
		if err := tensors.ConstFlatData(t, func(f []float32) { shared = tensors.FromFlatDataAndDimensions(f, t.Shape().Dimensions...) }); err != nil {
			return nil, err
		}
		if err := shared.MaterializeOnDevice(backend, true, 0); err != nil {
			return nil, err
		}
		if !shared.IsShared() {
			return nil, fmt.Errorf("adam: backend %s gave %s no shared buffer", backend.Name(), v.ScopeAndName())
		}
		if err := v.SetValue(shared); err != nil {
			return nil, err
		}
		t = shared
	}
	var flat []float32
	err = tensors.MutableFlatData(t, func(f []float32) { flat = f })
	return flat, err
}
